"""Load an inventory from what `-i` names: a hosts file, or a directory holding one.

A directory holds exactly one of hosts.yml, hosts.yaml, hosts.ini or hosts, with
group_vars/ and host_vars/ beside it; a file given directly also picks up the
group_vars/ and host_vars/ beside it. .yml/.yaml/.json files are YAML, .ini files
INI, anything else is recognised by its first meaningful line.
"""

from __future__ import annotations

import re
from pathlib import Path

from fleetkit.errors import InventoryError
from fleetkit.inventory.builder import InventoryBuilder
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.vars_files import load_vars_dir
from fleetkit.yamlpos import read_text

HOSTS_FILES = ("hosts.yml", "hosts.yaml", "hosts.ini", "hosts")
YAML_SUFFIXES = (".yml", ".yaml", ".json")
# "all:", "'my group':", "{" or "---" start YAML; INI starts with [section] or host lines
_YAML_START = re.compile(r"""^(---|\{|("[^"]*"|'[^']*'|[^\s#;\[\]=][^\s=]*?):(\s|$))""")


def load_inventory(path: str | Path) -> Inventory:
    """Parse an inventory file or directory, with its group_vars/ and host_vars/."""
    source = Path(path)
    if source.is_dir():
        hosts_file, base = _hosts_file(source), source
    elif source.is_file():
        hosts_file, base = source, source.parent
    else:
        raise InventoryError(
            f"inventory {str(source)!r} not found",
            hint="-i takes a hosts file (hosts.yml, hosts.ini) or a directory holding one",
        )
    text = read_text(hosts_file, InventoryError)
    builder = InventoryBuilder(source)
    if is_yaml(hosts_file, text):
        from fleetkit.inventory.yaml_inv import parse_yaml_inventory

        parse_yaml_inventory(text, hosts_file, builder)
    else:
        from fleetkit.inventory.ini import parse_ini

        parse_ini(text, hosts_file, builder)
    return builder.build(
        load_vars_dir(base / "group_vars", builder.groups),
        load_vars_dir(base / "host_vars", builder.hosts),
    )


def is_yaml(path: Path, text: str) -> bool:
    """Whether a hosts file is YAML: by suffix, else by its first meaningful line."""
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES or suffix == ".ini":
        return suffix != ".ini"
    for raw in text.splitlines():
        line = raw.strip()
        if line and line[0] not in "#;":
            return bool(_YAML_START.match(line))
    return False


def _hosts_file(directory: Path) -> Path:
    found = [directory / name for name in HOSTS_FILES if (directory / name).is_file()]
    if not found:
        raise InventoryError(
            f"no hosts file in inventory directory {str(directory)!r}",
            hint=f"add one of {', '.join(HOSTS_FILES)}",
        )
    if len(found) > 1:
        raise InventoryError(
            f"inventory directory {str(directory)!r} has several hosts files:"
            f" {', '.join(p.name for p in found)}",
            hint="keep one, so it is clear which one fleetkit reads",
        )
    return found[0]
