"""service_rollback (old name swarm_rollback): back to the previous spec; waits for it.

A service already rolled back (by an earlier rollback, or by the engine after a
failed update) is ok, unchanged: rolling back again would go forward.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.cluster_common import WAIT_ARGS, ClusterModule, change_result, wait_options
from fleetkit.orchestrators.base import Orchestrator


class ServiceRollback(ClusterModule):
    name = "service_rollback"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("service",)),
        **WAIT_ARGS,
    }

    def act(self, ctx: ModuleContext, orchestrator: Orchestrator) -> ModuleResult:
        name = str(ctx.arg("name"))
        change = orchestrator.rollback(name, wait_options(ctx), check=ctx.check)
        return change_result(change, name=name)
