"""Collects groups, hosts and variables while a parser reads a file, then freezes them.

The INI and YAML parsers only declare what they read; this module owns the rules
they share: valid group names, implicit `all`/`ungrouped`, cycles in children,
group depth, host order and the variable precedence (see fleetkit.inventory.vars).
Several sources (files of an inventory directory, several -i) feed one builder,
in order, as Ansible merges them into one inventory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetkit.connection.spec import legacy_warning
from fleetkit.errors import InventoryError, Position
from fleetkit.inventory.hostnames import check_host_name
from fleetkit.inventory.model import Group, Host, Inventory, freeze, walk_hosts
from fleetkit.inventory.vars import PRIORITY_VAR, HostLayers, VarsFiles, host_precedence

# letters (any script, as Python identifiers), digits, '_', '-', '.'
GROUP_NAME = re.compile(r"^\w[\w.-]*$")
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
        self.all_hosts: dict[str, None] = {}  # hosts listed directly under `all`
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

    def host(self, name: str, group: str, pos: Position, port: int | None = None) -> HostDraft:
        """The host called name, declared here if new, and listed in group.

        `host:port` sets ansible_port only where the host is first declared, as in
        Ansible; vars the caller sets afterwards (an explicit ansible_port) win.
        """
        if not name or name.split() != [name]:  # empty, or has whitespace
            raise InventoryError(f"invalid host name {name!r}", position=pos)
        check_host_name(name, pos)
        draft = self.hosts.get(name)
        if draft is None:
            draft = self.hosts[name] = HostDraft(name, pos)
            if port is not None:
                draft.vars["ansible_port"] = port
        draft.groups[group] = None
        if group != ROOT:
            self.groups[group].hosts[name] = None
        else:
            self.all_hosts[name] = None
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

    def build(self, vars_files: Sequence[VarsFiles] = ()) -> Inventory:
        """Freeze into an Inventory; vars_files are each source's group_vars/host_vars.

        The host's vars merge in Ansible's layers (fleetkit.inventory.vars): the
        inventory sources' group vars, then group_vars/all, then the other
        group_vars files, then the inventory's host vars, then host_vars files.
        """
        self._place_ungrouped()
        self._adopt_top_level()
        self._check_cycles()
        inline: dict[str, dict[str, Any]] = {}
        priority: dict[str, Any] = {}
        for name, declared in self.groups.items():
            inline[name] = {k: v for k, v in declared.vars.items() if k != PRIORITY_VAR}
            if PRIORITY_VAR in declared.vars:
                priority[name] = declared.vars[PRIORITY_VAR]
        order = host_precedence(self.groups, priority)
        groups = {
            name: Group(
                name=name,
                hosts=tuple(draft.hosts),
                children=tuple(draft.children),
                vars=freeze(_merged(inline[name], (f.groups.get(name) for f in vars_files))),
                priority=order.priority(name),
            )
            for name, draft in self.groups.items()
        }
        ancestors = _Ancestors(groups)
        hosts: dict[str, Host] = {}
        for name, host in self.hosts.items():
            member_of: set[str] = set()
            for direct in host.groups:
                member_of |= ancestors.of(direct)
            member_of.discard(ROOT)
            ranked = tuple(order.sorted(member_of))
            base: dict[str, Any] = dict(inline[ROOT])
            for group in ranked:
                base.update(inline[group])
            for files in vars_files:  # group_vars/all of every source, then the others
                base.update(files.groups.get(ROOT, {}))
            group_files: dict[str, Any] = {}
            for files in vars_files:
                for group in ranked:
                    group_files.update(files.groups.get(group, {}))
            own = _merged(host.vars, (f.hosts.get(name) for f in vars_files))
            layers = HostLayers(
                groups=freeze(base), group_files=freeze(group_files), own=freeze(own), ranked=ranked
            )
            hosts[name] = Host(
                name=name,
                vars=freeze(layers.merged(name)),
                groups=tuple(sorted(member_of)),
                own_vars=layers.own,
                layers=layers,
            )
        return Inventory(
            source=self.source,
            hosts=hosts,
            groups=groups,
            warnings=self._warnings(hosts),
            all_order=tuple({**self.all_hosts, **dict.fromkeys(walk_hosts(groups, ROOT))}),
        )

    def _warnings(self, hosts: Mapping[str, Host]) -> tuple[str, ...]:
        found = [
            f"{name!r} is both a group and a host: a pattern {name!r} means the group"
            for name in self.groups
            if name in hosts
        ]
        legacy = legacy_warning({name: host.vars for name, host in hosts.items()})
        return (*found, *([legacy] if legacy else []))

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


def _merged(first: Mapping[str, Any], rest: Any) -> dict[str, Any]:
    out = dict(first)
    for layer in rest:
        out.update(layer or {})
    return out


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
