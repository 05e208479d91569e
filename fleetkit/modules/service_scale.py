"""service_scale (old name swarm_scale): set the replica count (0 allowed), wait until they run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.cluster_common import WAIT_ARGS, ClusterModule, change_result, wait_options
from fleetkit.orchestrators.base import Orchestrator


class ServiceScale(ClusterModule):
    name = "service_scale"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("service",)),
        "replicas": Arg("int", required=True),
        **WAIT_ARGS,
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("replicas") is not None and args["replicas"] < 0:
            return [f"module {self.name}: replicas must be 0 or more, got {args['replicas']}"]
        return []

    def act(self, ctx: ModuleContext, orchestrator: Orchestrator) -> ModuleResult:
        name = str(ctx.arg("name"))
        replicas = int(ctx.arg("replicas"))
        change = orchestrator.scale(name, replicas, wait_options(ctx), check=ctx.check)
        return change_result(change, name=name, replicas=replicas)
