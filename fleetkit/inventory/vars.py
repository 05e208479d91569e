"""Variable precedence: which value a host sees when several places set it.

Ansible's order (ansible-core 2.19, default VARIABLE_PRECEDENCE), lowest to
highest; a later layer replaces a key whole (`hash_behaviour=replace`):

1. `all`'s vars from the inventory sources (INI `[all:vars]`, YAML `all: vars:`)
2. every other group's vars from the inventory sources, the host's groups
   ordered by depth below `all` (parents before children), then
   `ansible_group_priority` (default 1, higher wins; read from inventory
   sources only, never from group_vars files), then name (`b` beats `a`)
3. group_vars/all beside each inventory source (sources in order)
4. group_vars/all beside the playbook (the directory of the play's playbook file)
5. group_vars/<group> for the host's other groups, in the order of 2
6. group_vars/<group> beside the playbook, in the order of 2
7. the host's vars from the inventory sources (`host:port` sets ansible_port)
8. host_vars/<host> beside each inventory source
9. host_vars/<host> beside the playbook; extra vars (`-e`) on top, applied by
   the caller with `merge_extra`

So `group_vars/all.yml: http_port: 80` beats a child group's inventory
`[web:vars] http_port=8080`, as in Ansible. Depth and priority decide only
within a layer. An Inventory holds rows 1-3, 5 and 7-8 per host (HostLayers);
rows 4, 6 and 9 are slotted in per playbook directory by
fleetkit.inventory.playbook_vars (`HostLayers.merged`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fleetkit.errors import InventoryError

PRIORITY_VAR = "ansible_group_priority"
ROOT_GROUP = "all"


class _HasChildren(Protocol):
    @property
    def children(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class VarsFiles:
    """One inventory source's group_vars/ and host_vars/ files, by name."""

    groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    hosts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class HostLayers:
    """A host's inventory variables kept by row, so the playbook's rows slot in between.

    `groups`: rows 1-3 merged (inventory sources' group vars, then group_vars/all);
    `group_files`: row 5 merged; `own`: rows 7-8 merged; `ranked`: the host's groups
    (`all` excluded) in merge order, for row 6.
    """

    groups: Mapping[str, Any] = field(default_factory=dict)
    group_files: Mapping[str, Any] = field(default_factory=dict)
    own: Mapping[str, Any] = field(default_factory=dict)
    ranked: tuple[str, ...] = ()

    def merged(self, name: str, playbook: VarsFiles | None = None) -> dict[str, Any]:
        """The host's vars, rows 1-9 (the playbook's rows 4, 6, 9 from `playbook`)."""
        pb = playbook or VarsFiles()
        out = dict(self.groups)
        out.update(pb.groups.get(ROOT_GROUP, {}))
        out.update(self.group_files)
        for group in self.ranked:
            out.update(pb.groups.get(group, {}))
        out.update(self.own)
        out.update(pb.hosts.get(name, {}))
        return out


def merge_extra(host_vars: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A host's merged vars with extra vars (`-e`) on top: extra always wins."""
    return {**host_vars, **extra}


class GroupOrder:
    """The order in which a host's groups merge: (depth, priority, name)."""

    def __init__(self, keys: Mapping[str, tuple[int, int, str]]) -> None:
        self._keys = keys

    def sorted(self, names: Iterable[str]) -> list[str]:
        return sorted(names, key=self._keys.__getitem__)

    def priority(self, name: str) -> int:
        return self._keys[name][1]


def host_precedence(
    groups: Mapping[str, _HasChildren], priorities: Mapping[str, Any]
) -> GroupOrder:
    """GroupOrder for an acyclic group tree rooted at `all` (depth = longest path).

    priorities holds each group's ansible_group_priority from the inventory sources.
    """
    depth = _depths(groups)
    keys = {
        name: (depth.get(name, 1), _priority(name, priorities.get(name, 1)), name)
        for name in groups
    }
    return GroupOrder(keys)


def _depths(groups: Mapping[str, _HasChildren]) -> dict[str, int]:
    """Longest distance of each group from `all`, walking children in topological order."""
    indegree = dict.fromkeys(groups, 0)
    for group in groups.values():
        for child in group.children:
            indegree[child] += 1
    depth = dict.fromkeys(groups, 0)
    ready = [name for name, count in indegree.items() if count == 0]
    while ready:
        name = ready.pop()
        for child in groups[name].children:
            depth[child] = max(depth[child], depth[name] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return depth


def _priority(name: str, value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise InventoryError(
            f"group {name!r}: {PRIORITY_VAR} must be a whole number, got {value!r}"
        ) from None
