"""shell: run a command line through a shell (pipes, redirects, variables).

Same change and check-mode rules as command; `executable` picks another shell.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult
from fleetkit.modules.command import COMMON_ARGS, guard, stdin_bytes, timed, with_chdir
from fleetkit.modules.remote import q


class Shell(Module):
    name = "shell"
    free_form = "cmd"
    args: ClassVar[dict[str, Arg]] = {
        "cmd": Arg("str", required=True, aliases=("_raw_params",)),
        "executable": Arg("path"),
        **COMMON_ARGS,
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        line = str(ctx.arg("cmd"))
        early = guard(ctx, line)
        if early is not None:
            return early
        cmd = line
        executable: str | None = ctx.arg("executable")
        if executable:
            cmd = f"exec {q(executable)} -c {q(cmd)}"
        return timed(lambda: ctx.run(with_chdir(ctx, cmd), stdin=stdin_bytes(ctx)), line)
