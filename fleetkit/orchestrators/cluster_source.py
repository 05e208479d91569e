"""Which host describes the cluster: candidates in order, failing over, for any driver.

Swarm keeps its own rules (swarm_manager.find_manager: a manager that answers
as one); other drivers ask each candidate's driver for the status and skip a
host that is unreachable or whose driver refuses, with the reason.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fleetkit.connection.base import Connection
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import OrchestratorError
from fleetkit.inventory.model import Inventory
from fleetkit.orchestrators.base import ClusterStatus, Orchestrator
from fleetkit.orchestrators.factory import DRIVERS, K8S_GROUPS, DriverContext, driver_name
from fleetkit.orchestrators.swarm_manager import NoManager, OpenEngine, manager_candidates

if TYPE_CHECKING:
    from fleetkit.orchestrators.swarm_settle import Settle

Connect = Callable[[str], Connection]
OpenDriver = Callable[[DriverContext, str], Orchestrator]


@dataclass(frozen=True)
class Described:
    """The cluster as one host described it, and why the hosts before it were skipped."""

    host: str
    driver: str
    status: ClusterStatus
    skipped: tuple[str, ...] = ()


def inventory_driver(inventory: Inventory) -> str:
    """The driver the inventory's hosts name (`orchestrator`), else by its groups."""
    names = {driver_name({**h.vars, "group_names": h.groups}) for h in inventory.hosts.values()}
    if len(names) == 1:
        return names.pop()
    if any(g in inventory.groups for g in K8S_GROUPS) and "managers" not in inventory.groups:
        return "k8s"
    return "swarm"


def candidates(inventory: Inventory, driver: str) -> tuple[str, ...]:
    """Hosts to ask, in order: the driver's server group first, then every other host."""
    if driver == "swarm":
        return manager_candidates(inventory)
    for group in DRIVERS[driver].server_groups:
        hosts = inventory.group_hosts(group)
        if hosts:
            return (*hosts, *(h for h in inventory.hosts if h not in hosts))
    return tuple(inventory.hosts)


def describe(
    inventory: Inventory,
    hosts: Sequence[str],
    connect: Connect,
    driver: str,
    open_driver: OpenDriver | None = None,
) -> Described:
    """The status from the first candidate whose driver answers."""
    if driver == "swarm":
        return _swarm(hosts, connect)
    from fleetkit.orchestrators.factory import open_orchestrator

    def default_open(ctx: DriverContext, name: str) -> Orchestrator:
        return open_orchestrator(ctx, name=name)

    opener = open_driver or default_open
    skipped: list[str] = []
    unreachable = 0
    for host in hosts:
        conn = connect(host)
        try:
            conn.open()
        except HostConnectionError as err:
            skipped.append(f"unreachable: {err.message}")
            unreachable += 1
            conn.close()
            continue
        h = inventory.hosts[host]
        ctx = DriverContext(
            host=host, conn=conn, run=conn.run, variables={**h.vars, "group_names": h.groups}
        )
        try:
            orchestrator = opener(ctx, driver)
            try:
                status = orchestrator.status()
            finally:
                orchestrator.close()
        except OrchestratorError as err:
            skipped.append(f"{host}: {err.message}")
            continue
        finally:
            conn.close()
        return Described(host, driver, status, tuple(skipped))
    detail = "; ".join(skipped) or "no hosts to try"
    raise NoManager(
        f"no {driver} server answered: {detail}",
        unreachable=bool(hosts) and unreachable == len(hosts),
    )


def _swarm(
    hosts: Sequence[str],
    connect: Connect,
    open_engine: OpenEngine | None = None,
    settle: Settle | None = None,
) -> Described:
    """The first manager whose status answers (see _swarm_round). When none does and
    one of them said the swarm is settling (an election under way, raft catching up),
    the round is tried again every 2 s for up to 60 s, with a notice each time: an
    election after a lost leader takes seconds, and status in it should wait, not fail."""
    from fleetkit.orchestrators.swarm_settle import SETTLE_TIMEOUT_S, Settle, settling

    settle = settle or Settle(timeout_s=SETTLE_TIMEOUT_S, notice=_notice)
    start = settle.clock()
    while True:
        try:
            return _swarm_round(hosts, connect, open_engine)
        except NoManager as err:
            reason = "swarm status: no manager can describe the swarm yet (settling)"
            if not settling(err.message) or not settle.retry(start, reason):
                raise


def _notice(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _swarm_round(
    hosts: Sequence[str], connect: Connect, open_engine: OpenEngine | None = None
) -> Described:
    """The first manager whose status answers: one that answers as a manager but
    cannot describe the swarm yet (raft settling after a restart) is skipped too."""
    from fleetkit.orchestrators.swarm import SwarmOrchestrator
    from fleetkit.orchestrators.swarm_manager import find_manager

    skipped: list[str] = []
    remaining = list(hosts)
    while True:
        try:
            manager = find_manager(remaining, connect, open_engine)
        except NoManager as err:
            if not skipped:
                raise
            rest = err.message.removeprefix("no swarm manager answered: ")
            raise NoManager(
                f"no swarm manager answered: {'; '.join([*skipped, rest])}", unreachable=False
            ) from None
        skipped.extend(manager.skipped)
        try:
            status = SwarmOrchestrator(manager.engine, source=manager.host).status()
        except OrchestratorError as err:
            prefixed = err.message.startswith(f"{manager.host}:")
            skipped.append(err.message if prefixed else f"{manager.host}: {err.message}")
            remaining = remaining[remaining.index(manager.host) + 1 :]
            if not remaining:
                detail = "; ".join(skipped)
                raise NoManager(f"no swarm manager answered: {detail}", unreachable=False) from None
            continue
        finally:
            manager.close()
        return Described(manager.host, "swarm", status, tuple(skipped))
