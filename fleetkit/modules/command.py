"""command: run a program with arguments, without a shell (no pipes, no redirects).

Reports changed unless `creates`/`removes` say there is nothing to do; in check
mode it runs nothing: it predicts from `creates`/`removes`, else it is skipped.
As Ansible's (expand_argument_vars, default true), each word's `$NAME`/`${NAME}`
is replaced by the host's environment variable when it is set (left as written
when not) and a leading `~` by the home directory, on the host, with the task's
environment; no other shell syntax is interpreted.
"""

from __future__ import annotations

import re
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

_VAR = re.compile(r"\$(\w+|\{[^}]*\})")
"""What Python's os.path.expandvars (Ansible's expansion) replaces."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TILDE = re.compile(r"~[A-Za-z0-9_.-]*(/|\Z)")


def expanded(word: str) -> str:
    """Shell text for word with Ansible's expandvars/expanduser done by the host's shell:
    `"${NAME-\\$NAME}"` is the variable when set (even empty) and `$NAME` when unset
    (`}` escaped too for the `${NAME}` form),
    as expandvars; a leading `~` or `~user` stays unquoted for tilde expansion; the rest
    is quoted."""
    out: list[str] = []
    tilde = _TILDE.match(word)
    if tilde:
        out.append(tilde.group())
        word = word[tilde.end() :]
    at = 0
    for m in _VAR.finditer(word):
        name = m.group(1).strip("{}") if m.group(1).startswith("{") else m.group(1)
        if not _NAME.match(name):
            continue  # not a name the host's environment can hold: left as written
        if m.start() > at:
            out.append(shlex.quote(word[at : m.start()]))
        literal = m.group().replace("$", "\\$").replace("}", "\\}")
        out.append(f'"${{{name}-{literal}}}"')
        at = m.end()
    if at < len(word) or not out:
        out.append(shlex.quote(word[at:]))
    return "".join(out)


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
        "expand_argument_vars": Arg("bool", default=True),
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
        quote = shlex.quote if ctx.arg("expand_argument_vars") is False else expanded
        command = " ".join(quote(w) for w in words)
        return timed(lambda: ctx.run(with_chdir(ctx, command), stdin=stdin_bytes(ctx)), words)
