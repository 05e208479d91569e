"""swarm_leave: this host leaves the swarm; a manager is demoted first.

Refuses to remove the last manager or to leave fewer than a majority of the
remaining managers reachable (quorum). Not in a swarm: ok, unchanged.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import SwarmModule, change_result
from fleetkit.orchestrators.convergence import WaitPolicy
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm_nodes import leave


class SwarmLeave(SwarmModule):
    name = "swarm_leave"
    args: ClassVar[dict[str, Arg]] = {"wait_timeout": Arg("float", default=60.0)}

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        policy = WaitPolicy(timeout_s=float(ctx.arg("wait_timeout")))
        return change_result(leave(engine, check=ctx.check, policy=policy))
