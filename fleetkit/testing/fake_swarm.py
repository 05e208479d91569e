"""An in-memory swarm for unit tests: engines per host that converge a few tasks per poll.

`FakeSwarm` keeps nodes, services and tasks as Engine API JSON and advances one
step each time a manager lists services (as a real swarm advances between two
polls): tasks start, then run (or fail, for images in `bad_images`); updates
replace `Parallelism` tasks per step and follow FailureAction (pause or
rollback); tasks leave down or drained nodes. `engine(host)` gives an Engine.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from typing import Any

from fleetkit.orchestrators.base import Secret
from fleetkit.orchestrators.engine import EngineConflict, EngineError, EngineUnreachable, Json
from fleetkit.orchestrators.swarm_spec import get

NOT_MANAGER = (
    "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state."
)


class FakeSwarm:
    """The shared state behind every FakeEngine of one test."""

    def __init__(
        self,
        hosts: Iterable[str],
        *,
        bad_images: Iterable[str] = (),
        start_per_step: int = 4,
    ) -> None:
        self.addresses = {h: f"198.18.0.{i + 2}" for i, h in enumerate(hosts)}
        self.state = dict.fromkeys(self.addresses, "inactive")
        self.node_of: dict[str, str] = {}
        self.stopped: set[str] = set()
        self.bad_images = set(bad_images)
        self.start_per_step = start_per_step
        self.cluster_id = ""
        self.tokens = {
            "Worker": "SWMTKN-1-fakeca-workersecret",
            "Manager": "SWMTKN-1-fakeca-mgrsecret",
        }
        self.nodes: dict[str, Json] = {}
        self.services: dict[str, Json] = {}
        self.tasks: list[Json] = []
        self.join_requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._ports = itertools.count(30000)

    def engine(self, host: str) -> FakeEngine:
        return FakeEngine(self, host)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    # failures ----------------------------------------------------------------------------

    def stop(self, host: str) -> None:
        """The host's dockerd stops: its node goes down, a leader hands over."""
        self.stopped.add(host)
        node = self.nodes.get(self.node_of.get(host, ""))
        if node is None:
            return
        node["Status"]["State"] = "down"
        if "ManagerStatus" in node:
            was_leader = node["ManagerStatus"].pop("Leader", False)
            node["ManagerStatus"]["Reachability"] = "unreachable"
            if was_leader:
                for other in self.nodes.values():
                    if get(other, ("ManagerStatus", "Reachability")) == "reachable":
                        other["ManagerStatus"]["Leader"] = True
                        break

    def start(self, host: str) -> None:
        self.stopped.discard(host)
        node = self.nodes.get(self.node_of.get(host, ""))
        if node is not None and self.state[host] == "active":
            node["Status"]["State"] = "ready"
            if "ManagerStatus" in node:
                node["ManagerStatus"]["Reachability"] = "reachable"

    # membership --------------------------------------------------------------------------

    def add_node(self, host: str, role: str) -> str:
        node_id = self.new_id("node")
        node: Json = {
            "ID": node_id,
            "Version": {"Index": 1},
            "Spec": {"Role": role, "Availability": "active", "Labels": {}},
            "Description": {"Hostname": host, "Engine": {"EngineVersion": "20.10.24"}},
            "Status": {"State": "ready", "Addr": self.addresses[host]},
        }
        if role == "manager":
            node["ManagerStatus"] = {
                "Leader": not self.managers(),
                "Reachability": "reachable",
                "Addr": f"{self.addresses[host]}:2377",
            }
        self.nodes[node_id] = node
        self.node_of[host] = node_id
        self.state[host] = "active"
        return node_id

    def managers(self) -> list[Json]:
        return [n for n in self.nodes.values() if n["Spec"]["Role"] == "manager"]

    def is_manager(self, host: str) -> bool:
        node = self.nodes.get(self.node_of.get(host, ""))
        return (
            self.state[host] == "active" and node is not None and node["Spec"]["Role"] == "manager"
        )

    def set_role(self, node: Json, role: str) -> None:
        node["Spec"]["Role"] = role
        if role == "manager" and "ManagerStatus" not in node:
            addr = node["Status"]["Addr"]
            node["ManagerStatus"] = {"Reachability": "reachable", "Addr": f"{addr}:2377"}
        elif role == "worker":
            node.pop("ManagerStatus", None)

    # convergence -------------------------------------------------------------------------

    def eligible(self) -> list[str]:
        return [
            nid
            for nid, n in self.nodes.items()
            if n["Status"]["State"] == "ready" and n["Spec"]["Availability"] == "active"
        ]

    def live(self, service_id: str) -> list[Json]:
        return [
            t for t in self.tasks if t["ServiceID"] == service_id and t["DesiredState"] == "running"
        ]

    def step(self) -> None:
        """Advance every service one step towards its spec."""
        for service in list(self.services.values()):
            self._step_service(service)

    def _new_task(self, service: Json, node_id: str, slot: int) -> Json:
        template = copy.deepcopy(service["Spec"]["TaskTemplate"])
        ports = []
        for p in get(service, ("Spec", "EndpointSpec", "Ports")) or []:
            if p.get("PublishMode") == "host":
                published = p.get("PublishedPort") or next(self._ports)
                ports.append({**p, "PublishedPort": published})
        task: Json = {
            "ID": self.new_id("task"),
            "ServiceID": service["ID"],
            "NodeID": node_id,
            "Slot": slot,
            "Spec": template,
            "DesiredState": "running",
            "Status": {"State": "starting", "PortStatus": {"Ports": ports} if ports else {}},
        }
        self.tasks.append(task)
        return task

    def _place(self, service: Json, slot: int) -> Json | None:
        nodes = self.eligible()
        if not nodes:
            return None
        load = dict.fromkeys(nodes, 0)
        for t in self.live(service["ID"]):
            if t["NodeID"] in load:
                load[t["NodeID"]] += 1
        node_id = min(nodes, key=lambda n: (load[n], n))
        return self._new_task(service, node_id, slot)

    def _step_service(self, service: Json) -> None:
        sid = service["ID"]
        for task in self.live(sid):
            node = self.nodes.get(task["NodeID"])
            unavailable = node is None or node["Status"]["State"] != "ready"
            drained = node is not None and node["Spec"]["Availability"] == "drain"
            if unavailable or drained:
                task["DesiredState"] = "shutdown"
                task["Status"]["State"] = "shutdown"
            elif task["Status"]["State"] == "starting":
                image = task["Spec"]["ContainerSpec"]["Image"]
                if image in self.bad_images:
                    task["Status"] = {"State": "failed", "Err": "task: non-zero exit (1)"}
                    task["DesiredState"] = "shutdown"
                    self._on_failure(service, task)
                else:
                    task["Status"]["State"] = "running"
        self._update(service)
        self._scale(service)

    def _on_failure(self, service: Json, task: Json) -> None:
        status = service.get("UpdateStatus") or {}
        if status.get("State") != "updating":
            return
        action = get(service, ("Spec", "UpdateConfig", "FailureAction")) or "pause"
        why = f"update rolled back due to failure or early termination of task {task['ID']}"
        if action == "rollback" and service.get("PreviousSpec"):
            service["Spec"], service["PreviousSpec"] = service["PreviousSpec"], service["Spec"]
            service["UpdateStatus"] = {"State": "rollback_started", "Message": why}
            service["Version"]["Index"] += 1
        elif action == "pause":
            message = f"update paused due to failure or early termination of task {task['ID']}"
            service["UpdateStatus"] = {"State": "paused", "Message": message}

    def _update(self, service: Json) -> None:
        status = service.get("UpdateStatus") or {}
        if status.get("State") in ("paused", "rollback_paused"):
            return
        template = service["Spec"]["TaskTemplate"]
        live = self.live(service["ID"])
        dirty = [t for t in live if t["Spec"] != template]
        if not dirty:
            if status.get("State") == "updating":
                service["UpdateStatus"] = {"State": "completed", "Message": "update completed"}
            elif status.get("State") == "rollback_started":
                service["UpdateStatus"] = {
                    "State": "rollback_completed",
                    "Message": "rollback completed",
                }
            return
        if not status:
            service["UpdateStatus"] = {"State": "updating", "Message": "update in progress"}
        if any(t["Status"]["State"] == "starting" for t in live if t["Spec"] == template):
            return  # wait for the last batch to start (monitor)
        config_key = "RollbackConfig" if "rollback" in str(status.get("State")) else "UpdateConfig"
        parallelism = get(service, ("Spec", config_key, "Parallelism"))
        batch = dirty if parallelism == 0 else dirty[: parallelism or 1]
        for old in batch:
            old["DesiredState"] = "shutdown"
            old["Status"]["State"] = "shutdown"
            self._new_task(service, old["NodeID"], old["Slot"])

    def _scale(self, service: Json) -> None:
        want = get(service, ("Spec", "Mode", "Replicated", "Replicas"))
        live = self.live(service["ID"])
        if want is None:
            return
        if len(live) > want:
            for task in sorted(live, key=lambda t: t["Slot"])[want:]:
                task["DesiredState"] = "shutdown"
                task["Status"]["State"] = "shutdown"
            return
        used = {t["Slot"] for t in live}
        free = (s for s in itertools.count(1) if s not in used)
        for _ in range(min(self.start_per_step, want - len(live))):
            if self._place(service, next(free)) is None:
                break

    def counts(self, service: Json) -> Json:
        live = self.live(service["ID"])
        want = get(service, ("Spec", "Mode", "Replicated", "Replicas")) or 0
        running = sum(1 for t in live if t["Status"]["State"] == "running")
        return {"RunningTasks": running, "DesiredTasks": want}


