"""replace: every match of a regular expression in a file replaced (Python `re` syntax).

ansible-core 2.19's replace, ported: the file is decoded with `encoding` (utf-8), the
pattern is MULTILINE and `after`/`before` restrict it to the section between their
matches (DOTALL); the text is written back (through a symlink to its target) only
when a replacement changed it, then the mode/owner/group. Messages and registered
keys are Ansible's ('N replacements made', '' when nothing changed, 'Pattern for
before/after params did not match the given file: PATTERN'; rc 0, diff under --diff,
backup_file).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.ansible_edit import EditModule, Target, attributes, with_attributes, write
from fleetkit.modules.base import Arg, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import unified_diff


def section_pattern(after: str | None, before: str | None) -> str:
    """The subsection pattern after/before make ('' for the whole file)."""
    if after and before:
        return f"{after}(?P<subsection>.*?){before}"
    if after:
        return f"{after}(?P<subsection>.*)"
    if before:
        return f"(?P<subsection>.*){before}"
    return ""


def substitute(
    text: str, regexp: str, replacement: str, *, after: str | None, before: str | None
) -> tuple[str, int, str | None]:
    """(the new text, replacements made, the section pattern when it did not match)."""
    pattern = section_pattern(after, before)
    start, stop = 0, len(text)
    if pattern:
        match = re.search(re.compile(pattern, re.DOTALL), text)
        if match is None:
            return text, 0, pattern
        start, stop = match.start("subsection"), match.end("subsection")
    section = text[start:stop]
    new, count = re.subn(re.compile(regexp, re.MULTILINE), replacement, section, count=0)
    if count == 0 or new == section:
        return text, 0, None
    return text[:start] + new + text[stop:], count, None


class Replace(EditModule):
    name = "replace"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("dest", "destfile", "name")),
        "regexp": Arg("str", required=True),
        "replace": Arg("str", default=""),
        "after": Arg("str"),
        "before": Arg("str"),
        "backup": Arg("bool", default=False),
        "encoding": Arg("str", default="utf-8"),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
        "validate": Arg("str"),
        "unsafe_writes": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        for key in ("regexp", "after", "before"):
            value = args.get(key)
            if value:
                try:
                    re.compile(value)
                except re.error as err:
                    errors.append(f"module replace: {key} is not a valid regexp: {err}")
        try:
            codecs.lookup(str(args.get("encoding") or "utf-8"))
        except LookupError:
            errors.append(f"module replace: unknown encoding: {args.get('encoding')}")
        return errors

    def edit(self, ctx: ModuleContext, target: Target) -> ModuleResult:
        path = target.path
        st = target.st
        if not st.exists:
            return fail(f"Path {path} does not exist !", rc=257)
        encoding = str(ctx.arg("encoding") or "utf-8")
        contents = target.content.decode(encoding, errors="surrogateescape")
        try:
            result, count, unmatched = substitute(
                contents,
                str(ctx.arg("regexp")),
                str(ctx.arg("replace") or ""),
                after=ctx.arg("after"),
                before=ctx.arg("before"),
            )
        except (re.error, IndexError) as err:
            return fail(f"Unable to process replace due to error: {err}")
        value: dict[str, Any] = {"rc": 0, "failed": False}
        if unmatched is not None:
            msg = f"Pattern for before/after params did not match the given file: {unmatched}"
            return ModuleResult(msg=msg, registered={**value, "msg": msg, "changed": False})
        changed = count > 0
        msg = f"{count} replacements made" if changed else ""
        text_diff = ""
        if changed and ctx.diff:
            value["diff"] = {
                "before_header": path,
                "before": contents,
                "after_header": path,
                "after": result,
            }
            text_diff = unified_diff(target.content, result.encode(encoding), path)
        if changed and not ctx.check:
            attrs, backup = write(
                ctx,
                target,
                result.encode(encoding, errors="surrogateescape"),
                backup=bool(ctx.arg("backup")),
                validate=ctx.arg("validate"),
            )
            if backup:
                value["backup_file"] = backup
        else:
            attrs = attributes(ctx, target.real, st)
        msg, changed = with_attributes(msg, changed, attrs)
        value.update(msg=msg, changed=changed)
        shown = msg or "0 replacements made"
        if ctx.check and changed:
            shown = f"would have: {shown}"
        return ModuleResult(changed=changed, msg=shown, diff=text_diff, registered=value)
