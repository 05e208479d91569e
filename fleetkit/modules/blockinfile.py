"""blockinfile: a block of lines between two marker lines, inserted, updated or removed.

ansible-core 2.19's blockinfile, ported on bytes: the markers (marker with {mark} as
marker_begin/marker_end) find the block again, insertafter/insertbefore (regexps, a
(?m) one searched over the whole file, BOF/EOF) place a new one, prepend_newline/
append_newline keep a blank line around it, and an empty block or state=absent removes
it. Messages and registered keys are Ansible's ('Block inserted', 'Block removed',
'File created', '' when nothing changed; diff, backup_file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fleetkit.modules.ansible_edit import (
    EditModule,
    Target,
    attributes,
    make_parent,
    with_attributes,
    write,
)
from fleetkit.modules.base import Arg, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import unified_diff

LINESEP = b"\n"


@dataclass(frozen=True)
class BlockEdit:
    """The file's new bytes and Ansible's message ('' when unchanged)."""

    result: bytes
    msg: str
    changed: bool


def edit_block(
    original: bytes | None,
    *,
    block: str,
    present: bool,
    marker: str = "# {mark} ANSIBLE MANAGED BLOCK",
    marker_begin: str = "BEGIN",
    marker_end: str = "END",
    insertafter: str | None = None,
    insertbefore: str | None = None,
    prepend_newline: bool = False,
    append_newline: bool = False,
) -> BlockEdit:
    """ansible-core 2.19 blockinfile's edit of a file's bytes (None: no file yet)."""
    lines = original.splitlines(True) if original is not None else []
    if insertbefore is None and insertafter is None:
        insertafter = "EOF"
    insertre: re.Pattern[bytes] | None = None
    if insertafter not in (None, "EOF"):
        insertre = re.compile(str(insertafter).encode(errors="surrogateescape"))
    elif insertbefore not in (None, "BOF"):
        insertre = re.compile(str(insertbefore).encode(errors="surrogateescape"))
    b_marker = marker.encode(errors="surrogateescape")
    marker0 = b_marker.replace(b"{mark}", marker_begin.encode()) + LINESEP
    marker1 = b_marker.replace(b"{mark}", marker_end.encode()) + LINESEP
    b_block = block.encode(errors="surrogateescape")
    blocklines: list[bytes] = []
    if present and b_block:
        if not b_block.endswith(LINESEP):
            b_block += LINESEP
        blocklines = [marker0, *b_block.splitlines(True), marker1]
    n0: int | None = None
    n1: int | None = None
    for i, line in enumerate(lines):
        if line == marker0:
            n0 = i
        if line == marker1:
            n1 = i
    if n0 is None or n1 is None:
        n0 = _insert_at(original or b"", lines, insertre, insertafter, insertbefore)
    elif n0 < n1:
        lines[n0 : n1 + 1] = []
    else:
        lines[n1 : n0 + 1] = []
        n0 = n1
    if n0 > 0 and not lines[n0 - 1].endswith(LINESEP):
        lines[n0 - 1] += LINESEP
    if prepend_newline and present and n0 != 0 and lines[n0 - 1] != LINESEP:
        lines[n0:n0] = [LINESEP]
        n0 += 1
    lines[n0:n0] = blocklines
    if append_newline and present:
        after = n0 + len(blocklines)
        if after < len(lines) and lines[after] != LINESEP:
            lines[after:after] = [LINESEP]
    result = b"".join(lines)
    if original == result:
        return BlockEdit(result, "", False)
    if original is None:
        return BlockEdit(result, "File created", True)
    return BlockEdit(result, "Block removed" if not blocklines else "Block inserted", True)


def _insert_at(
    original: bytes,
    lines: list[bytes],
    insertre: re.Pattern[bytes] | None,
    insertafter: str | None,
    insertbefore: str | None,
) -> int:
    """Where a new block goes: after (before) the last line insertre matches, or around
    the first match over the whole file for a (?m) pattern; the end when none does."""
    if insertre is None:
        return 0 if insertbefore is not None else len(lines)
    found: int | None = None
    if insertre.flags & re.MULTILINE:
        match = insertre.search(original)
        if match:
            if insertafter:
                found = original.count(b"\n", 0, match.end())
            elif insertbefore:
                found = original.count(b"\n", 0, match.start())
    else:
        for i, line in enumerate(lines):
            if insertre.search(line):
                found = i
    if found is None:
        return len(lines)
    return found + 1 if insertafter is not None else found


class BlockInFile(EditModule):
    name = "blockinfile"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("dest", "destfile", "name")),
        "block": Arg("str", default="", aliases=("content",)),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "marker": Arg("str", default="# {mark} ANSIBLE MANAGED BLOCK"),
        "marker_begin": Arg("str", default="BEGIN"),
        "marker_end": Arg("str", default="END"),
        "insertafter": Arg("str"),
        "insertbefore": Arg("str"),
        "prepend_newline": Arg("bool", default=False),
        "append_newline": Arg("bool", default=False),
        "create": Arg("bool", default=False),
        "backup": Arg("bool", default=False),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
        "validate": Arg("str"),
        "unsafe_writes": Arg("bool", default=False),
    }
    exclusive = (("insertafter", "insertbefore"),)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        if "{mark}" not in str(args.get("marker")):
            # deliberate: Ansible takes it and adds the block again on every run
            errors.append("module blockinfile: marker must contain '{mark}'")
        for key in ("insertafter", "insertbefore"):
            value = args.get(key)
            if value and value not in ("EOF", "BOF"):
                try:
                    re.compile(value)
                except re.error as err:
                    errors.append(f"module blockinfile: {key} is not a valid regexp: {err}")
        return errors

    def edit(self, ctx: ModuleContext, target: Target) -> ModuleResult:
        path = target.path
        st = target.st
        if not st.exists and not ctx.arg("create"):
            return fail(f"Path {path} does not exist !", rc=257)
        present = ctx.arg("state") == "present"
        if not present and not st.exists:
            msg = f"File {path} not present"
            return ModuleResult(msg=msg, registered={"changed": False, "msg": msg, "failed": False})
        original = target.content if st.exists else None
        edit = edit_block(
            original,
            block=str(ctx.arg("block") or ""),
            present=present,
            marker=str(ctx.arg("marker")),
            marker_begin=str(ctx.arg("marker_begin")),
            marker_end=str(ctx.arg("marker_end")),
            insertafter=ctx.arg("insertafter"),
            insertbefore=ctx.arg("insertbefore"),
            prepend_newline=bool(ctx.arg("prepend_newline")),
            append_newline=bool(ctx.arg("append_newline")),
        )
        content = {
            "before": (original or b"").decode(errors="replace") if ctx.diff else "",
            "after": edit.result.decode(errors="replace") if ctx.diff else "",
            "before_header": f"{path} (content)",
            "after_header": f"{path} (content)",
        }
        text_diff = unified_diff(original, edit.result, path) if ctx.diff and edit.changed else ""
        if ctx.check and not st.exists:
            return _result(ctx, edit.msg, edit.changed, content, text_diff)
        backup = ""
        if edit.changed and not ctx.check:
            if not st.exists:
                problem = make_parent(ctx, target)
                if problem is not None:
                    return fail(f"Error creating {target.real.rsplit('/', 1)[0]} Error: {problem}")
            attrs, backup = write(
                ctx,
                target,
                edit.result,
                backup=bool(ctx.arg("backup")),
                validate=ctx.arg("validate"),
            )
        else:
            attrs = attributes(ctx, target.real, st)
        msg, changed = with_attributes(edit.msg, edit.changed, attrs)
        header = f"{path} (file attributes)"
        diff = [content, {"before_header": header, "after_header": header}]
        return _result(ctx, msg, changed, diff, text_diff, backup)


def _result(
    ctx: ModuleContext,
    msg: str,
    changed: bool,
    diff: Any,
    text_diff: str,
    backup: str = "",
) -> ModuleResult:
    value: dict[str, Any] = {"changed": changed, "msg": msg, "diff": diff, "failed": False}
    if backup:
        value["backup_file"] = backup
    shown = msg or "block as wanted"
    if ctx.check and changed:
        shown = f"would have: {shown}"
    return ModuleResult(changed=changed, msg=shown, diff=text_diff, registered=value)
