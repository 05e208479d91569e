"""Variable precedence: which value a host sees when several places set it.

From lowest to highest (a later layer replaces a key whole, Ansible's default
`hash_behaviour=replace`; dicts are not deep-merged):

1. group `all`: its inventory-file vars, then group_vars/all
2. every other group the host is in, directly or through children, ordered by
   depth below `all` (parents before children), then `ansible_group_priority`
   (default 1, higher wins), then name (alphabetical: at the same depth `b` beats
   `a`); for each group its inventory-file vars, then its group_vars/ file(s)
3. the host's inline inventory vars (`host:port` sets `port`), then host_vars/
4. extra vars (`-e`), applied by the caller with `merge_extra`

group_vars/ and host_vars/ files apply at their own group's or host's level (the
design's contract), so a child group's inventory vars still beat group_vars/all.
Connection-variable aliases (ansible_host -> address ...) are copied to
fleetkit's name inside each layer before merging (connection.spec.
with_canonical_names), so the most specific layer wins whichever spelling it
uses; both names stay in the merged vars.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fleetkit.errors import InventoryError
from fleetkit.inventory.model import Group

PRIORITY_VAR = "ansible_group_priority"


def merge_extra(host_vars: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A host's merged vars with extra vars (`-e`) on top: extra always wins."""
    return {**host_vars, **extra}


class GroupOrder:
    """The order in which a host's groups merge: (depth, priority, name)."""

    def __init__(self, keys: Mapping[str, tuple[int, int, str]]) -> None:
        self._keys = keys

    def sorted(self, names: Iterable[str]) -> list[str]:
        return sorted(names, key=self._keys.__getitem__)


def host_precedence(
    groups: Mapping[str, Group], group_vars: Mapping[str, Mapping[str, Any]]
) -> GroupOrder:
    """GroupOrder for an acyclic group tree rooted at `all` (depth = longest path)."""
    depth = _depths(groups)
    keys = {name: (depth.get(name, 1), _priority(name, group_vars[name]), name) for name in groups}
    return GroupOrder(keys)


def _depths(groups: Mapping[str, Group]) -> dict[str, int]:
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


def _priority(name: str, own_vars: Mapping[str, Any]) -> int:
    value = own_vars.get(PRIORITY_VAR, 1)
    try:
        if isinstance(value, bool):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise InventoryError(
            f"group {name!r}: {PRIORITY_VAR} must be a whole number, got {value!r}"
        ) from None
