"""Read a swarm's nodes, services and tasks into the frozen status values.

Pure functions over Engine API JSON, so the CLI, the swarm_status module and
the convergence probes share one reading of "running", "down" and "where".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fleetkit.orchestrators.base import ClusterStatus, Endpoint, NodeStatus, ServiceStatus
from fleetkit.orchestrators.engine import Json
from fleetkit.orchestrators.swarm_spec import get, spec_image, spec_replicas

FAILED_STATES = frozenset({"failed", "rejected"})


def is_running(task: Mapping[str, Any]) -> bool:
    """A task that should run and does."""
    return task.get("DesiredState") == "running" and get(task, ("Status", "State")) == "running"


def task_image(task: Mapping[str, Any]) -> str:
    return str(get(task, ("Spec", "ContainerSpec", "Image")) or "")


def task_error(task: Mapping[str, Any]) -> str:
    status = task.get("Status") or {}
    return str(status.get("Err") or status.get("Message") or status.get("State") or "")


def node_address(node: Mapping[str, Any]) -> str:
    """The node's address (a manager may report 0.0.0.0: use its raft address then)."""
    addr = str(get(node, ("Status", "Addr")) or "")
    if addr in ("", "0.0.0.0"):
        raft = str(get(node, ("ManagerStatus", "Addr")) or "")
        addr = raft.rsplit(":", 1)[0] if raft else addr
    return addr


def node_status(node: Mapping[str, Any]) -> NodeStatus:
    manager = node.get("ManagerStatus") or {}
    role = get(node, ("Spec", "Role")) or "worker"
    return NodeStatus(
        id=str(node.get("ID", "")),
        hostname=str(get(node, ("Description", "Hostname")) or node.get("ID", "")),
        role="manager" if role == "manager" else "worker",
        state=str(get(node, ("Status", "State")) or "unknown"),
        availability=str(get(node, ("Spec", "Availability")) or "active"),
        address=node_address(node),
        leader=bool(manager.get("Leader", False)),
        reachability=str(manager.get("Reachability", "")),
        labels=dict(get(node, ("Spec", "Labels")) or {}),
        engine_version=str(get(node, ("Description", "Engine", "EngineVersion")) or ""),
    )


def service_status(
    service: Mapping[str, Any], tasks: Iterable[Mapping[str, Any]], nodes: Sequence[NodeStatus]
) -> ServiceStatus:
    """A service's counts, where its tasks run (per node) and their host-mode endpoints.

    `running` counts the tasks the engine wants running that run: not the engine's
    RunningTasks, which also counts old tasks still stopping after a scale-down.
    """
    by_id = {n.id: n for n in nodes}
    spec = service.get("Spec") or {}
    image = spec_image(spec)
    counts = service.get("ServiceStatus") or {}
    replicas = spec_replicas(spec)
    desired = int(counts.get("DesiredTasks", replicas if replicas is not None else 0))
    per_node: Counter[str] = Counter()
    endpoints: list[Endpoint] = []
    errors: list[str] = []
    running = 0
    for task in tasks:
        node = by_id.get(str(task.get("NodeID", "")))
        if is_running(task):
            running += 1
            name = node.hostname if node else str(task.get("NodeID", "?"))
            per_node[name] += 1
            # the engine lists a host-mode port once per address family (IPv4, IPv6)
            for port in get(task, ("Status", "PortStatus", "Ports")) or []:
                if port.get("PublishedPort") and node is not None:
                    endpoints.append(
                        Endpoint(
                            node.hostname,
                            node.address,
                            int(port["PublishedPort"]),
                            str(port.get("Protocol", "tcp")),
                        )
                    )
        elif get(task, ("Status", "State")) in FAILED_STATES:
            errors.append(task_error(task))
    update = service.get("UpdateStatus") or {}
    return ServiceStatus(
        name=str(spec.get("Name", "")),
        image=image,
        desired=desired,
        running=running,
        mode="global" if "Global" in (spec.get("Mode") or {}) else "replicated",
        update_state=update.get("State"),
        update_message=str(update.get("Message", "")),
        per_node=dict(sorted(per_node.items())),
        endpoints=tuple(sorted(set(endpoints), key=lambda e: (e.node, e.port))),
        errors=tuple(dict.fromkeys(e for e in errors if e))[:5],
    )


def cluster_warnings(nodes: Sequence[NodeStatus]) -> list[str]:
    """Even manager counts, unreachable managers and down nodes, as sentences."""
    out: list[str] = []
    managers = [n for n in nodes if n.role == "manager"]
    if managers and len(managers) % 2 == 0:
        out.append(
            f"{len(managers)} managers: an even count tolerates no more failures than"
            f" {len(managers) - 1}; use an odd number (1, 3, 5)"
        )
    bad = [n.hostname for n in managers if n.reachability not in ("", "reachable")]
    if bad:
        quorum = len(managers) // 2 + 1
        left = len(managers) - len(bad)
        state = "quorum kept" if left >= quorum else "QUORUM LOST"
        out.append(f"managers unreachable: {', '.join(bad)} ({left}/{len(managers)}, {state})")
    down = [n.hostname for n in nodes if n.state != "ready"]
    if down:
        out.append(f"nodes not ready: {', '.join(down)}")
    return out


def cluster_status(
    source: str, nodes_json: Sequence[Json], services_json: Sequence[Json], tasks: Sequence[Json]
) -> ClusterStatus:
    """The whole swarm from one manager's node, service and task lists."""
    nodes = tuple(sorted((node_status(n) for n in nodes_json), key=lambda n: n.hostname))
    by_service: dict[str, list[Json]] = {}
    for task in tasks:
        by_service.setdefault(str(task.get("ServiceID", "")), []).append(task)
    services = tuple(
        sorted(
            (service_status(s, by_service.get(str(s.get("ID")), []), nodes) for s in services_json),
            key=lambda s: s.name,
        )
    )
    return ClusterStatus(source, nodes, services, tuple(cluster_warnings(nodes)))
