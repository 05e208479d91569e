"""blockinfile: a block of lines between two marker lines, inserted, updated or removed.

The markers find the block again on the next run, so a second run with the same
block changes nothing; an empty block (or state=absent) removes block and markers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult
from fleetkit.modules.textfile import FileSpec, edit_file, join_lines, split_lines


class BlockInFile(Module):
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
        if "{mark}" not in str(args.get("marker")):
            errors.append("module blockinfile: marker must contain '{mark}'")
        for key in ("insertafter", "insertbefore"):
            value = args.get(key)
            if value and value not in ("EOF", "BOF"):
                try:
                    re.compile(value)
                except re.error as err:
                    errors.append(f"module blockinfile: {key} is not a valid regexp: {err}")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        marker = str(ctx.arg("marker"))
        begin = marker.replace("{mark}", str(ctx.arg("marker_begin")))
        end = marker.replace("{mark}", str(ctx.arg("marker_end")))
        block = str(ctx.arg("block") or "")
        present = ctx.arg("state") == "present" and block != ""

        def change(text: str | None) -> tuple[str | None, str]:
            if text is None and not present:
                return None, "file does not exist"
            lines = split_lines(text)
            new = edit_block(
                lines,
                begin,
                end,
                block if present else None,
                insertafter=ctx.arg("insertafter"),
                insertbefore=ctx.arg("insertbefore"),
            )
            if new == lines and text is not None:
                return text, "block as wanted"
            if text is None:
                return join_lines(new), "File created"
            return join_lines(new), "Block inserted" if present else "Block removed"

        spec = FileSpec(
            mode=ctx.arg("mode"),
            owner=ctx.arg("owner"),
            group=ctx.arg("group"),
            backup=bool(ctx.arg("backup")),
            validate=ctx.arg("validate"),
            create=bool(ctx.arg("create")),
        )
        return edit_file(ctx, str(ctx.arg("path")), change, spec)


def edit_block(
    lines: list[str],
    begin: str,
    end: str,
    block: str | None,
    *,
    insertafter: str | None = None,
    insertbefore: str | None = None,
) -> list[str]:
    """Lines with the marked block replaced by block (None removes it)."""
    wanted = [begin, *block.splitlines(), end] if block is not None else []
    starts = [i for i, ln in enumerate(lines) if ln.rstrip() == begin]
    ends = [i for i, ln in enumerate(lines) if ln.rstrip() == end]
    if starts and ends and ends[-1] > starts[-1]:
        start, stop = starts[-1], ends[-1]
        return [*lines[:start], *wanted, *lines[stop + 1 :]]
    if block is None:
        return lines
    index = _insert_index(lines, insertafter, insertbefore)
    return [*lines[:index], *wanted, *lines[index:]]


def _insert_index(lines: list[str], after: str | None, before: str | None) -> int:
    if before == "BOF":
        return 0
    pattern = before or (after if after and after != "EOF" else None)
    if pattern is None:
        return len(lines)
    rx = re.compile(pattern)
    found = [i for i, ln in enumerate(lines) if rx.search(ln)]
    if not found:
        return len(lines)
    return found[-1] if before else found[-1] + 1
