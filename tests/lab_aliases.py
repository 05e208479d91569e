"""Inventories of many names over the lab's few hosts (as bench/ does for big counts)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


def _lab_hosts(group: Mapping[str, Any], out: dict[str, dict[str, Any]]) -> None:
    for name, hostvars in (group.get("hosts") or {}).items():
        out.setdefault(str(name), dict(hostvars or {}))
    for child in (group.get("children") or {}).values():
        _lab_hosts(child or {}, out)


def alias_inventory(
    lab_inventory: Path | str,
    out: Path,
    n_names: int,
    *,
    groups: int = 1,
    group_prefix: str = "group",
    name_prefix: str = "node",
) -> dict[str, str]:
    """Write an inventory of `n_names` hosts node000.. onto the lab hosts (round robin):
    the lab's `all.vars` and each lab host's own variables, copied as written (whatever
    names the lab inventory uses for the connection); with groups > 1, name i is in
    group `{group_prefix}{i % groups}`. Returns {name: lab host}."""
    lab = yaml.safe_load(Path(lab_inventory).read_text())["all"]
    real: dict[str, dict[str, Any]] = {}
    _lab_hosts(lab, real)
    names = sorted(real)
    mapping: dict[str, str] = {}
    children: dict[str, Any] = {f"{group_prefix}{g}": {"hosts": {}} for g in range(groups)}
    for i in range(n_names):
        name = f"{name_prefix}{i:03d}"
        host = names[i % len(names)]
        mapping[name] = host
        children[f"{group_prefix}{i % groups}"]["hosts"][name] = dict(real[host])
    shared = dict(lab.get("vars") or {})
    out.write_text(yaml.safe_dump({"all": {"vars": shared, "children": children}}))
    return mapping
