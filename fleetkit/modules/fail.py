"""fail: fail the host with a message (usually under `when`)."""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail


class Fail(Module):
    name = "fail"
    local = True
    free_form = "msg"
    args: ClassVar[dict[str, Arg]] = {
        "msg": Arg("str", default="Failed as requested from task"),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        return fail(str(ctx.arg("msg")))
