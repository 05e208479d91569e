"""swarm_node: a node's availability (active/pause/drain), labels and role, from a manager.

A drain waits (by default) until the node runs no task and every service has
converged elsewhere, so the node can then leave. Demoting refuses to remove the
last manager or break quorum. state=absent removes a node that has left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import WAIT_ARGS, SwarmModule, change_result, wait_options
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm_nodes import remove_node, update_node


class SwarmNode(SwarmModule):
    name = "swarm_node"
    args: ClassVar[dict[str, Arg]] = {
        "node": Arg("str", required=True, aliases=("hostname",)),
        "availability": Arg("str", choices=("active", "pause", "drain")),
        "labels": Arg("dict"),
        "remove_labels": Arg("list"),
        "role": Arg("str", choices=("manager", "worker")),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "force": Arg("bool", default=False),
        **WAIT_ARGS,
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("state") == "absent" and any(
            args.get(k) is not None for k in ("availability", "labels", "remove_labels", "role")
        ):
            return ["module swarm_node: state=absent takes no availability, labels or role"]
        return []

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        node = str(ctx.arg("node"))
        if ctx.arg("state") == "absent":
            change = remove_node(engine, node, force=bool(ctx.arg("force")), check=ctx.check)
            return change_result(change, node=node)
        labels = ctx.arg("labels")
        change = update_node(
            engine,
            node,
            availability=ctx.arg("availability"),
            labels={str(k): str(v) for k, v in labels.items()} if labels is not None else None,
            remove_labels=[str(k) for k in ctx.arg("remove_labels") or []],
            role=ctx.arg("role"),
            wait=wait_options(ctx),
            check=ctx.check,
        )
        return change_result(change, node=node)
