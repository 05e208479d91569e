"""What `fleetkit inventory` prints: Ansible-style --list JSON, --graph, --host vars.

Pure functions of an Inventory and the selected host names (from select_hosts):
groups with none of the selected hosts are left out, so `-l` narrows every view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleetkit.errors import PatternError
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.select import suggest_names
from fleetkit.inventory.vars import merge_extra

ROOT = "all"


def to_list_json(
    inv: Inventory, hosts: Sequence[str], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Like `ansible-inventory --list`: groups (hosts, children, vars), then _meta.hostvars.

    Every selected host gets a hostvars entry (Ansible omits empty ones); `extra`
    (the -e vars) is applied on top of each host's merged vars.
    """
    selected = set(hosts)
    visible = _visible_groups(inv, hosts)
    out: dict[str, Any] = {}
    pending = [ROOT]
    while pending:
        name = pending.pop(0)
        if name in out:
            continue
        group = inv.groups[name]
        entry: dict[str, Any] = {}
        members = [h for h in group.hosts if h in selected] if name != ROOT else []
        children = [c for c in group.children if c in visible]
        if members:
            entry["hosts"] = members
        if children:
            entry["children"] = children
        if group.vars:
            entry["vars"] = dict(group.vars)
        out[name] = entry
        pending[:0] = children  # depth first, in declaration order
    out["_meta"] = {"hostvars": {h: host_vars_json(inv, h, extra) for h in hosts}}
    return out


def to_graph(inv: Inventory, hosts: Sequence[str]) -> str:
    """Like `ansible-inventory --graph`: groups as @name:, children then hosts, sorted."""
    selected = set(hosts)
    visible = _visible_groups(inv, hosts)
    lines: list[str] = []

    def walk(name: str, depth: int) -> None:
        lines.append(f"{_indent(depth)}@{name}:")
        group = inv.groups[name]
        for child in sorted(c for c in group.children if c in visible):
            walk(child, depth + 1)
        if name != ROOT:
            lines.extend(f"{_indent(depth + 1)}{h}" for h in sorted(selected & set(group.hosts)))

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
