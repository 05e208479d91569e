"""Swarm membership: init, join, leave and node changes (availability, labels, role).

Each reads the engine's own view first and changes only what differs. A node in
another swarm is an error, never a silent leave-and-rejoin; leaving demotes a
manager first and refuses to remove the last manager or to break quorum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Change, Secret, WaitOptions
from fleetkit.orchestrators.convergence import Observation, WaitPolicy, wait_for
from fleetkit.orchestrators.engine import Engine, EngineConflict, Json
from fleetkit.orchestrators.swarm_spec import get
from fleetkit.orchestrators.swarm_status import node_status

SWARM_PORT = 2377
DEFAULT_LISTEN = f"0.0.0.0:{SWARM_PORT}"


@dataclass(frozen=True)
class LocalSwarm:
    """What one engine says about its own swarm membership (`docker info` .Swarm)."""

    state: str
    node_id: str
    node_addr: str
    is_manager: bool
    cluster_id: str
    remote_managers: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class JoinTokens:
    """The swarm's join tokens, as secrets."""

    worker: Secret
    manager: Secret

    def as_facts(self) -> dict[str, Secret]:
        return {"worker": self.worker, "manager": self.manager}


@dataclass(frozen=True)
class SwarmInfo:
    """What the joining hosts need from the first manager (tokens stay secret)."""

    cluster_id: str
    node_id: str
    manager_addr: str
    tokens: JoinTokens


def local_swarm(engine: Engine) -> LocalSwarm:
    swarm = engine.info().get("Swarm") or {}
    return LocalSwarm(
        state=str(swarm.get("LocalNodeState") or "inactive"),
        node_id=str(swarm.get("NodeID") or ""),
        node_addr=str(swarm.get("NodeAddr") or ""),
        is_manager=bool(swarm.get("ControlAvailable")),
        cluster_id=str(get(swarm, ("Cluster", "ID")) or ""),
        remote_managers=tuple(str(m.get("Addr", "")) for m in swarm.get("RemoteManagers") or []),
    )


def with_port(addr: str) -> str:
    """'10.0.0.1' -> '10.0.0.1:2377' (an address with a port is kept)."""
    if addr.startswith("[") or addr.count(":") == 1:
        return addr
    return f"{addr}:{SWARM_PORT}"


def _host(addr: str) -> str:
    return addr.rsplit(":", 1)[0] if addr.count(":") == 1 else addr


def swarm_info(engine: Engine, local: LocalSwarm) -> SwarmInfo:
    data = engine.swarm_inspect()
    tokens = data.get("JoinTokens") or {}
    return SwarmInfo(
        cluster_id=str(data.get("ID", "")),
        node_id=local.node_id,
        manager_addr=with_port(local.node_addr),
        tokens=JoinTokens(
            Secret(str(tokens.get("Worker", ""))), Secret(str(tokens.get("Manager", "")))
        ),
    )


def init(
    engine: Engine, *, advertise_addr: str, listen_addr: str = DEFAULT_LISTEN, check: bool = False
) -> tuple[Change, SwarmInfo | None]:
    """Make this engine the first manager of a new swarm (ok when it already manages one)."""
    local = local_swarm(engine)
    if local.active and local.is_manager:
        return Change(False, f"already a manager of swarm {local.cluster_id[:12]}"), swarm_info(
            engine, local
        )
    if local.active:
        raise OrchestratorError(
            f"{engine.host} is a worker of another swarm"
            f" (managers {', '.join(local.remote_managers)}); it cannot start a new one",
            hint="run swarm_leave on it first if it should move",
        )
    if local.state not in ("inactive",):
        raise OrchestratorError(f"{engine.host}: swarm state is {local.state}: cannot init")
    if check:
        return Change(True, "would initialise a new swarm"), None
    engine.swarm_init(advertise_addr=advertise_addr, listen_addr=listen_addr)
    local = local_swarm(engine)
    info = swarm_info(engine, local)
    return Change(True, f"initialised swarm {info.cluster_id[:12]} at {info.manager_addr}"), info


