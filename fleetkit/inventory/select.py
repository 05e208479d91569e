"""Host patterns and --limit: which inventory hosts a command or play runs on.

A pattern is a union of terms separated by `,` or `:` (`web:db`, `web,db`);
`&term` intersects and `!term` excludes, applied after the unions in that order
(so `web:!db:&prod` is (web minus db) within prod, as in Ansible). A term is:

- `all` or `*`: every host; a group name: its hosts and its children's hosts;
  a host name: that host
- a glob (`web*`, `db-?`, fnmatch, case-sensitive) or a regex (`~web\\d+`, matched
  from the start of the name) over group names (their hosts) and host names
- a term followed by a subscript over its hosts in Ansible's order: index
  `web[0]`, negative index `web[-1]`, or slice `web[1:3]` with both ends included
  (Ansible's rule: hosts 1, 2 and 3) and `web[2:]` to the end
- `localhost` or `127.0.0.1` when the inventory has no such host: Ansible's
  implicit localhost (with_implicit_localhost), outside `all` and every group

Results are in Ansible's order: each union term's hosts in its group walk
order (fleetkit.inventory.model.walk_hosts), terms in the order written, each
host once; `&` and `!` then filter that list. `--limit` is a second pattern (or
`@FILE`, whose lines are patterns: names, groups, globs; `#` comments; path
relative to cwd) that filters the first, keeping its order. A pattern, a plain
name that is neither a group nor a host, or a limit that leaves no host raises
PatternError (exit 2) with the closest names.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from fleetkit import safeio
from fleetkit.errors import PatternError, Position
from fleetkit.inventory.model import Host, Inventory, freeze
from fleetkit.inventory.vars import HostLayers

IMPLICIT_LOCALHOST = ("localhost", "127.0.0.1")

_TERM = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$")
_GLOB_CHARS = frozenset("*?[")
_MAX_SUBSCRIPT_DIGITS = 18  # an index past 10**18 is a typo, and int() refuses 4300+ digits


def select_hosts(
    inv: Inventory, pattern: str, limit: str | None = None, *, cwd: Path | None = None
) -> tuple[str, ...]:
    """Names of the hosts matching pattern (and limit), in Ansible's order."""
    chosen = _evaluate(inv, pattern, "pattern")
    if limit is not None and limit.strip():
        allowed = set(_limit_hosts(inv, limit.strip(), cwd or Path.cwd()))
        narrowed = [h for h in chosen if h in allowed]
        if not narrowed:
            raise PatternError(
                f"limit {limit!r} leaves none of the {len(chosen)} hosts matched by {pattern!r}",
                hint=f"pattern {pattern!r} matched: {_few(chosen)}",
            )
        chosen = narrowed
    return tuple(chosen)


def with_implicit_localhost(
    inv: Inventory, *patterns: str | None, python: str | None = None
) -> Inventory:
    """inv plus Ansible's implicit localhost when a pattern names it and inv has none.

    The implicit host is in no group and outside `all`; it has `all`'s variables,
    then `ansible_connection: local` and `ansible_python_interpreter` (the
    controller's Python), as ansible-core sets them.
    """
    import sys

    wanted = [
        name
        for pattern in patterns
        if pattern
        for term in _plain_terms(pattern)
        if (name := term.lstrip("&!")) in IMPLICIT_LOCALHOST
    ]
    if not wanted or any(name in inv.hosts for name in IMPLICIT_LOCALHOST):
        return inv
    name = wanted[0]
    layers = HostLayers(
        groups=inv.groups["all"].vars,
        own=freeze(
            {"ansible_python_interpreter": python or sys.executable, "ansible_connection": "local"}
        ),
    )
    implicit = Host(name=name, vars=freeze(layers.merged(name)), groups=(), layers=layers)
    hosts = {**inv.hosts, name: implicit}
    return replace(inv, hosts=hosts, implicit=inv.implicit | {name})


def _plain_terms(pattern: str) -> list[str]:
    return [t.strip() for t in pattern.replace(",", ":").split(":") if t.strip()]


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


def _evaluate(inv: Inventory, pattern: str, what: str) -> list[str]:
    terms = split_pattern(inv, pattern)
    if not terms:
        raise PatternError(f"empty {what}", hint="name a group, a host, `all` or a glob")
    return _evaluate_terms(inv, terms, what, pattern)


def _evaluate_terms(inv: Inventory, terms: list[str], what: str, pattern: str) -> list[str]:
    unions = [t for t in terms if t[0] not in "&!"] or ["all"]
    chosen: dict[str, None] = {}
    for term in unions:
        chosen.update(dict.fromkeys(_match_term(inv, term, what, pattern)))
    for term in terms:
        if term[0] == "&":
            keep = set(_match_term(inv, term[1:], what, pattern))
            chosen = {h: None for h in chosen if h in keep}
    for term in terms:
        if term[0] == "!":
            drop = set(_match_term(inv, term[1:], what, pattern))
            chosen = {h: None for h in chosen if h not in drop}
    if not chosen:
        raise PatternError(
            f"{what} {pattern!r} matches no host", hint=suggest_names(inv, pattern, *terms)
        )
    return list(chosen)


def lenient_hosts(inv: Inventory, patterns: Iterable[str]) -> list[str]:
    """Hosts of several patterns taken as one (each split on its own, as Ansible's
    split_host_pattern does a list), a term that names nothing matching no host and no
    match giving no host (Ansible only warns): the inventory_hostnames lookup."""
    terms = [t for p in patterns for t in split_pattern(inv, p)]

    def match(term: str) -> list[str]:
        try:
            return _match_term(inv, term, "pattern", term)
        except PatternError:
            return []

    chosen: dict[str, None] = {}
    for term in [t for t in terms if t[0] not in "&!"] or ["all"]:
        chosen.update(dict.fromkeys(match(term)))
    for term in terms:
        if term[0] == "&":
            keep = set(match(term[1:]))
            chosen = {h: None for h in chosen if h in keep}
    for term in terms:
        if term[0] == "!":
            drop = set(match(term[1:]))
            chosen = {h: None for h in chosen if h not in drop}
    return list(chosen)


def _match_term(inv: Inventory, term: str, what: str, pattern: str) -> list[str]:
    """Hosts of one term (no & or ! prefix), in Ansible's order."""
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
        found: dict[str, None] = {}
        for group in filter(rx.match, inv.groups):
            found.update(dict.fromkeys(inv.group_hosts(group)))
        found.update(dict.fromkeys(h for h in inv.hosts if rx.match(h)))
        return list(found)
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


def _limit_hosts(inv: Inventory, limit: str, cwd: Path) -> list[str]:
    if not limit.startswith("@"):
        return _evaluate(inv, limit, "limit")
    path = cwd / Path(limit[1:]).expanduser()
    lines = safeio.read_text(path, PatternError, what="limit file").splitlines()
    terms: dict[str, int] = {}
    for lineno, raw in enumerate(lines, 1):
        term = raw.split("#", 1)[0].strip()
        if term:
            terms.setdefault(term, lineno)
    if not terms:
        raise PatternError(
            "limit file lists no host", position=Position(path), hint="one host name per line"
        )
    found: list[str] = []
    for term, line in terms.items():
        try:
            found += _evaluate_terms(inv, [term], "limit file", term)
        except PatternError as err:
            raise PatternError(
                f"limit file: {err.message}", position=Position(path, line), hint=err.hint
            ) from None
    return found


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
