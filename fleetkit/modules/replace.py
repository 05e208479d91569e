"""replace: every match of a regular expression in a file replaced (Python `re` syntax).

As in Ansible the pattern is MULTILINE, and `after`/`before` restrict it to the
section between their matches; a second run whose pattern no longer matches
reports ok.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult
from fleetkit.modules.textfile import EditError, FileSpec, edit_file


class Replace(Module):
    name = "replace"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("dest", "destfile", "name")),
        "regexp": Arg("str", required=True),
        "replace": Arg("str", default=""),
        "after": Arg("str"),
        "before": Arg("str"),
        "backup": Arg("bool", default=False),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
        "validate": Arg("str"),
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
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path"))

        def change(text: str | None) -> tuple[str | None, str]:
            if text is None:
                raise EditError(f"Path {path} does not exist !")
            return substitute(
                text,
                str(ctx.arg("regexp")),
                str(ctx.arg("replace") or ""),
                after=ctx.arg("after"),
                before=ctx.arg("before"),
            )

        spec = FileSpec(
            mode=ctx.arg("mode"),
            owner=ctx.arg("owner"),
            group=ctx.arg("group"),
            backup=bool(ctx.arg("backup")),
            validate=ctx.arg("validate"),
            create=False,
        )
        return edit_file(ctx, path, change, spec)


def substitute(
    text: str, regexp: str, replacement: str, *, after: str | None, before: str | None
) -> tuple[str, str]:
    """The text with the replacements made, and a message saying how many."""
    start, stop = 0, len(text)
    if after or before:
        if after and before:
            pattern = f"{after}(?P<subsection>.*?){before}"
        elif after:
            pattern = f"{after}(?P<subsection>.*)"
        else:
            pattern = f"(?P<subsection>.*){before}"
        match = re.search(pattern, text, re.DOTALL)
        if match is None:
            return text, "Pattern for before/after params did not match the given file"
        start, stop = match.start("subsection"), match.end("subsection")
    section = text[start:stop]
    try:
        new, count = re.subn(re.compile(regexp, re.MULTILINE), replacement, section)
    except (re.error, IndexError) as err:
        raise EditError(f"bad replacement {replacement!r}: {err}") from None
    if count == 0 or new == section:
        return text, "0 replacements made"
    return text[:start] + new + text[stop:], f"{count} replacements made"
