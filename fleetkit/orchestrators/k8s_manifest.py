"""ServiceSpec -> the apply bodies of a Deployment and its Service (docs/k8s-driver.md).

`deployment_body` starts from the fields fleetkit's manager owns on the live
object (k8s_fields) and sets only what the spec names: None keeps the current
value, an empty value (`()`, `{}`) clears it. `view` reads the same fields back
from any Deployment, so changed fields are a comparison of two views.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import HealthCheck, Port, Resources, ServiceSpec, UpdatePolicy
from fleetkit.orchestrators.k8s_fields import Json, owned_fields, owned_subset

FIELD_MANAGER = "fleetkit"
NAME_LABEL = "app.kubernetes.io/name"
MANAGED_LABEL = "app.kubernetes.io/managed-by"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH = "pod-template-hash"
ROLLED_BACK = "fleetkit.io/rolled-back-to-revision"
"""Set by fleetkit's rollbacks to the revision the rollback became: while the Deployment
is at that revision it is rolled back already (as Swarm's rollback_completed)."""


def base_labels(name: str) -> dict[str, str]:
    return {NAME_LABEL: name, MANAGED_LABEL: FIELD_MANAGER}


def selector(name: str) -> dict[str, str]:
    return {NAME_LABEL: name}


def _owned(live: Json | None) -> Json:
    if live is None:
        return {}
    return dict(owned_subset(live, owned_fields(live, FIELD_MANAGER)))


def _container(body: Json, name: str) -> Json:
    pod = body.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
    containers = pod.setdefault("containers", [])
    for c in containers:
        if c.get("name") == name:
            return dict(c)
    return {"name": name}


def _set(target: Json, key: str, value: Any) -> None:
    """Set key, or drop it when value is empty (the user cleared it: the server removes it)."""
    if value in (None, [], {}, ""):
        target.pop(key, None)
    else:
        target[key] = value


def cpu_quantity(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def _resources(r: Resources) -> Json:
    limits: Json = {}
    requests: Json = {}
    if r.cpu_limit is not None:
        limits["cpu"] = cpu_quantity(r.cpu_limit)
    if r.memory_limit is not None:
        limits["memory"] = str(r.memory_limit)
    if r.cpu_reservation is not None:
        requests["cpu"] = cpu_quantity(r.cpu_reservation)
    if r.memory_reservation is not None:
        requests["memory"] = str(r.memory_reservation)
    out: Json = {}
    _set(out, "limits", limits)
    _set(out, "requests", requests)
    return out


def _probe(h: HealthCheck) -> Json | None:
    """A Docker-style test as an exec readinessProbe; ("NONE",) or () removes the probe."""
    test = list(h.test)
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        command = ["/bin/sh", "-c", " ".join(test[1:])]
    elif test[0] == "CMD":
        command = test[1:]
    else:
        command = test
    probe: Json = {"exec": {"command": command}}
    for key, value in (
        ("periodSeconds", h.interval_s),
        ("timeoutSeconds", h.timeout_s),
        ("failureThreshold", h.retries),
        ("initialDelaySeconds", h.start_period_s),
    ):
        if value is not None:
            probe[key] = max(1, math.ceil(value)) if key != "initialDelaySeconds" else int(value)
    return probe


def _container_ports(ports: tuple[Port, ...]) -> list[Json]:
    out: list[Json] = []
    for p in ports:
        entry: Json = {"containerPort": p.target, "protocol": p.protocol.upper()}
        if p.mode == "host":
            entry["hostPort"] = p.published or p.target
        out.append(entry)
    return out


def strategy(policy: UpdatePolicy | None, spec: ServiceSpec, current: Json) -> Json | None:
    """update_config.parallelism/order and k8s.max_surge/max_unavailable -> RollingUpdate.

    stop-first (Swarm's default): maxSurge 0, maxUnavailable = parallelism;
    start-first: maxSurge = parallelism, maxUnavailable 0. parallelism 0 (all at
    once) is 100%. The k8s block's values win. None when nothing is named.
    """
    k8s = spec.k8s
    named = policy is not None and (policy.parallelism is not None or policy.order is not None)
    if not named and k8s.max_surge is None and k8s.max_unavailable is None:
        return None
    rolling = dict((current.get("rollingUpdate") or {}) if current else {})
    if named and policy is not None:
        n: int | str = policy.parallelism if policy.parallelism is not None else 1
        step = "100%" if n == 0 else n
        if (policy.order or "stop-first") == "start-first":
            rolling.update(maxSurge=step, maxUnavailable=0)
        else:
            rolling.update(maxSurge=0, maxUnavailable=step)
    if k8s.max_surge is not None:
        rolling["maxSurge"] = k8s.max_surge
    if k8s.max_unavailable is not None:
        rolling["maxUnavailable"] = k8s.max_unavailable
    return {"type": "RollingUpdate", "rollingUpdate": rolling}


def ignored_fields(spec: ServiceSpec) -> tuple[str, ...]:
    """Named fields that have no Kubernetes equivalent (warned about, never silently dropped)."""
    out = []
    u = spec.update_config
    if u is not None and u.delay_s:
        out.append("update_config.delay_s")
    if u is not None and u.max_failure_ratio:
        out.append("update_config.max_failure_ratio")
    if spec.rollback_config is not None:
        out.append("rollback_config")
    return tuple(out)


def deployment_body(spec: ServiceSpec, live: Json | None, namespace: str, *, now: str = "") -> Json:
    """The apply body: fleetkit's owned fields of live, with what spec names set on top."""
    name = spec.name
    body = _owned(live)
    body.update(apiVersion="apps/v1", kind="Deployment")
    meta = body.setdefault("metadata", {})
    meta.update(name=name, namespace=namespace)
    meta.pop("managedFields", None)
    if spec.labels is not None:
        meta["labels"] = {**dict(spec.labels), **base_labels(name)}
    else:
        meta["labels"] = {**(meta.get("labels") or {}), **base_labels(name)}
    dspec = body.setdefault("spec", {})
    dspec["selector"] = {"matchLabels": selector(name)}
    if spec.replicas is not None:
        if spec.replicas < 0:
            raise OrchestratorError(f"replicas must be 0 or more, got {spec.replicas}")
        dspec["replicas"] = spec.replicas
    template = dspec.setdefault("template", {})
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), **selector(name)}
    if spec.force_update:
        tmeta["annotations"] = {**(tmeta.get("annotations") or {}), RESTARTED_AT: now}
    pod = template.setdefault("spec", {})
    container = _container(body, name)
    if spec.image is not None:
        container["image"] = spec.image
    if live is None and not container.get("image"):
        raise OrchestratorError(f"deployment {name} does not exist: give an image to create it")
    if spec.command is not None:
        _set(container, "command", list(spec.command))
    if spec.args is not None:
        _set(container, "args", list(spec.args))
    if spec.env is not None:
        env = [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
        _set(container, "env", env)
    if spec.ports is not None:
        _set(container, "ports", _container_ports(spec.ports))
    if spec.resources is not None:
        _set(container, "resources", _resources(spec.resources))
    if spec.healthcheck is not None:
        _set(container, "readinessProbe", _probe(spec.healthcheck))
    if spec.k8s.image_pull_policy is not None:
        container["imagePullPolicy"] = spec.k8s.image_pull_policy
    pod["containers"] = [container]
    if spec.stop_grace_period_s is not None:
        pod["terminationGracePeriodSeconds"] = math.ceil(spec.stop_grace_period_s)
    if spec.k8s.node_selector is not None:
        _set(pod, "nodeSelector", dict(spec.k8s.node_selector))
    if spec.k8s.progress_deadline_s is not None:
        dspec["progressDeadlineSeconds"] = spec.k8s.progress_deadline_s
    if spec.k8s.revision_history_limit is not None:
        dspec["revisionHistoryLimit"] = spec.k8s.revision_history_limit
    if spec.update_config is not None and spec.update_config.monitor_s is not None:
        dspec["minReadySeconds"] = math.ceil(spec.update_config.monitor_s)
    rolling = strategy(spec.update_config, spec, dspec.get("strategy") or {})
    if rolling is not None:
        dspec["strategy"] = rolling
    return body


def rollback_body(live: Json, template: Json, *, becomes: str) -> Json:
    """fleetkit's owned fields of live with the pod template of an older ReplicaSet,
    marked (ROLLED_BACK) with the revision number the rollback becomes."""
    body = _owned(live)
    body.update(apiVersion="apps/v1", kind="Deployment")
    meta = body.setdefault("metadata", {})
    meta.pop("managedFields", None)
    meta.update(name=live["metadata"]["name"], namespace=live["metadata"]["namespace"])
    meta["annotations"] = {**(meta.get("annotations") or {}), ROLLED_BACK: becomes}
    old = copy.deepcopy(template)
    labels = (old.get("metadata") or {}).get("labels") or {}
    labels.pop(TEMPLATE_HASH, None)  # the controller adds it to a ReplicaSet's copy
    old.get("metadata", {}).pop("creationTimestamp", None)
    body.setdefault("spec", {})["template"] = old
    return body


def service_body(spec: ServiceSpec, live: Json | None, namespace: str) -> Json | None:
    """The Service for the spec's ingress ports; None: leave the Service as it is.

    Named ports without an ingress one mean "no Service": the caller deletes it.
    """
    if spec.ports is None and spec.k8s.service_type is None:
        return None
    name = spec.name
    body = _owned(live)
    body.update(apiVersion="v1", kind="Service")
    meta = body.setdefault("metadata", {})
    meta.pop("managedFields", None)
    meta.update(name=name, namespace=namespace)
    labels = dict(spec.labels) if spec.labels is not None else meta.get("labels") or {}
    meta["labels"] = {**labels, **base_labels(name)}
    sspec = body.setdefault("spec", {})
    sspec["selector"] = selector(name)
    ingress = [p for p in spec.ports or () if p.mode == "ingress"]
    if spec.ports is not None and not ingress:
        return {}
    kind = spec.k8s.service_type
    if kind is None and spec.ports is not None:
        kind = "NodePort" if any(p.published for p in ingress) else "ClusterIP"
    if kind == "None":  # headless
        sspec.update(type="ClusterIP", clusterIP="None")
    elif kind is not None:
        sspec["type"] = kind
    if spec.ports is not None:
        ports = []
        for p in ingress:
            entry: Json = {
                "name": f"{p.protocol}-{p.target}",
                "port": p.published or p.target,
                "targetPort": p.target,
                "protocol": p.protocol.upper(),
            }
            if p.published and sspec.get("type") == "NodePort":
                entry["nodePort"] = p.published
            ports.append(entry)
        sspec["ports"] = ports
    return body


def _first_container(dep: Json) -> Json:
    containers = dep.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
    return dict(containers[0])


def view(dep: Json | None) -> dict[str, Any]:
    """The ServiceSpec-level fields of a Deployment, for comparing before and after."""
    if not dep:
        return {}
    spec = dep.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    tmeta = (spec.get("template") or {}).get("metadata") or {}
    c = _first_container(dep)
    labels = {
        k: v
        for k, v in ((dep.get("metadata") or {}).get("labels") or {}).items()
        if k not in (NAME_LABEL, MANAGED_LABEL)
    }
    return {
        "image": c.get("image"),
        "replicas": spec.get("replicas"),
        "command": c.get("command"),
        "args": c.get("args"),
        "env": c.get("env"),
        "labels": labels,
        "ports": c.get("ports"),
        "resources": c.get("resources") or None,
        "healthcheck": c.get("readinessProbe"),
        "stop_grace_period": pod.get("terminationGracePeriodSeconds"),
        "update_config": (spec.get("strategy"), spec.get("minReadySeconds")),
        "force_update": (tmeta.get("annotations") or {}).get(RESTARTED_AT),
        "k8s.node_selector": pod.get("nodeSelector"),
        "k8s.image_pull_policy": c.get("imagePullPolicy"),
        "k8s.progress_deadline_s": spec.get("progressDeadlineSeconds"),
        "k8s.revision_history_limit": spec.get("revisionHistoryLimit"),
    }


def changed_fields(before: Json | None, after: Json | None) -> list[str]:
    """The view fields that differ between two Deployments, in view order."""
    a, b = view(before), view(after)
    return [k for k in b if a.get(k) != b.get(k)]


def service_view(svc: Json | None) -> Any:
    if not svc:
        return None
    spec = svc.get("spec") or {}
    ports = [
        {k: p.get(k) for k in ("port", "targetPort", "protocol", "nodePort")}
        for p in spec.get("ports") or ()
    ]
    labels = (svc.get("metadata") or {}).get("labels") or {}
    return (spec.get("type"), spec.get("clusterIP") == "None", ports, labels)


def template_of(dep: Json) -> Json:
    return dict((dep.get("spec") or {}).get("template") or {})


def as_mapping(value: Mapping[str, Any] | None) -> Json:
    return dict(value or {})
