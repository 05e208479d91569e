"""lineinfile: make sure one line is in a file (or absent), by regexp, search string or the line.

ansible-core 2.19's lineinfile, ported: the file is read once as bytes lines, the
edit is Ansible's present()/absent() on them (regexp/search_string/exact-line
matching, insertafter/insertbefore with BOF/EOF and firstmatch, backrefs), and it
is written only when the text differs (through a symlink to its target, as Ansible's
realpath), then the mode/owner/group. The registered value has Ansible's keys: msg
('line added', 'line replaced', 'N line(s) removed', '... and ownership, perms or SE
linux context changed'), backup, diff and, for state=absent, found.
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


def readlines(data: bytes) -> list[bytes]:
    """The lines of data with their b'\\n' kept, as a binary file's readlines()."""
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


@dataclass(frozen=True)
class Edit:
    """What present()/absent() did: the new lines, Ansible's message, whether changed,
    and (absent) how many lines matched."""

    lines: list[bytes]
    msg: str
    changed: bool
    found: int = 0


def present(
    b_lines: list[bytes],
    *,
    line: str,
    regexp: str | None = None,
    search_string: str | None = None,
    insertafter: str | None = None,
    insertbefore: str | None = None,
    backrefs: bool = False,
    firstmatch: bool = False,
) -> Edit:
    """ansible-core 2.19 lineinfile.present() on a file's lines (insertafter defaults to
    EOF when neither insert option is given, as its main() does)."""
    lines = list(b_lines)
    if insertbefore is None and insertafter is None:
        insertafter = "EOF"
    bre_m = re.compile(regexp.encode(errors="surrogateescape")) if regexp is not None else None
    bre_ins: re.Pattern[bytes] | None = None
    if insertafter not in (None, "BOF", "EOF"):
        bre_ins = re.compile(str(insertafter).encode(errors="surrogateescape"))
    elif insertbefore not in (None, "BOF"):
        bre_ins = re.compile(str(insertbefore).encode(errors="surrogateescape"))
    index = [-1, -1]
    match: Any = None
    exact_line_match = False
    b_line = line.encode(errors="surrogateescape")
    if bre_m is not None:
        for lineno, cur in enumerate(lines):
            found = bre_m.search(cur)
            if found:
                index[0] = lineno
                match = found
                if firstmatch:
                    break
    if search_string is not None:
        needle = search_string.encode(errors="surrogateescape")
        for lineno, cur in enumerate(lines):
            if needle in cur:
                index[0] = lineno
                match = True
                if firstmatch:
                    break
    if not match:
        for lineno, cur in enumerate(lines):
            if b_line == cur.rstrip(b"\r\n"):
                index[0] = lineno
                exact_line_match = True
            elif bre_ins is not None and bre_ins.search(cur):
                if insertafter:
                    index[1] = lineno + 1
                    if firstmatch:
                        break
                if insertbefore:
                    index[1] = lineno
                    if firstmatch:
                        break
    msg = ""
    changed = False
    added = b_line + LINESEP
    if index[0] != -1:
        new_line = match.expand(b_line) if backrefs and match is not None else b_line
        if not new_line.endswith(LINESEP):
            new_line += LINESEP
        if (regexp, search_string, match) == (None, None, None) and not exact_line_match:
            if insertafter and insertafter != "EOF":
                if lines and lines[-1][-1:] not in (b"\n", b"\r"):
                    lines[-1] = lines[-1] + LINESEP
                if len(lines) == index[1]:
                    if lines[index[1] - 1].rstrip(b"\r\n") != b_line:
                        lines.append(added)
                        msg, changed = "line added", True
                elif lines[index[1]].rstrip(b"\r\n") != b_line:
                    lines.insert(index[1], added)
                    msg, changed = "line added", True
            elif insertbefore and insertbefore != "BOF":
                if index[1] <= 0:
                    if lines[index[1]].rstrip(b"\r\n") != b_line:
                        lines.insert(index[1], added)
                        msg, changed = "line added", True
                elif lines[index[1] - 1].rstrip(b"\r\n") != b_line:
                    lines.insert(index[1], added)
                    msg, changed = "line added", True
        elif lines[index[0]] != new_line:
            lines[index[0]] = new_line
            msg, changed = "line replaced", True
    elif backrefs:
        pass  # nothing safe to write without a match for the backrefs
    elif insertbefore == "BOF" or insertafter == "BOF":
        lines.insert(0, added)
        msg, changed = "line added", True
    elif insertafter == "EOF" or index[1] == -1:
        if lines and lines[-1][-1:] not in (b"\n", b"\r"):
            lines.append(LINESEP)
        lines.append(added)
        msg, changed = "line added", True
    elif insertafter and index[1] != -1:
        if len(lines) == index[1]:
            if lines[index[1] - 1].rstrip(b"\r\n") != b_line:
                lines.append(added)
                msg, changed = "line added", True
        elif b_line != lines[index[1]].rstrip(b"\n\r"):
            lines.insert(index[1], added)
            msg, changed = "line added", True
    else:
        lines.insert(index[1], added)
        msg, changed = "line added", True
    return Edit(lines, msg, changed)


