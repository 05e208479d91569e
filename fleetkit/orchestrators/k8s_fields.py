"""Server-side-apply field ownership: which parts of a live object one field manager owns.

The API server records ownership in metadata.managedFields as FieldsV1 trees
("f:spec" -> {"f:replicas": {}}, list items as "k:{...}" or "v:..."). fleetkit
builds each apply body from the live object's fields its own Apply entry owns,
then sets what the user named: a field the user left out is sent unchanged, so
the server neither resets it nor sees ownership move.
"""

from __future__ import annotations

import copy
import json
from typing import Any

Json = dict[str, Any]


def owned_fields(obj: Json | None, manager: str, operation: str = "Apply") -> Json:
    """The FieldsV1 tree of manager's entry for the main resource (empty when none)."""
    tree: Json = {}
    for entry in (obj or {}).get("metadata", {}).get("managedFields") or ():
        if (
            entry.get("manager") == manager
            and entry.get("operation") == operation
            and not entry.get("subresource")
        ):
            _merge(tree, entry.get("fieldsV1") or {})
    return tree


def _merge(into: Json, tree: Json) -> None:
    for key, sub in tree.items():
        _merge(into.setdefault(key, {}), sub or {})


def _item_matches(item: Any, key: str) -> bool:
    if key.startswith("k:"):
        wanted = json.loads(key[2:])
        return isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())
    if key.startswith("v:"):
        return bool(item == json.loads(key[2:]))
    return False


def owned_subset(value: Any, tree: Json) -> Any:
    """The part of value that tree covers: a leaf ({} in the tree) is taken whole."""
    if not tree or (set(tree) == {"."}):
        return copy.deepcopy(value)
    if isinstance(value, dict):
        out: Json = {}
        for key, sub in tree.items():
            if key.startswith("f:") and key[2:] in value:
                out[key[2:]] = owned_subset(value[key[2:]], sub or {})
        return out
    if isinstance(value, list):
        items = []
        for item in value:
            for key, sub in tree.items():
                if _item_matches(item, key):
                    items.append(owned_subset(item, sub or {}))
                    break
        return items
    return copy.deepcopy(value)
