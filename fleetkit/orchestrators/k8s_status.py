"""Nodes, Deployments and Pods (as JSON) -> fleetkit's neutral status types.

Roles come from node-role.kubernetes.io/* labels (a control-plane node is a
"manager"); a cordoned node's availability is "pause" (no new pods, like Swarm's
pause); per-node counts are the deployment's ready pods grouped by spec.nodeName;
endpoints are host-mode ports (hostPort) of ready pods at their node's InternalIP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from fleetkit.orchestrators.base import Endpoint, NodeStatus, ServiceStatus
from fleetkit.orchestrators.k8s_fields import Json
from fleetkit.orchestrators.k8s_rollout import observe, revision

ROLE_PREFIX = "node-role.kubernetes.io/"
MANAGER_ROLES = frozenset({"control-plane", "master", "etcd"})
POD_PROBLEMS = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff", "CreateContainerConfigError"}
)


def node_roles(node: Json) -> tuple[str, ...]:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return tuple(sorted(k[len(ROLE_PREFIX) :] for k in labels if k.startswith(ROLE_PREFIX)))


def node_ready(node: Json) -> bool:
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def node_address(node: Json) -> str:
    for a in (node.get("status") or {}).get("addresses") or ():
        if a.get("type") == "InternalIP":
            return str(a.get("address", ""))
    return ""


def node_status(node: Json) -> NodeStatus:
    meta = node.get("metadata") or {}
    roles = node_roles(node)
    info = (node.get("status") or {}).get("nodeInfo") or {}
    return NodeStatus(
        id=str(meta.get("uid") or meta.get("name", "")),
        hostname=str(meta.get("name", "")),
        role="manager" if MANAGER_ROLES & set(roles) else "worker",
        state="ready" if node_ready(node) else "down",
        availability="pause" if (node.get("spec") or {}).get("unschedulable") else "active",
        address=node_address(node),
        labels=MappingProxyType(dict(meta.get("labels") or {})),
        engine_version=str(info.get("kubeletVersion", "")),
    )


def pod_ready(pod: Json) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )


def selects(selector: Mapping[str, str], pod: Json) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pods_of(dep: Json, pods: Iterable[Json]) -> list[Json]:
    """The deployment's pods: same namespace, matching its selector's matchLabels."""
    meta = dep.get("metadata") or {}
    match = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return [
        p
        for p in pods
        if (p.get("metadata") or {}).get("namespace") == meta.get("namespace")
        and match
        and selects(match, p)
    ]


def _pod_problem(pod: Json) -> str:
    for cs in (pod.get("status") or {}).get("containerStatuses") or ():
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in POD_PROBLEMS:
            name = (pod.get("metadata") or {}).get("name", "")
            return f"{name}: {waiting['reason']}: {waiting.get('message', '')}".rstrip(": ")
    return ""


def service_name(dep: Json, default_namespace: str) -> str:
    meta = dep.get("metadata") or {}
    ns = str(meta.get("namespace", default_namespace))
    name = str(meta.get("name", ""))
    return name if ns == default_namespace else f"{ns}/{name}"


def deployment_status(
    dep: Json, pods: Iterable[Json], nodes: Iterable[Json], default_namespace: str = "default"
) -> ServiceStatus:
    """A Deployment as a ServiceStatus: desired/available, rollout state, per-node ready pods."""
    spec = dep.get("spec") or {}
    status = dep.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    image = str(containers[0].get("image", ""))
    want = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    mine = pods_of(dep, pods)
    addresses = {str((n.get("metadata") or {}).get("name")): node_address(n) for n in nodes}
    per_node: dict[str, int] = {}
    endpoints: list[Endpoint] = []
    host_ports = [
        (int(p["hostPort"]), str(p.get("protocol", "TCP")).lower())
        for p in containers[0].get("ports") or ()
        if p.get("hostPort")
    ]
    for pod in mine:
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        if not node or not pod_ready(pod):
            continue
        per_node[node] = per_node.get(node, 0) + 1
        for port, proto in host_ports:
            endpoints.append(Endpoint(node, addresses.get(node, ""), port, proto))
    obs = observe(dep)
    state = {"done": "completed", "failed": "failed", "waiting": "updating"}[obs.state]
    rev = revision(dep)
    message = f"{updated}/{want} updated, {available}/{want} available" + (
        f", revision {rev}" if rev else ""
    )
    if obs.state == "failed":
        message += f": {obs.message}"
    errors = tuple(e for e in (_pod_problem(p) for p in mine) if e)
    return ServiceStatus(
        name=service_name(dep, default_namespace),
        image=image,
        desired=want,
        running=available,
        mode="replicated",
        update_state=state,
        update_message=message,
        per_node=MappingProxyType(dict(sorted(per_node.items()))),
        endpoints=tuple(sorted(endpoints, key=lambda e: (e.node, e.port))),
        errors=errors,
    )
