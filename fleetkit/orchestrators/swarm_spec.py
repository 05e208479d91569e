"""ServiceSpec -> Docker service spec JSON: set only the named fields, list what changes.

`apply(current, spec)` starts from the service's current spec (fetched, never
rebuilt), sets each field the user named and returns the spec to send with the
names of the fields whose value differs. Values compare after normalising what
the engine treats as equal (absent == empty, env as a mapping, constraint order),
so a second run with the same arguments changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import (
    HealthCheck,
    Mount,
    Port,
    Resources,
    RestartPolicy,
    ServiceSpec,
    UpdatePolicy,
)

Json = dict[str, Any]
NS = 1_000_000_000

IMAGE = ("TaskTemplate", "ContainerSpec", "Image")
REPLICAS = ("Mode", "Replicated", "Replicas")


def ns(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * NS)


def get(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """tree[a][b]... or None when any level is missing."""
    node: Any = tree
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def put(tree: Json, path: tuple[str, ...], value: Any) -> None:
    """Set tree[a][b]... = value, creating levels (None removes the key)."""
    node = tree
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


ABSENT: tuple[Any, ...] = (None, {}, [], "", 0, False)


def normalise(value: Any) -> Any:
    """Drop what the engine treats as absent, recursively: None, empty, and the zero
    values its JSON omits (`omitempty`: a Delay of 0 comes back as no Delay)."""
    if isinstance(value, Mapping):
        out = {k: normalise(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _absent(v)}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    return value


def _absent(value: Any) -> bool:
    return any(value is a or (type(value) is type(a) and value == a) for a in ABSENT)


def strip_digest(image: str) -> str:
    """'repo:tag@sha256:...' -> 'repo:tag' (the CLI pins digests; users name tags)."""
    return image.split("@", 1)[0]


def same_image(current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    return current == wanted or ("@" not in wanted and strip_digest(current) == wanted)


def env_map(env: Any) -> dict[str, str]:
    """Env as 'K=V' strings -> mapping (the engine keeps a list; order does not matter)."""
    out: dict[str, str] = {}
    for item in env or []:
        key, _, value = str(item).partition("=")
        out[key] = value
    return out


# JSON fragments for each kind of named value ------------------------------------------------


def ports_json(ports: tuple[Port, ...]) -> list[Json]:
    out = []
    for p in ports:
        item: Json = {"Protocol": p.protocol, "TargetPort": p.target, "PublishMode": p.mode}
        if p.published is not None:
            item["PublishedPort"] = p.published
        out.append(item)
    return out


def _policy_json(policy: UpdatePolicy) -> Json:
    return {
        k: v
        for k, v in {
            "Parallelism": policy.parallelism,
            "Delay": ns(policy.delay_s),
            "Monitor": ns(policy.monitor_s),
            "FailureAction": policy.failure_action,
            "Order": policy.order,
            "MaxFailureRatio": policy.max_failure_ratio,
        }.items()
        if v is not None
    }


def _resources_json(current: Any, r: Resources) -> Json:
    out: Json = copy.deepcopy(current) if isinstance(current, dict) else {}
    for section, cpus, memory in (
        ("Limits", r.cpu_limit, r.memory_limit),
        ("Reservations", r.cpu_reservation, r.memory_reservation),
    ):
        if cpus is not None:
            put(out, (section, "NanoCPUs"), round(cpus * NS))
        if memory is not None:
            put(out, (section, "MemoryBytes"), memory)
    return out


def _healthcheck_json(h: HealthCheck) -> Json:
    test = list(h.test)
    if test and test[0] not in ("NONE", "CMD", "CMD-SHELL"):
        test = ["CMD-SHELL", " ".join(test)]
    out: Json = {"Test": test}
    for key, value in (
        ("Interval", ns(h.interval_s)),
        ("Timeout", ns(h.timeout_s)),
        ("Retries", h.retries),
        ("StartPeriod", ns(h.start_period_s)),
    ):
        if value is not None:
            out[key] = value
    return out


def _restart_json(r: RestartPolicy) -> Json:
    return {
        k: v
        for k, v in {
            "Condition": r.condition,
            "Delay": ns(r.delay_s),
            "MaxAttempts": r.max_attempts,
            "Window": ns(r.window_s),
        }.items()
        if v is not None
    }


def _mount_json(m: Mount) -> Json:
    """The engine's Mount: ReadOnly is sent only when true (as the engine reports it)."""
    out: Json = {"Type": m.type, "Target": m.target}
    if m.source:
        out["Source"] = m.source
    if m.readonly:
        out["ReadOnly"] = True
    return out


def _merged(current: Any, named: Json) -> Json:
    base: Json = copy.deepcopy(current) if isinstance(current, dict) else {}
    base.update(named)
    return base


# the named fields -----------------------------------------------------------------------------


