"""Playbook arguments -> ServiceSpec, for any driver: ports, durations, sizes, policies.

Accepts what compose files and the docker CLI accept ('8080:80/udp', '1m30s',
'512M', {limits: {cpus, memory}}), so users write what they already know.
Every parser raises ValueError with a message that names the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from fleetkit.orchestrators.base import (
    EndpointMode,
    HealthCheck,
    K8sOptions,
    Mount,
    MountType,
    Port,
    PublishMode,
    Resources,
    RestartPolicy,
    ServiceSpec,
    SwarmOptions,
    UpdatePolicy,
)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)")
_UNITS_S = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_PORT = re.compile(r"^(?:(\d+):)?(\d+)(?:/(tcp|udp|sctp))?$")
PROTOCOLS = ("tcp", "udp", "sctp")
PUBLISH_MODES = ("ingress", "host")
ENDPOINT_MODES = ("vip", "dnsrr")
FAILURE_ACTIONS = ("pause", "continue", "rollback")
ORDERS = ("stop-first", "start-first")
CONDITIONS = ("none", "on-failure", "any")


def duration(value: Any) -> float:
    """Seconds from a number or a Go-style duration ('1m30s', '500ms')."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"duration {value} is negative")
        return float(value)
    text = str(value).strip()
    try:
        return duration(float(text))
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"expected a duration like 10s, 1m30s or 500ms, got {value!r}")
    return sum(float(n) * _UNITS_S[u] for n, u in parts)


