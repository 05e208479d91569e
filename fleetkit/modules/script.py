"""script: copy a controller script to the host and run it there in one round trip.

Same change and check-mode rules as command (creates/removes; else skipped in
check mode). The script's temporary copy is removed whatever its exit code.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail, from_command
from fleetkit.modules.command import guard, with_chdir
from fleetkit.modules.kvsplit import first_word
from fleetkit.modules.remote import q


class Script(Module):
    name = "script"
    free_form = "cmd"
    args: ClassVar[dict[str, Arg]] = {
        "cmd": Arg("str", required=True, aliases=("_raw_params",)),
        "chdir": Arg("path"),
        "creates": Arg("path"),
        "removes": Arg("path"),
        "executable": Arg("str"),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        src, rest = first_word(str(ctx.arg("cmd")))
        found = ctx.find_file(src)
        if found is None or not found.is_file():
            return fail(
                f"script {src} not found on the controller (looked in files/ beside the playbook)"
            )
        early = guard(ctx)
        if early is not None:
            return early
        runner = f"{q(ctx.arg('executable'))} " if ctx.arg("executable") else ""
        script = 't=$(mktemp); trap \'rm -f "$t"\' EXIT; cat > "$t"; chmod 700 "$t"; ' + with_chdir(
            ctx, f'{runner}"$t" {rest}'
        )
        return from_command(ctx.run(script, stdin=found.read_bytes()))
