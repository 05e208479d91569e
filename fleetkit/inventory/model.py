"""Frozen inventory model: hosts, groups and their merged variables.

Loading (inventory/load.py) builds these; pattern queries (inventory/select.py)
read them. Nothing here touches the network or the file system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetkit.inventory.vars import HostLayers


def freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a copy of mapping (values are not deep-copied)."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Host:
    """One inventory host: its name, merged variables and the groups it is in.

    `vars` holds the merged variables in Ansible's precedence (fleetkit.inventory.
    vars; group_vars/host_vars included, extra vars not included). `groups` lists every
    group the host belongs to, directly or through children, 'all' excluded,
    sorted by name (Ansible's `group_names`).
    """

    name: str
    vars: Mapping[str, Any] = field(default_factory=lambda: freeze({}))
    groups: tuple[str, ...] = ()
    own_vars: Mapping[str, Any] = field(default_factory=lambda: freeze({}))
    """The host's own vars (inventory sources, then host_vars/), as --export shows them."""
    layers: HostLayers | None = None
    """`vars` by precedence row (None: `vars` is all there is), for the playbook's rows."""


@dataclass(frozen=True)
class Group:
    """One inventory group: direct hosts, child groups and its own variables."""

    name: str
    hosts: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=lambda: freeze({}))
    priority: int = 1  # ansible_group_priority, from inventory sources only


@dataclass(frozen=True)
class Inventory:
    """A loaded inventory. `hosts` keeps the order hosts were first declared in (the
    order Ansible matches host names in); `all_order` is the order of `all`.

    `implicit` names hosts that are in no group and outside `all`: the implicit
    localhost a pattern `localhost` adds when the inventory has none (select.py).
    `warnings` are load-time notices for the user (e.g. fleetkit's old variable names).
    """

    source: Path
    hosts: Mapping[str, Host]
    groups: Mapping[str, Group]
    implicit: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()
    all_order: tuple[str, ...] | None = None  # None: the order of `hosts`

    def group_hosts(self, name: str) -> tuple[str, ...]:
        """Every host in group `name` or its descendants, in Ansible's order.

        Ansible walks the group, then its children breadth first (each level in
        the order its parents list them), and takes each group's own hosts in the
        order they were added, skipping hosts already taken.
        """
        if name == "all":
            order = self.hosts if self.all_order is None else self.all_order
            return tuple(h for h in order if h not in self.implicit)
        return walk_hosts(self.groups, name)

    def host(self, name: str) -> Host:
        return self.hosts[name]


def walk_groups(groups: Mapping[str, Group], name: str) -> list[str]:
    """name and its descendants, breadth first, as Ansible's get_descendants orders them."""
    if name not in groups:
        return []
    order, seen, level = [name], {name}, [name]
    while level:
        following: list[str] = []
        for parent in level:
            for child in groups[parent].children:
                if child not in seen:
                    seen.add(child)
                    order.append(child)
                    following.append(child)
        level = following
    return order


def walk_hosts(groups: Mapping[str, Group], name: str) -> tuple[str, ...]:
    """The hosts of group name and its descendants, in walk order, each once."""
    found: dict[str, None] = {}
    for group in walk_groups(groups, name):
        found.update(dict.fromkeys(groups[group].hosts))
    return tuple(found)
