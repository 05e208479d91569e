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


def freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a copy of mapping (values are not deep-copied)."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Host:
    """One inventory host: its name, merged variables and the groups it is in.

    `vars` holds the merged variables (all < parent group < child group < host,
    group_vars/host_vars included, extra vars not included). `groups` lists every
    group the host belongs to, directly or through children, 'all' excluded,
    sorted by name (Ansible's `group_names`).
    """

    name: str
    vars: Mapping[str, Any] = field(default_factory=lambda: freeze({}))
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """One inventory group: direct hosts, child groups and its own variables."""

    name: str
    hosts: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=lambda: freeze({}))


@dataclass(frozen=True)
class Inventory:
    """A loaded inventory. Hosts keep the order in which they were first declared."""

    source: Path
    hosts: Mapping[str, Host]
    groups: Mapping[str, Group]

    def group_hosts(self, name: str) -> tuple[str, ...]:
        """Every host in group `name` or its descendants, in inventory order."""
        if name == "all":
            return tuple(self.hosts)
        seen: set[str] = set()
        stack = [name]
        visited: set[str] = set()
        while stack:
            g = stack.pop()
            if g in visited or g not in self.groups:
                continue
            visited.add(g)
            seen.update(self.groups[g].hosts)
            stack.extend(self.groups[g].children)
        return tuple(h for h in self.hosts if h in seen)

    def host(self, name: str) -> Host:
        return self.hosts[name]
