"""command: run a program with arguments, without a shell (no pipes, no redirects).

Reports changed unless `creates`/`removes` say there is nothing to do; in check
mode it runs nothing: it predicts from `creates`/`removes`, else it is skipped.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from fleetkit.connection.base import CommandResult
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail, from_command
from fleetkit.modules.remote import q

Cmd = str | list[str]
"""What `cmd` registers: the command line (shell) or its words (command)."""


def registered(mr: ModuleResult, cmd: Cmd, **times: str | None) -> dict[str, Any]:
    """The value Ansible's command/shell register: cmd, start/end/delta, msg, rc, output."""
    stdout, stderr = mr.stdout.rstrip("\n"), mr.stderr.rstrip("\n")
    return {
        "changed": mr.changed,
        "failed": mr.failed,
        "cmd": cmd,
        "start": times.get("start"),
        "end": times.get("end"),
        "delta": times.get("delta"),
        "msg": ("non-zero return code" if mr.rc else mr.msg) if mr.failed else "",
        "rc": mr.rc,
        "stdout": stdout,
        "stderr": stderr,
        "stdout_lines": stdout.splitlines(),
        "stderr_lines": stderr.splitlines(),
    }


def timed(run: Callable[[], CommandResult], cmd: Cmd) -> ModuleResult:
    """Run the command; its result with Ansible's registered value (times as the
    controller saw them: start before sending, end when the result came back)."""
    start = datetime.now()
    res = run()
    end = datetime.now()
    mr = from_command(res)
    value = registered(mr, cmd, start=str(start), end=str(end), delta=str(end - start))
    return replace(mr, registered=value)


def _not_run(cmd: Cmd, why: str, condition: str) -> ModuleResult:
    """creates/removes: nothing to do; Ansible registers rc 0 and says why in stdout."""
    mr = ModuleResult(msg=f"skipped: {why}", rc=0, stdout=f"skipped, since {why}")
    value = registered(mr, cmd)
    value["msg"] = f"Did not run command since {condition}"
    return replace(mr, registered=value)


def guard(ctx: ModuleContext, cmd: Cmd = "") -> ModuleResult | None:
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
            return _not_run(cmd, f"{creates} exists", f"'{creates}' exists")
        if "removes" in words:
            return _not_run(cmd, f"{removes} does not exist", f"'{removes}' does not exist")
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
        argv: list[Any] | None = ctx.arg("argv")
        if argv is not None:
            words = [str(a) for a in argv]
        else:
            try:
                words = shlex.split(str(ctx.arg("cmd")))
            except ValueError as err:
                return fail(f"cannot parse command: {err}")
        early = guard(ctx, words)
        if early is not None:
            return early
        if not words:
            return fail("empty command")
        command = " ".join(shlex.quote(w) for w in words)
        return timed(
            lambda: ctx.run(with_chdir(ctx, command), stdin=stdin_bytes(ctx)), words
        )
