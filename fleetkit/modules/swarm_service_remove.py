"""swarm_service_remove: remove a service (ok when it does not exist)."""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import SwarmModule, change_result
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm import SwarmOrchestrator


class SwarmServiceRemove(SwarmModule):
    name = "swarm_service_remove"
    args: ClassVar[dict[str, Arg]] = {"name": Arg("str", required=True, aliases=("service",))}

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        name = str(ctx.arg("name"))
        return change_result(SwarmOrchestrator(engine).remove(name, check=ctx.check), name=name)