def join(
    engine: Engine,
    *,
    token: Secret | None,
    remote_addrs: Sequence[str],
    role: str,
    advertise_addr: str,
    listen_addr: str = DEFAULT_LISTEN,
    cluster_id: str = "",
    check: bool = False,
) -> Change:
    """Join this engine to the swarm at remote_addrs (ok when it is already in it)."""
    local = local_swarm(engine)
    wanted = [with_port(a) for a in remote_addrs]
    if local.active:
        if not _same_swarm(local, wanted, cluster_id):
            where = ", ".join(local.remote_managers) or local.cluster_id or "unknown managers"
            raise OrchestratorError(
                f"{engine.host} is already in another swarm ({where}), not the one at"
                f" {', '.join(wanted)}; it will not leave it silently",
                hint="run swarm_leave on it first if it should move to this swarm",
            )
        actual = "manager" if local.is_manager else "worker"
        if actual != role:
            raise OrchestratorError(
                f"{engine.host} is a {actual} of this swarm, wanted a {role}",
                hint=f"change its role with swarm_node (role: {role}) on a manager",
            )
        return Change(False, f"already a {actual} of this swarm")
    if local.state != "inactive":
        raise OrchestratorError(f"{engine.host}: swarm state is {local.state}: cannot join")
    if check:
        return Change(True, f"would join the swarm at {', '.join(wanted)} as a {role}")
    if token is None or not token:
        raise OrchestratorError("no join token: run swarm_init on the first manager in this run")
    try:
        engine.swarm_join(
            remote_addrs=wanted,
            token=token,
            advertise_addr=advertise_addr,
            listen_addr=listen_addr,
        )
    except OrchestratorError as err:
        raise OrchestratorError(redact(err.message, token)) from None
    return Change(True, f"joined the swarm at {', '.join(wanted)} as a {role}")


def redact(text: str, secret: Secret) -> str:
    """text with the secret's value masked (engine errors may echo what they were sent)."""
    value = secret.reveal()
    return text.replace(value, Secret.MASK) if value else text


def _same_swarm(local: LocalSwarm, wanted: Sequence[str], cluster_id: str) -> bool:
    if cluster_id and local.cluster_id:
        return local.cluster_id == cluster_id
    known = {_host(a) for a in local.remote_managers}
    return any(_host(a) in known for a in wanted)


# membership changes ---------------------------------------------------------------------------


def quorum_after(nodes: Sequence[Json], losing: str) -> tuple[int, int, bool]:
    """(managers left, reachable managers left, quorum kept) if node `losing` stops managing."""
    managers = [n for n in nodes if get(n, ("Spec", "Role")) == "manager"]
    left = [n for n in managers if n.get("ID") != losing]
    reachable = [n for n in left if get(n, ("ManagerStatus", "Reachability")) == "reachable"]
    return len(left), len(reachable), len(reachable) > len(left) // 2


def _check_demote(nodes: Sequence[Json], node: Json, host: str) -> None:
    name = get(node, ("Description", "Hostname")) or node.get("ID")
    left, reachable, kept = quorum_after(nodes, str(node.get("ID")))
    if left == 0:
        raise OrchestratorError(
            f"{name} is the last manager: demoting it or leaving would destroy the swarm",
            hint="promote another node first",
        )
    if not kept:
        raise OrchestratorError(
            f"demoting {name} would break quorum: {reachable} of {left} remaining managers"
            " reachable (more than half needed)",
            hint="bring the unreachable managers back first",
        )


