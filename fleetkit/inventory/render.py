"""What `fleetkit inventory` prints: ansible-inventory's --list JSON, --graph, --host vars.

Pure functions of an Inventory and the selected host names (from select_hosts).
`--list` has ansible-inventory's shape, so tools that read `ansible-inventory
--list` read it unchanged: every group reached from `all` with its `hosts`
(the selected ones) and `children` (all of them), empty keys and then empty
groups left out, `_meta.hostvars` for each selected host that has variables,
group vars only with `export` (then hostvars are the host's own vars, not the
merged ones). `--graph` walks children in the order they were added, then
hosts, as Ansible does; `-l` narrows it to the groups of the selected hosts
(a documented improvement: Ansible ignores -l there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleetkit.errors import PatternError
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.select import suggest_names
from fleetkit.inventory.vars import PRIORITY_VAR, merge_extra

ROOT = "all"
PROFILE = "inventory_legacy"  # what ansible-core 2.19 writes in _meta.profile


def to_list_json(
    inv: Inventory,
    hosts: Sequence[str],
    extra: Mapping[str, Any] | None = None,
    *,
    export: bool = False,
) -> dict[str, Any]:
    """Like `ansible-inventory --list` (`--export` with export): groups, then _meta."""
    selected = set(hosts)
    out: dict[str, Any] = {}

    def add(name: str) -> None:
        group = inv.groups[name]
        entry: dict[str, Any] = {}
        if name != ROOT:
            entry["hosts"] = [h for h in group.hosts if h in selected]
        entry["children"] = list(group.children)
        if export:
            entry["vars"] = dict(group.vars)
            if group.priority != 1:
                entry["vars"][PRIORITY_VAR] = group.priority
        for key in ("hosts", "children", "vars"):
            if key in entry and not entry[key]:
                del entry[key]
        if entry:
            out[name] = entry
        for child in group.children:
            if child not in seen:
                seen.add(child)
                add(child)

    seen: set[str] = set()
    add(ROOT)
    hostvars: dict[str, Any] = {}
    for name in hosts:
        found = (
            merge_extra(inv.hosts[name].own_vars, extra or {})
            if export
            else host_vars_json(inv, name, extra)
        )
        if found:
            hostvars[name] = found
    out["_meta"] = {"hostvars": hostvars, "profile": PROFILE}
    return out


def to_graph(inv: Inventory, hosts: Sequence[str], *, narrowed: bool = False) -> str:
    """Like `ansible-inventory --graph`; narrowed: only the groups of the selected hosts."""
    selected = set(hosts)
    visible = _visible_groups(inv, hosts) if narrowed else set(inv.groups)
    lines: list[str] = []

    def walk(name: str, depth: int) -> None:
        lines.append(f"{_indent(depth)}@{name}:")
        group = inv.groups[name]
        for child in group.children:
            if child in visible:
                walk(child, depth + 1)
        if name != ROOT:
            lines.extend(f"{_indent(depth + 1)}{h}" for h in group.hosts if h in selected)

    walk(ROOT, 0)
    return "\n".join(lines)


def host_vars_json(
    inv: Inventory, name: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One host's merged variables (extra on top), as `--host NAME` prints them."""
    host = inv.hosts.get(name)
    if host is None:
        raise PatternError(f"host {name!r} is not in the inventory", hint=suggest_names(inv, name))
    return merge_extra(host.vars, extra or {})


def _visible_groups(inv: Inventory, hosts: Sequence[str]) -> set[str]:
    visible = {ROOT}
    for name in hosts:
        visible.update(inv.hosts[name].groups)
    return visible


def _indent(depth: int) -> str:
    return "  |" * depth + "--" if depth else ""
