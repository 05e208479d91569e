"""getent: one of the host's name service databases as the `getent_<database>` fact.

ansible.builtin.getent's result: `passwd`, `shadow`, `group` and `gshadow` split
on ':', other databases on whitespace (or on `split`); a key listed twice becomes
a list of its records; a missing key fails unless `fail_key: false` (then it maps
to None). One command; changes nothing, so check mode runs it too.
"""

from __future__ import annotations

import shlex
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.fact_result import fact_result

COLON_DATABASES = frozenset({"passwd", "shadow", "group", "gshadow"})
MESSAGES = {
    1: "Missing arguments, or database unknown.",
    2: "One or more supplied key could not be found in the database.",
    3: "Enumeration not supported on this database.",
}
NO_GETENT_RC = 127


class Getent(Module):
    name = "getent"
    args: ClassVar[dict[str, Arg]] = {
        "database": Arg("str", required=True),
        "key": Arg("str"),
        "service": Arg("str"),
        "split": Arg("str"),
        "fail_key": Arg("bool", default=True),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        database = str(ctx.arg("database"))
        key = ctx.arg("key")
        words = ["getent", database] + ([str(key)] if key is not None else [])
        if ctx.arg("service") is not None:
            words += ["-s", str(ctx.arg("service"))]
        probe = (
            "command -v getent >/dev/null 2>&1 || { printf '%s' \"$PATH\"; exit"
            f" {NO_GETENT_RC}; }}\n"
        )
        res = ctx.run(probe + shlex.join(words))
        if res.rc == NO_GETENT_RC and not res.stderr:
            return fail(f'Failed to find required executable "getent" in paths: {res.stdout}')
        split = ctx.arg("split")
        if split is None and database in COLON_DATABASES:
            split = ":"
        tree = f"getent_{database}"
        if res.rc == 0:
            return fact_result(ctx, {tree: records(res.stdout, split)}, note=tree)
        msg = MESSAGES.get(res.rc or -1, "Unexpected failure!")
        if res.rc == 2 and not ctx.arg("fail_key"):
            return fact_result(ctx, {tree: {str(key): None}}, msg=msg)
        return fail(msg, rc=None)


def records(stdout: str, split: str | None) -> dict[str, Any]:
    """getent's lines keyed by their first field; a repeated key gathers a list."""
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for line in stdout.splitlines():
        record = line.split(split)
        first, rest = record[0], record[1:]
        if first in seen:
            if seen[first] == 1:
                out[first] = [out[first]]
            out[first].append(rest)
            seen[first] += 1
        else:
            out[first] = rest
            seen[first] = 1
    return out
