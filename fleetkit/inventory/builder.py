"""Collects groups, hosts and variables while a parser reads a file, then freezes them.

The INI and YAML parsers only declare what they read; this module owns the rules
they share: valid group names, implicit `all`/`ungrouped`, cycles in children,
group depth and the variable precedence (see fleetkit.inventory.vars).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetkit.connection.spec import with_canonical_names
from fleetkit.errors import InventoryError, Position
from fleetkit.inventory.hostnames import check_host_name
from fleetkit.inventory.model import Group, Host, Inventory, freeze
from fleetkit.inventory.vars import host_precedence

GROUP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
ROOT, UNGROUPED = "all", "ungrouped"


@dataclass
class GroupDraft:
    """A group being read: where it was first declared, direct hosts, children, vars."""

    name: str
    pos: Position
    hosts: dict[str, None] = field(default_factory=dict)
    children: dict[str, Position] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class HostDraft:
    """A host being read: first declaration, the groups that list it, inline vars."""

    name: str
    pos: Position
    groups: dict[str, None] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)


class InventoryBuilder:
    """Mutable collector for one inventory source; `build` returns the frozen Inventory."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.groups: dict[str, GroupDraft] = {}
        self.hosts: dict[str, HostDraft] = {}
        origin = Position(source)
        self.group(ROOT, origin)
        self.group(UNGROUPED, origin)
        self.add_child(ROOT, UNGROUPED, origin)

    def group(self, name: object, pos: Position) -> GroupDraft:
        """The group called name, declared here if new; the name is validated."""
        if not isinstance(name, str) or not GROUP_NAME.match(name):
            raise InventoryError(
                f"invalid group name {name!r}",
                position=pos,
                hint="use letters, digits, '_', '-' and '.' (group names appear in patterns)",
            )
        draft = self.groups.get(name)
        if draft is None:
            draft = self.groups[name] = GroupDraft(name, pos)
        return draft

    def host(self, name: str, group: str, pos: Position) -> HostDraft:
        """The host called name, declared here if new, and listed in group."""
        if not name or name.split() != [name]:  # empty, or has whitespace
            raise InventoryError(f"invalid host name {name!r}", position=pos)
        check_host_name(name, pos)
        draft = self.hosts.get(name)
        if draft is None:
            draft = self.hosts[name] = HostDraft(name, pos)
        draft.groups[group] = None
        if group != ROOT:
            self.groups[group].hosts[name] = None
        return draft

    def add_child(self, parent: str, child: str, pos: Position) -> None:
        """Make group child (already declared) a child of group parent."""
        if child == ROOT:
            raise InventoryError(
                f"group 'all' cannot be a child of {parent!r}",
                position=pos,
                hint="'all' is the root: every group is already inside it",
            )
        self.groups[parent].children.setdefault(child, pos)

    def build(
        self,
        group_files: Mapping[str, Mapping[str, Any]],
        host_files: Mapping[str, Mapping[str, Any]],
    ) -> Inventory:
        """Freeze into an Inventory; *_files are group_vars/host_vars by name."""
        self._place_ungrouped()
        self._adopt_top_level()
        self._check_cycles()
        group_vars = {
            name: {**draft.vars, **group_files.get(name, {})} for name, draft in self.groups.items()
        }
        groups = {
            name: Group(
                name=name,
                hosts=tuple(draft.hosts),
                children=tuple(draft.children),
                vars=freeze(group_vars[name]),
            )
            for name, draft in self.groups.items()
        }
        order = host_precedence(groups, group_vars)
        ancestors = _Ancestors(groups)
        hosts: dict[str, Host] = {}
        for name, draft in self.hosts.items():
            member_of: set[str] = set()
            for direct in draft.groups:
                member_of |= ancestors.of(direct)
            member_of.discard(ROOT)
            merged: dict[str, Any] = with_canonical_names(group_vars[ROOT])
            for group in order.sorted(member_of):
                merged.update(with_canonical_names(group_vars[group]))
            merged.update(with_canonical_names(draft.vars))
            merged.update(with_canonical_names(host_files.get(name, {})))
            hosts[name] = Host(name=name, vars=freeze(merged), groups=tuple(sorted(member_of)))
        return Inventory(source=self.source, hosts=hosts, groups=groups)

    def _place_ungrouped(self) -> None:
        """`ungrouped` holds exactly the hosts that are in no other group (as Ansible)."""
        ungrouped = self.groups[UNGROUPED].hosts
        ungrouped.clear()
        for name, draft in self.hosts.items():
            if set(draft.groups) - {ROOT, UNGROUPED}:
                draft.groups.pop(UNGROUPED, None)
            else:
                draft.groups[UNGROUPED] = None
                ungrouped[name] = None

    def _adopt_top_level(self) -> None:
        """Groups with no parent become children of `all`, in declaration order."""
        has_parent = {child for draft in self.groups.values() for child in draft.children}
        root = self.groups[ROOT]
        for name, draft in self.groups.items():
            if name != ROOT and name not in has_parent:
                root.children.setdefault(name, draft.pos)

    def _check_cycles(self) -> None:
        """A group may not contain itself through children; the error names the loop."""
        state: dict[str, bool] = {}  # True while on the current path, False when finished
        for start in self.groups:
            if start in state:
                continue
            path, state[start] = [start], True
            pending = [iter(self.groups[start].children)]
            while pending:
                child = next(pending[-1], None)
                if child is None:
                    pending.pop()
                    state[path.pop()] = False
                elif state.get(child):
                    loop = " -> ".join([*path[path.index(child) :], child])
                    raise InventoryError(
                        f"groups contain each other: {loop}",
                        position=self.groups[path[-1]].children[child],
                        hint="a group cannot be its own child or descendant; remove one entry",
                    )
                elif child not in state:
                    path.append(child)
                    state[child] = True
                    pending.append(iter(self.groups[child].children))


class _Ancestors:
    """Each group's ancestors (itself included), computed once per group."""

    def __init__(self, groups: Mapping[str, Group]) -> None:
        self._parents: dict[str, list[str]] = {name: [] for name in groups}
        for group in groups.values():
            for child in group.children:
                self._parents[child].append(group.name)
        self._memo: dict[str, frozenset[str]] = {}

    def of(self, name: str) -> frozenset[str]:
        found = self._memo.get(name)
        if found is None:
            found = frozenset({name}).union(*(self.of(p) for p in self._parents[name]))
            self._memo[name] = found
        return found
