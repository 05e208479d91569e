"""swarm_scale: set a service's replica count (0 allowed) and wait until that many run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import WAIT_ARGS, SwarmModule, change_result, wait_options
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm import SwarmOrchestrator


class SwarmScale(SwarmModule):
    name = "swarm_scale"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("service",)),
        "replicas": Arg("int", required=True),
        **WAIT_ARGS,
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("replicas") is not None and args["replicas"] < 0:
            return [f"module swarm_scale: replicas must be 0 or more, got {args['replicas']}"]
        return []

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        name = str(ctx.arg("name"))
        replicas = int(ctx.arg("replicas"))
        change = SwarmOrchestrator(engine).scale(name, replicas, wait_options(ctx), check=ctx.check)
        return change_result(change, name=name, replicas=replicas)
