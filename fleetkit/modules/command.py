"""command: run a program with arguments, without a shell (no pipes, no redirects).

Reports changed unless `creates`/`removes` say there is nothing to do; in check
mode it runs nothing: it predicts from `creates`/`removes`, else it is skipped.
"""

from __future__ import annotations

import shlex
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail, from_command
from fleetkit.modules.remote import q


def guard(ctx: ModuleContext) -> ModuleResult | None:
    """The ok/predicted result that `creates`/`removes` imply, or None to go on and run."""
    creates: str | None = ctx.arg("creates")
    removes: str | None = ctx.arg("removes")
    if creates is not None or removes is not None:
        tests = []
        if creates is not None:
            tests.append(f"[ -e {q(creates)} ] && echo creates")
        if removes is not None:
            tests.append(f"[ -e {q(removes)} ] || echo removes")
        res = ctx.run("; ".join(tests) + "; true")
        if not res.ok:
            return fail(f"cannot test creates/removes: {res.stderr.strip()}", rc=res.rc)
        words = res.stdout.split()
        if "creates" in words:
            return ModuleResult(msg=f"skipped: {creates} exists")
        if "removes" in words:
            return ModuleResult(msg=f"skipped: {removes} does not exist")
        if ctx.check:
            return ModuleResult(changed=True, msg="would run (check mode)")
        return None
    if ctx.check:
        return ModuleResult(
            skipped=True, msg="skipped in check mode (no creates/removes to predict from)"
        )
    return None


def with_chdir(ctx: ModuleContext, command: str) -> str:
    chdir: str | None = ctx.arg("chdir")
    return f"cd {q(chdir)} || exit 1\n{command}" if chdir else command


def stdin_bytes(ctx: ModuleContext) -> bytes | None:
    text: str | None = ctx.arg("stdin")
    if text is None:
        return None
    return (text + "\n").encode() if ctx.arg("stdin_add_newline") is not False else text.encode()


COMMON_ARGS: dict[str, Arg] = {
    "chdir": Arg("path"),
    "creates": Arg("path"),
    "removes": Arg("path"),
    "stdin": Arg("str"),
    "stdin_add_newline": Arg("bool", default=True),
}


class Command(Module):
    name = "command"
    free_form = "cmd"
    args: ClassVar[dict[str, Arg]] = {
        "cmd": Arg("str", aliases=("_raw_params",)),
        "argv": Arg("list"),
        **COMMON_ARGS,
    }
    exclusive = (("cmd", "argv"),)
    one_of = (("cmd", "argv"),)

    def run(self, ctx: ModuleContext) -> ModuleResult:
        early = guard(ctx)
        if early is not None:
            return early
        argv: list[Any] | None = ctx.arg("argv")
        if argv is not None:
            words = [str(a) for a in argv]
        else:
            try:
                words = shlex.split(str(ctx.arg("cmd")))
            except ValueError as err:
                return fail(f"cannot parse command: {err}")
        if not words:
            return fail("empty command")
        command = " ".join(shlex.quote(w) for w in words)
        return from_command(ctx.run(with_chdir(ctx, command), stdin=stdin_bytes(ctx)))