def find_node(engine: Engine, name: str) -> Json:
    """The node whose hostname, ID or ID prefix is name."""
    nodes = engine.nodes()
    for node in nodes:
        if name in (get(node, ("Description", "Hostname")), node.get("ID")):
            return node
    matches = [n for n in nodes if str(n.get("ID", "")).startswith(name)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(sorted(str(get(n, ("Description", "Hostname"))) for n in nodes))
    raise OrchestratorError(f"no swarm node named {name} (nodes: {known})")


def update_node(
    engine: Engine,
    name: str,
    *,
    availability: str | None = None,
    labels: Mapping[str, str] | None = None,
    remove_labels: Sequence[str] = (),
    role: str | None = None,
    wait: WaitOptions | None = None,
    check: bool = False,
) -> Change:
    """Set a node's availability, labels or role; a drain waits until its tasks moved."""
    for attempt in range(3):
        node = find_node(engine, name)
        spec: dict[str, Any] = dict(node.get("Spec") or {})
        changes: list[str] = []
        if availability is not None and spec.get("Availability", "active") != availability:
            spec["Availability"] = availability
            changes.append(f"availability {availability}")
        if labels is not None or remove_labels:
            current = dict(spec.get("Labels") or {})
            new = {**current, **(labels or {})}
            for key in remove_labels:
                new.pop(key, None)
            if new != current:
                spec["Labels"] = new
                changes.append("labels")
        if role is not None and spec.get("Role", "worker") != role:
            if role == "worker":
                _check_demote(engine.nodes(), node, engine.host)
            spec["Role"] = role
            changes.append("promoted" if role == "manager" else "demoted")
        if not changes:
            return _drained(engine, node, availability, wait, check, changed=False, text="")
        if check:
            return Change(True, f"would change {name}: {', '.join(changes)}")
        try:
            engine.node_update(str(node["ID"]), int(get(node, ("Version", "Index")) or 0), spec)
        except EngineConflict:
            if attempt == 2:
                raise
            continue
        role_changed = role is not None and ("promoted" in changes or "demoted" in changes)
        if role_changed and role is not None and wait is not None and wait.wait:
            _wait_role(engine, str(node["ID"]), role, wait)
        return _drained(
            engine, node, availability, wait, check, changed=True, text=", ".join(changes)
        )
    raise OrchestratorError(f"node {name}: updates kept conflicting")


def _wait_role(engine: Engine, node_id: str, role: str, wait: WaitOptions) -> None:
    """Until a promoted node is a reachable raft member (or a demoted one left raft):
    a manager counts towards quorum only from then on."""

    def probe() -> Observation:
        manager = engine.node(node_id).get("ManagerStatus") or {}
        reachable = manager.get("Reachability") == "reachable"
        done = reachable if role == "manager" else not manager
        return Observation("done" if done else "waiting", message=f"waiting for {role} role")

    report = wait_for(probe, wait.policy, api_calls=lambda: engine.calls, sleep=wait.sleep)
    if not report.converged:
        raise OrchestratorError(f"node {node_id}: the {role} role did not settle: {report.reason}")


def _drained(
    engine: Engine,
    node: Json,
    availability: str | None,
    wait: WaitOptions | None,
    check: bool,
    *,
    changed: bool,
    text: str,
) -> Change:
    name = str(get(node, ("Description", "Hostname")) or node.get("ID"))
    message = f"{name}: {text}" if changed else f"{name} is as wanted"
    if availability != "drain" or wait is None or not wait.wait or check:
        return Change(changed, message)
    node_id = str(node["ID"])

    def probe() -> Observation:
        # every container still running there, including tasks that are shutting down
        left = [
            t for t in engine.tasks(node_id=node_id) if get(t, ("Status", "State")) == "running"
        ]
        services = engine.services()
        behind = [
            str(get(s, ("Spec", "Name")))
            for s in services
            if (s.get("ServiceStatus") or {}).get("RunningTasks")
            != (s.get("ServiceStatus") or {}).get("DesiredTasks")
        ]
        if not left and not behind:
            return Observation("done", 0, 0, f"no task left on {name}, every service converged")
        detail = f"{len(left)} tasks left on {name}"
        if behind:
            detail += f"; not converged: {', '.join(behind[:5])}"
        return Observation("waiting", 0, len(left), detail)

    report = wait_for(
        probe,
        wait.policy,
        label=name,
        progress=wait.progress,
        api_calls=lambda: engine.calls,
        sleep=wait.sleep,
    )
    if report.converged:
        return Change(changed, f"{message}; {report.reason} ({report.summary()})", wait=report)
    return Change(changed, f"{message}; FAILED: {report.reason}", failed=True, wait=report)


def remove_node(engine: Engine, name: str, *, force: bool = False, check: bool = False) -> Change:
    """Remove a node that left (down) from the node list; a live node needs force."""
    try:
        node = find_node(engine, name)
    except OrchestratorError:
        return Change(False, f"node {name} is absent")
    status = node_status(node)
    if status.role == "manager":
        raise OrchestratorError(f"{name} is a manager: demote it before removing it")
    if status.state != "down" and not force:
        raise OrchestratorError(
            f"{name} is {status.state}: leave the swarm on it first (or force the removal)"
        )
    if check:
        return Change(True, f"would remove node {name}")
    engine.node_remove(status.id, force=force)
    return Change(True, f"removed node {name}")


def leave(engine: Engine, *, check: bool = False, policy: WaitPolicy | None = None) -> Change:
    """Leave the swarm; a manager is demoted first (never the last one, never below quorum)."""
    local = local_swarm(engine)
    if not local.active:
        return Change(False, "not in a swarm")
    steps: list[str] = []
    if local.is_manager:
        nodes = engine.nodes()
        me = next((n for n in nodes if n.get("ID") == local.node_id), None)
        if me is None:
            raise OrchestratorError(f"{engine.host}: its own node is not in the node list")
        _check_demote(nodes, me, engine.host)
        if check:
            return Change(True, "would demote this manager and leave the swarm")
        spec = dict(me.get("Spec") or {})
        spec["Role"] = "worker"
        engine.node_update(local.node_id, int(get(me, ("Version", "Index")) or 0), spec)
        steps.append("demoted")

        def demoted() -> Observation:
            still = local_swarm(engine).is_manager
            return Observation("waiting" if still else "done", message="waiting for demotion")

        report = wait_for(
            demoted, policy or WaitPolicy(timeout_s=60), api_calls=lambda: engine.calls
        )
        if not report.converged:
            raise OrchestratorError(f"{engine.host}: demotion did not complete: {report.reason}")
    elif check:
        return Change(True, "would leave the swarm")
    engine.swarm_leave(force=False)
    steps.append("left the swarm")
    return Change(True, ", ".join(steps))
