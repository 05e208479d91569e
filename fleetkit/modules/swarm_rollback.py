"""swarm_rollback: the engine returns a service to its previous spec; waits for it.

A service already rolled back (by an earlier rollback, or by the engine after a
failed update) is ok, unchanged: rolling back again would go forward.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import WAIT_ARGS, SwarmModule, change_result, wait_options
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm import SwarmOrchestrator


class SwarmRollback(SwarmModule):
    name = "swarm_rollback"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("service",)),
        **WAIT_ARGS,
    }

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        name = str(ctx.arg("name"))
        change = SwarmOrchestrator(engine).rollback(name, wait_options(ctx), check=ctx.check)
        return change_result(change, name=name)
