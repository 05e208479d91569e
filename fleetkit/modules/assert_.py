"""assert: check that expressions hold for a host; fail it with a message otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.errors import FleetkitError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.text import truthy


class Assert(Module):
    name = "assert"
    local = True
    args: ClassVar[dict[str, Arg]] = {
        "that": Arg("list", required=True),
        "fail_msg": Arg("str", aliases=("msg",)),
        "success_msg": Arg("str"),
        "quiet": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        return [] if args.get("that") else ["module assert: 'that' needs at least one expression"]

    def run(self, ctx: ModuleContext) -> ModuleResult:
        for expr in ctx.arg("that"):
            try:
                value = (
                    expr
                    if isinstance(expr, bool)
                    else ctx.templar.evaluate(str(expr), ctx.variables)
                )
            except FleetkitError as err:
                return fail(f"assertion {expr!r} cannot be evaluated: {err.message}")
            if not isinstance(value, bool) and ctx.allow_broken_conditionals:
                value = bool(value)  # ansible.cfg allow_broken_conditionals, as ansible-core
            if not isinstance(value, bool):
                # ansible-core 2.19: an assertion, like any conditional, must be boolean
                return fail(
                    f"assertion {expr!r}: its result ({truthy(value)}) was derived from a"
                    f" value of type '{type(value).__name__}'; conditionals must have a"
                    " boolean result"
                )
            ok = value
            if not ok:
                given = ctx.arg("fail_msg")
                value = {
                    "changed": False,
                    "failed": True,
                    "assertion": str(expr),
                    "evaluated_to": False,
                    "msg": given or "Assertion failed",
                }
                return fail(
                    given or f"assertion failed: {expr}",
                    data={"assertion": str(expr)},
                    registered=value,
                )
        msg = ctx.arg("success_msg") or "All assertions passed"
        if ctx.arg("quiet"):
            return ModuleResult(data={"msg": msg})
        return ModuleResult(msg=msg)