def size(value: Any) -> int:
    """Bytes from a number or a size ('512M', '1g', '64k')."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size, got {value!r}")
    if isinstance(value, int):
        return value
    m = _SIZE.match(str(value).strip())
    if m is None:
        raise ValueError(f"expected a size like 512M or 1G, got {value!r}")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def _choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    text = str(value)
    if text not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, got {value!r}")
    return text


def _keys(data: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(
            f"{what}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})"
        )


def port(value: Any, default_mode: PublishMode = "ingress") -> Port:
    """80, '8080:80', '8080:80/udp' or {target, published, protocol, mode}."""
    if isinstance(value, Mapping):
        _keys(value, ("target", "published", "protocol", "mode"), "port")
        if "target" not in value:
            raise ValueError(f"port {dict(value)}: 'target' is required")
        published = value.get("published")
        return Port(
            target=int(value["target"]),
            published=None if published in (None, "") else int(published),
            protocol=cast(Any, _choice(value.get("protocol", "tcp"), PROTOCOLS, "port protocol")),
            mode=cast(
                PublishMode, _choice(value.get("mode", default_mode), PUBLISH_MODES, "port mode")
            ),
        )
    if isinstance(value, bool):
        raise ValueError(f"expected a port, got {value!r}")
    m = _PORT.match(str(value).strip())
    if m is None:
        raise ValueError(f"expected a port like 80, '8080:80' or '8080:80/udp', got {value!r}")
    published, target, protocol = m.groups()
    return Port(
        target=int(target),
        published=int(published) if published else None,
        protocol=cast(Any, protocol or "tcp"),
        mode=default_mode,
    )


def env(value: Any) -> dict[str, str]:
    """A mapping, or a list of 'K=V' strings."""
    if isinstance(value, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        out: dict[str, str] = {}
        for item in value:
            key, sep, val = str(item).partition("=")
            if not sep or not key:
                raise ValueError(f"env item {item!r} is not KEY=VALUE")
            out[key] = val
        return out
    raise ValueError(f"env must be a mapping or a list of KEY=VALUE, got {type(value).__name__}")


def string_map(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping, got {type(value).__name__}")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def resources(value: Mapping[str, Any]) -> Resources:
    """{limits: {cpus, memory}, reservations: {cpus, memory}} or flat cpu_limit/memory_limit..."""
    flat = ("cpu_limit", "memory_limit", "cpu_reservation", "memory_reservation")
    _keys(value, ("limits", "reservations", *flat), "resources")
    out: dict[str, Any] = {}
    for section in ("limits", "reservations"):
        inner = value.get(section)
        if inner is None:
            continue
        if not isinstance(inner, Mapping):
            raise ValueError(f"resources.{section} must be a mapping")
        _keys(inner, ("cpus", "memory"), f"resources.{section}")
        suffix = "limit" if section == "limits" else "reservation"
        if inner.get("cpus") is not None:
            out[f"cpu_{suffix}"] = float(inner["cpus"])
        if inner.get("memory") is not None:
            out[f"memory_{suffix}"] = size(inner["memory"])
    for key in flat:
        if value.get(key) is not None:
            out[key] = float(value[key]) if key.startswith("cpu") else size(value[key])
    return Resources(**out)


def healthcheck(value: Mapping[str, Any]) -> HealthCheck:
    """{test: 'cmd' | [CMD, ...], interval, timeout, retries, start_period}."""
    _keys(value, ("test", "interval", "timeout", "retries", "start_period"), "healthcheck")
    test = value.get("test")
    if test is None:
        raise ValueError("healthcheck: 'test' is required")
    words = (str(test),) if isinstance(test, str) else tuple(str(t) for t in test)
    return HealthCheck(
        test=words,
        interval_s=None if value.get("interval") is None else duration(value["interval"]),
        timeout_s=None if value.get("timeout") is None else duration(value["timeout"]),
        retries=None if value.get("retries") is None else int(value["retries"]),
        start_period_s=None
        if value.get("start_period") is None
        else duration(value["start_period"]),
    )


def update_policy(value: Mapping[str, Any], what: str = "update_config") -> UpdatePolicy:
    """{parallelism, delay, monitor, failure_action, order, max_failure_ratio}."""
    keys = ("parallelism", "delay", "monitor", "failure_action", "order", "max_failure_ratio")
    _keys(value, keys, what)
    action = value.get("failure_action")
    order = value.get("order")
    return UpdatePolicy(
        parallelism=None if value.get("parallelism") is None else int(value["parallelism"]),
        delay_s=None if value.get("delay") is None else duration(value["delay"]),
        monitor_s=None if value.get("monitor") is None else duration(value["monitor"]),
        failure_action=None
        if action is None
        else cast(Any, _choice(action, FAILURE_ACTIONS, f"{what}.failure_action")),
        order=None if order is None else cast(Any, _choice(order, ORDERS, f"{what}.order")),
        max_failure_ratio=None
        if value.get("max_failure_ratio") is None
        else float(value["max_failure_ratio"]),
    )


MOUNT_TYPES = ("bind", "volume", "tmpfs")


def mount(value: Any) -> Mount:
    """{source, target, type: bind|volume|tmpfs, readonly} (community.docker's names)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"mounts: each mount is a mapping of source and target, got {value!r}")
    _keys(value, ("source", "target", "type", "readonly"), "mount")
    kind = cast(MountType, _choice(value.get("type", "bind"), MOUNT_TYPES, "mount type"))
    target = str(value.get("target") or "")
    source = "" if value.get("source") is None else str(value["source"])
    if not target.startswith("/"):
        raise ValueError(f"mount {dict(value)}: 'target' must be an absolute path")
    if kind == "bind" and not source.startswith("/"):
        raise ValueError(f"mount {dict(value)}: a bind mount's 'source' is an absolute path")
    if kind == "volume" and not source:
        raise ValueError(f"mount {dict(value)}: a volume mount needs 'source' (the volume)")
    if kind == "tmpfs" and source:
        raise ValueError(f"mount {dict(value)}: a tmpfs mount has no 'source'")
    readonly = value.get("readonly", False)
    if not isinstance(readonly, bool):
        raise ValueError(f"mount {dict(value)}: 'readonly' is true or false")
    return Mount(target=target, source=source, type=kind, readonly=readonly)


def restart_policy(value: Mapping[str, Any]) -> RestartPolicy:
    """{condition, delay, max_attempts, window}."""
    _keys(value, ("condition", "delay", "max_attempts", "window"), "restart_policy")
    condition = value.get("condition")
    return RestartPolicy(
        condition=None
        if condition is None
        else cast(Any, _choice(condition, CONDITIONS, "restart_policy.condition")),
        delay_s=None if value.get("delay") is None else duration(value["delay"]),
        max_attempts=None if value.get("max_attempts") is None else int(value["max_attempts"]),
        window_s=None if value.get("window") is None else duration(value["window"]),
    )


def _words(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        import shlex

        return tuple(shlex.split(value))
    return tuple(str(v) for v in value)


def service_spec(args: Mapping[str, Any]) -> ServiceSpec:
    """A ServiceSpec from a module's coerced arguments (None = not named)."""
    mode = cast(
        PublishMode, _choice(args.get("publish_mode") or "ingress", PUBLISH_MODES, "publish_mode")
    )
    ports = args.get("ports")
    replicas = args.get("replicas")
    if replicas is not None and int(replicas) < 0:
        raise ValueError(f"replicas must be 0 or more, got {replicas}")
    return ServiceSpec(
        name=str(args["name"]),
        image=None if args.get("image") in (None, "") else str(args["image"]),
        replicas=None if replicas is None else int(replicas),
        command=None if args.get("command") is None else _words(args["command"]),
        args=None if args.get("args") is None else _words(args["args"]),
        env=None if args.get("env") is None else env(args["env"]),
        labels=None if args.get("labels") is None else string_map(args["labels"], "labels"),
        ports=None if ports is None else tuple(port(p, mode) for p in ports),
        resources=None if args.get("resources") is None else resources(args["resources"]),
        healthcheck=None if args.get("healthcheck") is None else healthcheck(args["healthcheck"]),
        stop_grace_period_s=None
        if args.get("stop_grace_period") is None
        else duration(args["stop_grace_period"]),
        update_config=None
        if args.get("update_config") is None
        else update_policy(args["update_config"]),
        rollback_config=None
        if args.get("rollback_config") is None
        else update_policy(args["rollback_config"], "rollback_config"),
        force_update=bool(args.get("force_update") or False),
        swarm=swarm_options({**args, **_block(args.get("swarm"), SWARM_KEYS, "swarm")}),
        k8s=k8s_options(_block(args.get("k8s"), K8S_KEYS, "k8s")),
    )


SWARM_KEYS = (
    "endpoint_mode",
    "constraints",
    "max_replicas_per_node",
    "restart_policy",
    "container_labels",
    "mounts",
)
K8S_KEYS = (
    "namespace",
    "service_type",
    "node_selector",
    "progress_deadline",
    "revision_history_limit",
    "image_pull_policy",
    "max_surge",
    "max_unavailable",
)
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def _block(value: Any, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping of {what}-only options, got {value!r}")
    _keys(value, allowed, what)
    return dict(value)


def swarm_options(args: Mapping[str, Any]) -> SwarmOptions:
    """The Swarm-only block: from `swarm: {...}` or (as before) the module's top level."""
    endpoint = args.get("endpoint_mode")
    return SwarmOptions(
        endpoint_mode=None
        if endpoint is None
        else cast(EndpointMode, _choice(endpoint, ENDPOINT_MODES, "endpoint_mode")),
        constraints=None
        if args.get("constraints") is None
        else tuple(str(c) for c in args["constraints"]),
        max_replicas_per_node=None
        if args.get("max_replicas_per_node") is None
        else int(args["max_replicas_per_node"]),
        restart_policy=None
        if args.get("restart_policy") is None
        else restart_policy(args["restart_policy"]),
        container_labels=None
        if args.get("container_labels") is None
        else string_map(args["container_labels"], "container_labels"),
        mounts=None if args.get("mounts") is None else _mounts(args["mounts"]),
    )


def _mounts(value: Any) -> tuple[Mount, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"mounts must be a list of mounts, got {type(value).__name__}")
    return tuple(mount(m) for m in value)


def _surge(value: Any, what: str) -> int | str:
    text = str(value).strip()
    if re.fullmatch(r"\d+%?", text) is None:
        raise ValueError(f"k8s.{what} must be a count or a percentage like 25%, got {value!r}")
    return text if text.endswith("%") else int(text)


def k8s_options(args: Mapping[str, Any]) -> K8sOptions:
    """The Kubernetes-only block, `k8s: {namespace, service_type, ...}`."""
    stype = args.get("service_type")
    pull = args.get("image_pull_policy")
    deadline = args.get("progress_deadline")
    history = args.get("revision_history_limit")
    return K8sOptions(
        namespace=None if args.get("namespace") in (None, "") else str(args["namespace"]),
        service_type=None
        if stype is None
        else cast(Any, _choice(stype, SERVICE_TYPES, "k8s.service_type")),
        node_selector=None
        if args.get("node_selector") is None
        else string_map(args["node_selector"], "k8s.node_selector"),
        progress_deadline_s=None if deadline is None else max(1, round(duration(deadline))),
        revision_history_limit=None if history is None else int(history),
        image_pull_policy=None
        if pull is None
        else cast(Any, _choice(pull, PULL_POLICIES, "k8s.image_pull_policy")),
        max_surge=None if args.get("max_surge") is None else _surge(args["max_surge"], "max_surge"),
        max_unavailable=None
        if args.get("max_unavailable") is None
        else _surge(args["max_unavailable"], "max_unavailable"),
    )