def _named(spec: ServiceSpec, current: Json) -> list[tuple[str, tuple[str, ...], Any]]:
    """(field, JSON path, wanted value at that path) for every field spec names."""
    out: list[tuple[str, tuple[str, ...], Any]] = []
    path: tuple[str, ...]
    if spec.replicas is not None:
        out.append(("replicas", REPLICAS, spec.replicas))
    if spec.command is not None:
        out.append(("command", ("TaskTemplate", "ContainerSpec", "Command"), list(spec.command)))
    if spec.args is not None:
        out.append(("args", ("TaskTemplate", "ContainerSpec", "Args"), list(spec.args)))
    if spec.env is not None:
        env = [f"{k}={v}" for k, v in spec.env.items()]
        out.append(("env", ("TaskTemplate", "ContainerSpec", "Env"), env))
    if spec.labels is not None:
        out.append(("labels", ("Labels",), dict(spec.labels)))
    if spec.swarm.container_labels is not None:
        path = ("TaskTemplate", "ContainerSpec", "Labels")
        out.append(("container_labels", path, dict(spec.swarm.container_labels)))
    if spec.swarm.mounts is not None:
        path = ("TaskTemplate", "ContainerSpec", "Mounts")
        out.append(("mounts", path, [_mount_json(m) for m in spec.swarm.mounts]))
    if spec.ports is not None:
        out.append(("ports", ("EndpointSpec", "Ports"), ports_json(spec.ports)))
    if spec.swarm.endpoint_mode is not None:
        out.append(("endpoint_mode", ("EndpointSpec", "Mode"), spec.swarm.endpoint_mode))
    if spec.swarm.constraints is not None:
        path = ("TaskTemplate", "Placement", "Constraints")
        out.append(("constraints", path, list(spec.swarm.constraints)))
    if spec.swarm.max_replicas_per_node is not None:
        path = ("TaskTemplate", "Placement", "MaxReplicas")
        out.append(("max_replicas_per_node", path, spec.swarm.max_replicas_per_node))
    if spec.resources is not None:
        path = ("TaskTemplate", "Resources")
        out.append(("resources", path, _resources_json(get(current, path), spec.resources)))
    if spec.healthcheck is not None:
        path = ("TaskTemplate", "ContainerSpec", "Healthcheck")
        out.append(("healthcheck", path, _healthcheck_json(spec.healthcheck)))
    if spec.stop_grace_period_s is not None:
        path = ("TaskTemplate", "ContainerSpec", "StopGracePeriod")
        out.append(("stop_grace_period", path, ns(spec.stop_grace_period_s)))
    if spec.swarm.restart_policy is not None:
        path = ("TaskTemplate", "RestartPolicy")
        wanted = _merged(get(current, path), _restart_json(spec.swarm.restart_policy))
        out.append(("restart_policy", path, wanted))
    if spec.update_config is not None:
        wanted = _merged(get(current, ("UpdateConfig",)), _policy_json(spec.update_config))
        out.append(("update_config", ("UpdateConfig",), wanted))
    if spec.rollback_config is not None:
        wanted = _merged(get(current, ("RollbackConfig",)), _policy_json(spec.rollback_config))
        out.append(("rollback_config", ("RollbackConfig",), wanted))
    return out


def _equal(field: str, before: Any, after: Any) -> bool:
    if field == "env":
        return env_map(before) == env_map(after)
    if field == "constraints":
        return sorted(before or []) == sorted(after or [])
    if field == "mounts":
        return _mount_keys(before) == _mount_keys(after)
    if field == "ports":
        norm_before = sorted((_port_defaults(p) for p in before or []), key=_port_key)
        return norm_before == sorted(normalise(after or []), key=_port_key)
    if field == "endpoint_mode":
        return bool((before or "vip") == after)
    if field == "replicas":
        return bool(before == after)
    return bool(normalise({"v": before}) == normalise({"v": after}))


def _mount_keys(mounts: Any) -> list[tuple[str, str, str, bool]]:
    """What a mount list means, without the defaults the engine adds (BindOptions...)."""
    return sorted(
        (
            str(m.get("Target")),
            str(m.get("Type")),
            str(m.get("Source") or ""),
            bool(m.get("ReadOnly")),
        )
        for m in mounts or []
        if isinstance(m, Mapping)
    )


def _port_key(p: Mapping[str, Any]) -> tuple[int, str]:
    return (int(p.get("TargetPort") or 0), str(p.get("Protocol") or "tcp"))


def _port_defaults(p: Mapping[str, Any]) -> Json:
    out = normalise(dict(p))
    out.setdefault("Protocol", "tcp")
    out.setdefault("PublishMode", "ingress")
    return dict(out)


def skeleton(spec: ServiceSpec) -> Json:
    """The minimal spec of a new service (image required)."""
    if not spec.image:
        raise OrchestratorError(
            f"service {spec.name} does not exist: an image is needed to create it"
        )
    return {
        "Name": spec.name,
        "Labels": {},
        "TaskTemplate": {"ContainerSpec": {"Image": spec.image}},
        "Mode": {"Replicated": {"Replicas": 1}},
    }


def apply(current: Json | None, spec: ServiceSpec) -> tuple[Json, list[str]]:
    """The spec to send (current with the named fields set) and the fields that change.

    `current` is the service's Spec as inspected (None: the service is new, every
    named field counts as a change).
    """
    base = copy.deepcopy(current) if current is not None else skeleton(spec)
    if get(base, ("Mode", "Global")) is not None and spec.replicas is not None:
        raise OrchestratorError(f"service {spec.name} is global: it has no replica count")
    changed: list[str] = []
    if spec.image is not None and not same_image(get(base, IMAGE), spec.image):
        put(base, IMAGE, spec.image)
        changed.append("image")
    for field, path, wanted in _named(spec, base):
        if not _equal(field, get(base, path), wanted):
            put(base, path, wanted)
            changed.append(field)
    if spec.force_update:
        current_force = get(base, ("TaskTemplate", "ForceUpdate")) or 0
        put(base, ("TaskTemplate", "ForceUpdate"), int(current_force) + 1)
        changed.append("force_update")
    if current is None:
        changed = ["created", *changed]
    return base, changed


def spec_image(spec: Mapping[str, Any]) -> str:
    return str(get(spec, IMAGE) or "")


def spec_replicas(spec: Mapping[str, Any]) -> int | None:
    value = get(spec, REPLICAS)
    return None if value is None else int(value)