class FakeEngine:
    """One host's engine in a FakeSwarm (an `Engine`)."""

    def __init__(self, swarm: FakeSwarm, host: str) -> None:
        self.swarm = swarm
        self.host = host
        self.calls = 0
        self.closed = False
        self.rollbacks: list[str] = []

    def _enter(self, *, manager: bool = False) -> None:
        self.calls += 1
        if self.host in self.swarm.stopped:
            raise EngineUnreachable(f"{self.host}: the Docker engine does not answer")
        if manager and not self.swarm.is_manager(self.host):
            raise EngineError(f"{self.host}: {NOT_MANAGER}")

    def close(self) -> None:
        self.closed = True

    # swarm -------------------------------------------------------------------------------

    def info(self) -> Json:
        self._enter()
        sw = self.swarm
        state = sw.state[self.host]
        node_id = sw.node_of.get(self.host, "") if state == "active" else ""
        manager = sw.is_manager(self.host)
        swarm: Json = {
            "LocalNodeState": state,
            "NodeID": node_id,
            "NodeAddr": sw.addresses[self.host] if node_id else "",
            "ControlAvailable": manager,
            "RemoteManagers": [
                {"NodeID": n["ID"], "Addr": n["ManagerStatus"]["Addr"]} for n in sw.managers()
            ]
            if node_id
            else None,
        }
        if manager:
            swarm["Cluster"] = {"ID": sw.cluster_id}
        return {"Swarm": swarm, "ServerVersion": "20.10.24"}

    def swarm_inspect(self) -> Json:
        self._enter(manager=True)
        return {"ID": self.swarm.cluster_id, "JoinTokens": dict(self.swarm.tokens)}

    def swarm_init(self, *, advertise_addr: str, listen_addr: str) -> str:
        self._enter()
        if self.swarm.state[self.host] == "active":
            raise EngineError(f"{self.host}: This node is already part of a swarm.")
        if not self.swarm.cluster_id:
            self.swarm.cluster_id = self.swarm.new_id("cluster")
        return self.swarm.add_node(self.host, "manager")

    def swarm_join(
        self, *, remote_addrs: list[str], token: Secret, advertise_addr: str, listen_addr: str
    ) -> None:
        self._enter()
        self.swarm.join_requests.append({"host": self.host, "remote_addrs": remote_addrs})
        if self.swarm.state[self.host] == "active":
            raise EngineError(f"{self.host}: This node is already part of a swarm.")
        value = token.reveal()
        roles = {v: k.lower() for k, v in self.swarm.tokens.items()}
        if value not in roles:
            raise EngineError(f"{self.host}: rpc error: invalid join token {value}")
        self.swarm.add_node(self.host, roles[value])

    def swarm_leave(self, *, force: bool = False) -> None:
        self._enter()
        if self.swarm.is_manager(self.host) and not force:
            raise EngineError(
                f"{self.host}: You are attempting to leave the swarm on a node that is"
                " participating as a manager."
            )
        node = self.swarm.nodes[self.swarm.node_of[self.host]]
        node["Status"]["State"] = "down"
        self.swarm.state[self.host] = "inactive"

    def nodes(self) -> list[Json]:
        self._enter(manager=True)
        return copy.deepcopy(list(self.swarm.nodes.values()))

    def node(self, node_id: str) -> Json:
        self._enter(manager=True)
        return copy.deepcopy(self.swarm.nodes[node_id])

    def node_update(self, node_id: str, version: int, spec: Json) -> None:
        self._enter(manager=True)
        node = self.swarm.nodes[node_id]
        if node["Version"]["Index"] != version:
            raise EngineConflict(f"{self.host}: update out of sequence")
        role = spec.get("Role", node["Spec"]["Role"])
        node["Spec"] = copy.deepcopy(spec)
        self.swarm.set_role(node, role)
        node["Version"]["Index"] += 1

    def node_remove(self, node_id: str, *, force: bool = False) -> None:
        self._enter(manager=True)
        self.swarm.nodes.pop(node_id, None)

    # services ----------------------------------------------------------------------------

    def services(self, *, service_id: str | None = None) -> list[Json]:
        self._enter(manager=True)
        self.swarm.step()
        out = []
        for service in self.swarm.services.values():
            if service_id and service["ID"] != service_id:
                continue
            item = copy.deepcopy(service)
            item["ServiceStatus"] = self.swarm.counts(service)
            out.append(item)
        return out

    def service(self, name: str) -> Json | None:
        self._enter(manager=True)
        for service in self.swarm.services.values():
            if name in (service["ID"], service["Spec"]["Name"]):
                return copy.deepcopy(service)
        return None

    def service_create(self, spec: Json) -> str:
        self._enter(manager=True)
        if any(s["Spec"]["Name"] == spec["Name"] for s in self.swarm.services.values()):
            raise EngineError(f"{self.host}: name conflicts with an existing object")
        sid = self.swarm.new_id("svc")
        self.swarm.services[sid] = {"ID": sid, "Version": {"Index": 1}, "Spec": copy.deepcopy(spec)}
        return sid

    def service_update(self, service_id: str, version: int, spec: Json) -> list[str]:
        self._enter(manager=True)
        service = self.swarm.services[service_id]
        if service["Version"]["Index"] != version:
            raise EngineConflict(f"{self.host}: update out of sequence")
        service["PreviousSpec"] = service["Spec"]
        service["Spec"] = copy.deepcopy(spec)
        service.pop("UpdateStatus", None)
        service["Version"]["Index"] += 1
        return []

    def service_rollback(self, name: str) -> None:
        self._enter(manager=True)
        self.rollbacks.append(name)
        service = next(s for s in self.swarm.services.values() if s["Spec"]["Name"] == name)
        if not service.get("PreviousSpec"):
            raise EngineError(f"{self.host}: service {name} does not have a previous spec")
        service["Spec"], service["PreviousSpec"] = service["PreviousSpec"], service["Spec"]
        service["UpdateStatus"] = {
            "State": "rollback_started",
            "Message": "manually requested rollback",
        }
        service["Version"]["Index"] += 1

    def service_remove(self, service_id: str) -> None:
        self._enter(manager=True)
        self.swarm.services.pop(service_id, None)
        for task in self.swarm.tasks:
            if task["ServiceID"] == service_id:
                task["DesiredState"] = "shutdown"
                task["Status"]["State"] = "shutdown"

    def tasks(self, *, service_id: str | None = None, node_id: str | None = None) -> list[Json]:
        self._enter(manager=True)
        return copy.deepcopy(
            [
                t
                for t in self.swarm.tasks
                if (service_id is None or t["ServiceID"] == service_id)
                and (node_id is None or t["NodeID"] == node_id)
            ]
        )
