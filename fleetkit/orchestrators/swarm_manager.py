"""Find a manager that answers: the inventory's managers in order, failing over.

Only managers can describe or change the swarm. A manager whose host is down,
whose dockerd stopped, or that is not (or no longer) a manager is skipped with
the reason, and the next one is tried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fleetkit.connection.base import Connection
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import OrchestratorError
from fleetkit.inventory.model import Inventory
from fleetkit.orchestrators.engine import Engine

MANAGER_GROUPS = ("managers", "swarm_managers")

Connect = Callable[[str], Connection]
OpenEngine = Callable[[Connection, str], Engine]


class NoManager(OrchestratorError):
    """No candidate manager answered; `unreachable` when every host was unreachable."""

    def __init__(self, message: str, *, unreachable: bool) -> None:
        super().__init__(message)
        self.unreachable = unreachable
        if unreachable:
            self.exit_code = 3


@dataclass(frozen=True)
class Manager:
    """The manager that answered, its engine, and why the ones before it were skipped."""

    host: str
    engine: Engine
    conn: Connection
    skipped: tuple[str, ...] = ()

    def close(self) -> None:
        self.engine.close()
        self.conn.close()


def manager_candidates(inventory: Inventory) -> tuple[str, ...]:
    """Hosts of the managers (or swarm_managers) group first, then every other host:
    a node the inventory lists as a worker may have been promoted since."""
    for group in MANAGER_GROUPS:
        if group in inventory.groups:
            hosts = inventory.group_hosts(group)
            if hosts:
                return (*hosts, *(h for h in inventory.hosts if h not in hosts))
    return tuple(inventory.hosts)


def ssh_engine(conn: Connection, host: str) -> Engine:
    from fleetkit.orchestrators.swarm_client import engine_for

    return engine_for(conn, host=host)


def find_manager(
    candidates: Sequence[str], connect: Connect, open_engine: OpenEngine | None = None
) -> Manager:
    """The first candidate whose engine answers as a swarm manager."""
    from fleetkit.orchestrators.swarm_nodes import local_swarm

    opener = open_engine or ssh_engine

    skipped: list[str] = []
    unreachable = 0
    for host in candidates:
        conn = connect(host)
        try:
            conn.open()
        except HostConnectionError as err:
            skipped.append(f"unreachable: {err.message}")
            unreachable += 1
            conn.close()
            continue
        try:
            engine = opener(conn, host)
        except OrchestratorError as err:
            skipped.append(err.message)
            conn.close()
            continue
        try:
            local = local_swarm(engine)
        except OrchestratorError as err:
            skipped.append(err.message)
            engine.close()
            conn.close()
            continue
        if local.active and local.is_manager:
            return Manager(host, engine, conn, tuple(skipped))
        engine.close()
        conn.close()
        state = "a worker" if local.active else f"not in a swarm ({local.state})"
        skipped.append(f"{host}: {state}")
    detail = "; ".join(skipped) or "no hosts to try"
    raise NoManager(
        f"no swarm manager answered: {detail}",
        unreachable=bool(candidates) and unreachable == len(candidates),
    )