def absent(
    b_lines: list[bytes],
    *,
    line: str | None = None,
    regexp: str | None = None,
    search_string: str | None = None,
) -> Edit:
    """ansible-core 2.19 lineinfile.absent() on a file's lines."""
    bre_c = re.compile(regexp.encode(errors="surrogateescape")) if regexp is not None else None
    b_line = (line or "").encode(errors="surrogateescape") if line is not None else None
    needle = search_string.encode(errors="surrogateescape") if search_string is not None else None
    kept: list[bytes] = []
    found = 0
    for cur in b_lines:
        if bre_c is not None:
            hit = bool(bre_c.search(cur))
        elif needle is not None:
            hit = needle in cur
        else:
            hit = b_line == cur.rstrip(b"\r\n")
        if hit:
            found += 1
        else:
            kept.append(cur)
    msg = f"{found} line(s) removed" if found else ""
    return Edit(kept, msg, found > 0, found)


class LineInFile(EditModule):
    name = "lineinfile"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("dest", "destfile", "name")),
        "line": Arg("str", aliases=("value",)),
        "regexp": Arg("str", aliases=("regex",)),
        "search_string": Arg("str"),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "insertafter": Arg("str"),
        "insertbefore": Arg("str"),
        "backrefs": Arg("bool", default=False),
        "firstmatch": Arg("bool", default=False),
        "create": Arg("bool", default=False),
        "backup": Arg("bool", default=False),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
        "validate": Arg("str"),
        "unsafe_writes": Arg("bool", default=False),
    }
    exclusive = (
        ("insertafter", "insertbefore"),
        ("regexp", "search_string"),
        ("backrefs", "search_string"),
    )

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        present_ = args.get("state") == "present"
        if present_ and args.get("backrefs") and args.get("regexp") is None:
            errors.append("module lineinfile: regexp is required with backrefs=true")
        if present_ and args.get("line") is None:
            errors.append("module lineinfile: line is required with state=present")
        if not present_ and all(args.get(k) is None for k in ("line", "regexp", "search_string")):
            errors.append(
                "module lineinfile: one of line, search_string, or regexp is required"
                " with state=absent"
            )
        for key in ("regexp", "insertafter", "insertbefore"):
            value = args.get(key)
            if value and value not in ("EOF", "BOF"):
                try:
                    re.compile(value)
                except re.error as err:
                    errors.append(f"module lineinfile: {key} is not a valid regexp: {err}")
        return errors

    def edit(self, ctx: ModuleContext, target: Target) -> ModuleResult:
        path = target.path
        st = target.st
        state = str(ctx.arg("state"))
        if state == "absent" and not st.exists:
            value = {"changed": False, "msg": "file not present", "failed": False}
            return ModuleResult(msg="file not present", registered=value)
        if not st.exists and not ctx.arg("create"):
            return fail(f"Destination {path} does not exist !", rc=257)
        before = target.content
        lines = readlines(before)
        if state == "present":
            edit = present(
                lines,
                line=str(ctx.arg("line")),
                regexp=ctx.arg("regexp"),
                search_string=ctx.arg("search_string"),
                insertafter=ctx.arg("insertafter"),
                insertbefore=ctx.arg("insertbefore"),
                backrefs=bool(ctx.arg("backrefs")),
                firstmatch=bool(ctx.arg("firstmatch")),
            )
        else:
            edit = absent(
                lines,
                line=ctx.arg("line"),
                regexp=ctx.arg("regexp"),
                search_string=ctx.arg("search_string"),
            )
        after = b"".join(edit.lines)
        diff = _diff(ctx, path, before, after)
        text_diff = unified_diff(before if st.exists else None, after, path) if ctx.diff else ""
        if ctx.check and not st.exists:  # Ansible's early exit: no attributes looked at
            return _finish(ctx, edit, "", diff, text_diff, state, attrs=None)
        if not edit.changed or ctx.check:
            attrs = attributes(ctx, target.real, st)
            return _finish(ctx, edit, "", diff, text_diff, state, attrs=attrs)
        if not st.exists:
            problem = make_parent(ctx, target)
            if problem is not None:
                return fail(f"Error creating {target.real.rsplit('/', 1)[0]} ({problem})")
        attrs, backup = write(
            ctx, target, after, backup=bool(ctx.arg("backup")), validate=ctx.arg("validate")
        )
        return _finish(ctx, edit, backup, diff, text_diff, state, attrs=attrs)


def _diff(ctx: ModuleContext, path: str, before: bytes, after: bytes) -> list[dict[str, Any]]:
    """Ansible's registered diff: the content pair (texts only under --diff) and the
    file attributes' headers."""
    content = {
        "before": before.decode(errors="replace") if ctx.diff else "",
        "after": after.decode(errors="replace") if ctx.diff else "",
        "before_header": f"{path} (content)",
        "after_header": f"{path} (content)",
    }
    attrs = {
        "before_header": f"{path} (file attributes)",
        "after_header": f"{path} (file attributes)",
    }
    return [content, attrs]


def _finish(
    ctx: ModuleContext,
    edit: Edit,
    backup: str,
    diff: list[dict[str, Any]],
    text_diff: str,
    state: str,
    *,
    attrs: list[str] | None,
) -> ModuleResult:
    msg, changed = with_attributes(edit.msg, edit.changed, attrs or [])
    value: dict[str, Any] = {"changed": changed, "msg": msg, "backup": backup}
    if attrs is None:  # check mode on a missing file: Ansible's early exit, one diff
        value["diff"] = diff[0]
    else:
        value["diff"] = diff
    if state == "absent":
        value["found"] = edit.found
    shown = msg or "line as wanted"
    if ctx.check and changed:
        shown = f"would have: {shown}"
    return ModuleResult(
        changed=changed,
        msg=shown,
        diff=text_diff if changed else "",
        registered={**value, "failed": False},
    )
