"""Inventories of many names over the lab's few hosts (as bench/ does for big counts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fleetkit.inventory.load import load_inventory


def alias_inventory(
    lab_inventory: Path | str,
    out: Path,
    n_names: int,
    *,
    groups: int = 1,
    group_prefix: str = "group",
    name_prefix: str = "node",
) -> dict[str, str]:
    """Write an inventory of `n_names` hosts node000.. onto the lab hosts' addresses
    (round robin) with the lab's connection vars; with groups > 1, name i is in
    group `{group_prefix}{i % groups}`. Returns {name: lab host}."""
    lab = load_inventory(str(lab_inventory))
    real = sorted(lab.hosts)
    shared = {
        k: v
        for k, v in lab.hosts[real[0]].vars.items()
        if k in ("user", "ssh_key", "ssh_known_hosts", "host_key_policy", "port")
    }
    mapping: dict[str, str] = {}
    children: dict[str, Any] = {f"{group_prefix}{g}": {"hosts": {}} for g in range(groups)}
    for i in range(n_names):
        name = f"{name_prefix}{i:03d}"
        host = real[i % len(real)]
        mapping[name] = host
        address = lab.hosts[host].vars.get("address", host)
        children[f"{group_prefix}{i % groups}"]["hosts"][name] = {"address": address}
    out.write_text(yaml.safe_dump({"all": {"vars": shared, "children": children}}))
    return mapping
