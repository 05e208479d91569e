"""service_remove (old name swarm_service_remove): remove a service (ok when it does not exist)."""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.cluster_common import ClusterModule, change_result
from fleetkit.orchestrators.base import Orchestrator


class ServiceRemove(ClusterModule):
    name = "service_remove"
    args: ClassVar[dict[str, Arg]] = {"name": Arg("str", required=True, aliases=("service",))}

    def act(self, ctx: ModuleContext, orchestrator: Orchestrator) -> ModuleResult:
        name = str(ctx.arg("name"))
        return change_result(orchestrator.remove(name, check=ctx.check), name=name)
