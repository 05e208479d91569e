"""debug: show a message or a variable's value on the controller (changes nothing)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from fleetkit.errors import FleetkitError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult


def show(value: Any) -> str:
    """A value as one readable line: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


class Debug(Module):
    name = "debug"
    local = True
    args: ClassVar[dict[str, Arg]] = {
        "msg": Arg("raw"),
        "var": Arg("str"),
        "verbosity": Arg("int", default=0),
    }
    exclusive = (("msg", "var"),)

    def run(self, ctx: ModuleContext) -> ModuleResult:
        var: str | None = ctx.arg("var")
        if var is not None:
            try:
                value = ctx.templar.evaluate(var, ctx.variables)
            except FleetkitError as err:
                return ModuleResult(msg=f"{var}: {err.message}")
            return ModuleResult(
                msg=f"{var} = {show(value)}",
                data={var: value},
                registered={"changed": False, "failed": False, var: value},
            )
        msg = ctx.arg("msg")
        if msg is None:
            msg = "Hello world!"
        return ModuleResult(msg=show(msg), data={"msg": msg})
