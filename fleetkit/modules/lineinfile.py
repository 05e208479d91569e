"""lineinfile: make sure one line is in a file (or absent), optionally by regexp.

Reads the file once, edits in memory, writes only when the text differs (so a
second run reports no change), with the diff available for --diff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import (
    RemoteError,
    ValidationFailed,
    attrs_differ,
    resolve_mode,
    set_attrs,
    stat,
    unified_diff,
    write_file,
)
from fleetkit.modules.textfile import validation_failed


class LineInFile(Module):
    name = "lineinfile"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("dest", "name")),
        "line": Arg("str", aliases=("value",)),
        "regexp": Arg("str", aliases=("regex",)),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "insertafter": Arg("str"),
        "insertbefore": Arg("str"),
        "create": Arg("bool", default=False),
        "backup": Arg("bool", default=False),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
        "validate": Arg("str"),
    }
    exclusive = (("insertafter", "insertbefore"),)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        if args.get("state") == "present" and args.get("line") is None:
            errors.append("module lineinfile: state=present needs line")
        if args.get("state") == "absent" and args.get("line") is None and not args.get("regexp"):
            errors.append("module lineinfile: state=absent needs regexp or line")
        for key in ("regexp", "insertafter", "insertbefore"):
            value = args.get(key)
            if value and value not in ("EOF", "BOF"):
                try:
                    re.compile(value)
                except re.error as err:
                    errors.append(f"module lineinfile: {key} is not a valid regexp: {err}")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path"))
        try:
            st = stat(ctx, path, content=True)
            if st.exists and st.kind not in ("file", "link"):
                return fail(f"{path} is a {st.kind}, not a file")
            if not st.exists and ctx.arg("state") == "absent":
                return ModuleResult(msg=f"{path} does not exist")
            if not st.exists and not ctx.arg("create"):
                return fail(f"{path} does not exist (create: yes creates it)")
            before = st.content or b""
            text = before.decode(errors="surrogateescape")
            after_text, what = edit(
                text,
                line=ctx.arg("line"),
                regexp=ctx.arg("regexp"),
                state=str(ctx.arg("state")),
                insertafter=ctx.arg("insertafter"),
                insertbefore=ctx.arg("insertbefore"),
            )
            after = after_text.encode(errors="surrogateescape")
            mode = resolve_mode(st.mode if st.exists else 0o644, ctx.arg("mode"))
            owner: str | None = ctx.arg("owner")
            group: str | None = ctx.arg("group")
            if after == before and st.exists:
                changes = attrs_differ(st, mode, owner, group)
                if not changes:
                    return ModuleResult(msg="line as wanted")
                if not ctx.check:
                    set_attrs(ctx, path, mode, owner, group)
                verb = "would change" if ctx.check else "changed"
                return ModuleResult(changed=True, msg=f"{verb} {', '.join(changes)}")
            diff = unified_diff(before if st.exists else None, after, path) if ctx.diff else ""
            if ctx.check:
                return ModuleResult(changed=True, msg=f"would have {what}", diff=diff)
            write_file(
                ctx,
                path,
                after,
                mode=mode if mode is not None else (st.mode if st.exists else 0o644),
                owner=owner,
                group=group,
                backup=bool(ctx.arg("backup")) and st.exists,
                keep=st,
                validate=ctx.arg("validate"),
            )
        except ValidationFailed as err:
            return validation_failed(err)
        except RemoteError as err:
            return fail(str(err))
        return ModuleResult(changed=True, msg=what, diff=diff)


def edit(
    text: str,
    *,
    line: str | None,
    regexp: str | None,
    state: str,
    insertafter: str | None = None,
    insertbefore: str | None = None,
) -> tuple[str, str]:
    """The file text after the edit, and what was done ('' text unchanged)."""
    lines = text.splitlines()
    trailing = text.endswith("\n") or not text
    rx = re.compile(regexp) if regexp else None
    if state == "absent":
        kept = [
            ln for ln in lines if not ((rx and rx.search(ln)) or (line is not None and ln == line))
        ]
        removed = len(lines) - len(kept)
        return _join(kept, trailing), f"removed {removed} line(s)"
    assert line is not None
    if rx is not None:
        matches = [i for i, ln in enumerate(lines) if rx.search(ln)]
        if matches:
            i = matches[-1]
            if lines[i] == line:
                return text, "line as wanted"
            lines[i] = line
            return _join(lines, trailing), "replaced line"
    if line in lines:
        return text, "line as wanted"
    index = _insert_index(lines, insertafter, insertbefore)
    lines.insert(index, line)
    return _join(lines, True), "added line"


def _insert_index(lines: list[str], after: str | None, before: str | None) -> int:
    if before == "BOF":
        return 0
    if before:
        rx = re.compile(before)
        for i, ln in enumerate(lines):
            if rx.search(ln):
                return i
        return len(lines)
    if after and after != "EOF":
        rx = re.compile(after)
        found = [i for i, ln in enumerate(lines) if rx.search(ln)]
        if found:
            return found[-1] + 1
    return len(lines)


def _join(lines: list[str], trailing: bool) -> str:
    if not lines:
        return ""
    return "\n".join(lines) + ("\n" if trailing else "")
