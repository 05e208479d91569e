"""Host patterns and --limit: which inventory hosts a command or play runs on.

A pattern is a union of terms separated by `,` or `:` (`web:db`, `web,db`);
`&term` intersects and `!term` excludes, applied after the unions in that order
(so `web:!db:&prod` is (web minus db) within prod, as in Ansible). A term is:

- `all` or `*`: every host; a group name: its hosts and its children's hosts;
  a host name: that host
- a glob (`web*`, `db-?`, fnmatch, case-sensitive) or a regex (`~web\\d+`, matched
  from the start of the name) over group names (their hosts) and host names
- a term followed by a subscript over its hosts in inventory order: index
  `web[0]`, negative index `web[-1]`, or slice `web[1:3]` with both ends included
  (Ansible's rule: hosts 1, 2 and 3) and `web[2:]` to the end

Results are in inventory order. `--limit` is a second pattern intersected with
the first, or `@FILE` (one host name per line, `#` comments, path relative to
cwd). A pattern, a plain name that is neither a group nor a host, or a limit
that leaves no host raises PatternError (exit 2) with the closest names.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path

from fleetkit import safeio
from fleetkit.errors import PatternError, Position
from fleetkit.inventory.model import Inventory

_TERM = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$")
_GLOB_CHARS = frozenset("*?[")
_MAX_SUBSCRIPT_DIGITS = 18  # an index past 10**18 is a typo, and int() refuses 4300+ digits


def select_hosts(
    inv: Inventory, pattern: str, limit: str | None = None, *, cwd: Path | None = None
) -> tuple[str, ...]:
    """Names of the hosts matching pattern (and limit), in inventory order."""
    chosen = _evaluate(inv, pattern, "pattern")
    if limit is not None and limit.strip():
        allowed = _limit_hosts(inv, limit.strip(), cwd or Path.cwd())
        narrowed = chosen & allowed
        if not narrowed:
            raise PatternError(
                f"limit {limit!r} leaves none of the {len(chosen)} hosts matched by {pattern!r}",
                hint=f"pattern {pattern!r} matched: {_few(_ordered(inv, chosen))}",
            )
        chosen = narrowed
    return _ordered(inv, chosen)


def split_pattern(inv: Inventory, pattern: str) -> list[str]:
    """The terms of a pattern: split on ',' if it has one, else on ':' outside [...]."""
    pattern = pattern.strip()
    if pattern in inv.hosts:  # an IPv6 address or `host:22` named as such
        return [pattern]
    if "," in pattern:
        terms = pattern.split(",")
    else:
        terms = _TERM.findall(pattern)
        stray = _TERM.sub("", pattern).replace(":", "").strip()
        if stray:  # e.g. an unclosed '[' that findall would silently drop
            raise PatternError(
                f"pattern {pattern!r}: unexpected {stray[0]!r} (an unclosed '[' or stray ']'?)",
                hint="close every '[' of an index or slice; separate regex terms with ','",
            )
    return [term.strip() for term in terms if term.strip()]


def _evaluate(inv: Inventory, pattern: str, what: str) -> set[str]:
    terms = split_pattern(inv, pattern)
    if not terms:
        raise PatternError(f"empty {what}", hint="name a group, a host, `all` or a glob")
    unions = [t for t in terms if t[0] not in "&!"] or ["all"]
    chosen: set[str] = set()
    for term in unions:
        chosen.update(_match_term(inv, term, what, pattern))
    for term in terms:
        if term[0] == "&":
            chosen.intersection_update(_match_term(inv, term[1:], what, pattern))
    for term in terms:
        if term[0] == "!":
            chosen.difference_update(_match_term(inv, term[1:], what, pattern))
    if not chosen:
        raise PatternError(
            f"{what} {pattern!r} matches no host", hint=suggest_names(inv, pattern, *terms)
        )
    return chosen


def _match_term(inv: Inventory, term: str, what: str, pattern: str) -> list[str]:
    """Hosts of one term (no & or ! prefix), in inventory order."""
    if not term:
        raise PatternError(f"{what} {pattern!r} has an empty term after '&' or '!'")
    expr, subscript = term, None
    if term[0] != "~":
        m = _SUBSCRIPT.match(term)
        if m:
            expr, subscript = m.group(1), m.group(2, 3, 4)
    hosts = _enumerate(inv, expr, what, pattern)
    if subscript is None:
        return hosts
    return _subscript(hosts, subscript, term, what)


def _enumerate(inv: Inventory, expr: str, what: str, pattern: str) -> list[str]:
    if expr[0] == "~" or _GLOB_CHARS.intersection(expr):
        try:
            rx = re.compile(expr[1:] if expr[0] == "~" else fnmatch.translate(expr))
        except re.error as err:
            raise PatternError(
                f"{what} {pattern!r}: bad regular expression {expr!r}: {err}"
            ) from None
        found = set(filter(rx.match, inv.hosts))
        for group in filter(rx.match, inv.groups):
            found.update(inv.group_hosts(group))
        return list(_ordered(inv, found))
    if expr in inv.groups:
        return list(inv.group_hosts(expr))
    if expr in inv.hosts:
        return [expr]
    raise PatternError(
        f"{what} {pattern!r}: no group or host named {expr!r}",
        hint=suggest_names(inv, expr),
    )


def _subscript(
    hosts: list[str], subscript: tuple[str | None, ...], term: str, what: str
) -> list[str]:
    index, start, end = subscript
    if any(len(part or "") > _MAX_SUBSCRIPT_DIGITS for part in subscript):
        raise PatternError(f"{what} {term!r}: index too large")
    count = len(hosts)
    if index is not None:
        i = int(index)
        if not -count <= i < count:
            raise PatternError(
                f"{what} {term!r}: index {i} is out of range ({count} hosts, 0 to {count - 1})"
            )
        return [hosts[i]]
    first = int(start or 0)  # the regex makes start present in a slice
    last = int(end) if end else count - 1
    if first >= count or last < first:
        raise PatternError(
            f"{what} {term!r}: slice [{start}:{end}] selects no host ({count} hosts)",
            hint="slices include both ends: web[0:2] is the first three hosts",
        )
    return hosts[first : last + 1]


def _limit_hosts(inv: Inventory, limit: str, cwd: Path) -> set[str]:
    if not limit.startswith("@"):
        return _evaluate(inv, limit, "limit")
    path = cwd / Path(limit[1:]).expanduser()
    lines = safeio.read_text(path, PatternError, what="limit file").splitlines()
    hosts: dict[str, int] = {}
    for lineno, raw in enumerate(lines, 1):
        name = raw.split("#", 1)[0].strip()
        if name:
            hosts.setdefault(name, lineno)
    unknown = [(name, line) for name, line in hosts.items() if name not in inv.hosts]
    if unknown:
        name, line = unknown[0]
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise PatternError(
            f"limit file lists host {name!r}, which is not in the inventory{more}",
            position=Position(path, line),
            hint=suggest_names(inv, name),
        )
    if not hosts:
        raise PatternError(
            "limit file lists no host", position=Position(path), hint="one host name per line"
        )
    return set(hosts)


def _ordered(inv: Inventory, names: set[str]) -> tuple[str, ...]:
    return tuple(name for name in inv.hosts if name in names)


def _few(names: Iterable[str], n: int = 5) -> str:
    items = list(names)
    shown = ", ".join(items[:n])
    return shown + (f" ... ({len(items)} in all)" if len(items) > n else "")


def suggest_names(inv: Inventory, *typed: str) -> str:
    """A hint for a name that matched nothing: close group/host names, else some groups."""
    import difflib  # only on error paths

    names = [*inv.groups, *inv.hosts]
    close: list[str] = []
    for term in typed:
        word = term.lstrip("&!~")
        for name in difflib.get_close_matches(word, names, n=5, cutoff=0.6):
            if name not in close:
                close.append(name)
    if close:
        return f"close names: {', '.join(close[:5])}"
    groups = [g for g in inv.groups if g not in ("all", "ungrouped")]
    return f"groups: {_few(groups)}" if groups else f"hosts: {_few(inv.hosts)}"
