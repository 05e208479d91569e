"""cluster_status (old name swarm_status): services (desired/running, per node) and nodes.

Changes nothing. The status is in the registered result and the `cluster_status`
fact (also `swarm_status` on Swarm, its old name); warnings (even manager count,
unreachable managers, nodes down) go in msg.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.cluster_common import ClusterModule
from fleetkit.orchestrators.base import ClusterStatus, Orchestrator


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


class ClusterStatusModule(ClusterModule):
    name = "cluster_status"
    args: ClassVar[dict[str, Arg]] = {}

    def act(self, ctx: ModuleContext, orchestrator: Orchestrator) -> ModuleResult:
        status = orchestrator.status()
        data = status.as_dict()
        facts = {"cluster_status": data}
        if self.driver(ctx) in ("swarm", "injected"):
            facts["swarm_status"] = data
        return ModuleResult(msg=summary(status), data=data, facts=facts)
