"""meta: steer the run itself: flush_handlers, noop, end_host, end_batch, end_play,
clear_host_errors, refresh_inventory.

The strategy acts on these; the module only validates and reports.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult

ACTIONS = (
    "flush_handlers",
    "noop",
    "end_host",
    "end_batch",
    "end_play",
    "clear_host_errors",
    "refresh_inventory",
)


class Meta(Module):
    name = "meta"
    local = True
    free_form = "action"
    args: ClassVar[dict[str, Arg]] = {"action": Arg("str", required=True, choices=ACTIONS)}

    def run(self, ctx: ModuleContext) -> ModuleResult:
        action = str(ctx.arg("action"))
        return ModuleResult(msg=action, data={"meta": action})
