"""swarm_status: services (desired/running, per node) and nodes (state, availability).

Changes nothing. The status is in the registered result and the `swarm_status`
fact; warnings (even manager count, unreachable managers, nodes down) go in msg.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import SwarmModule
from fleetkit.orchestrators.base import ClusterStatus
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm import SwarmOrchestrator


def summary(status: ClusterStatus) -> str:
    """One line: nodes by state, services running/desired, then warnings."""
    ready = sum(1 for n in status.nodes if n.ready)
    managers = len(status.managers)
    parts = [f"{len(status.nodes)} nodes ({managers} managers, {ready} ready)"]
    for s in status.services:
        parts.append(f"{s.name} {s.running}/{s.desired}")
    line = "; ".join(parts)
    if status.warnings:
        line += "; warning: " + "; warning: ".join(status.warnings)
    return line


class SwarmStatus(SwarmModule):
    name = "swarm_status"
    args: ClassVar[dict[str, Arg]] = {}

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        status = SwarmOrchestrator(engine, source=ctx.host).status()
        data = status.as_dict()
        return ModuleResult(msg=summary(status), data=data, facts={"swarm_status": data})
