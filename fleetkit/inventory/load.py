"""Load an inventory from what `-i` names: files and directories, merged in order.

As in Ansible, a directory is a set of sources: every entry in sorted order
(subdirectories walked the same way), except hidden ones, group_vars/,
host_vars/, vars_plugins/ and files with Ansible's ignored extensions (.cfg,
.retry, .orig, .md, .txt, .rst, .bak, .swp, .pyc, .pyo, .rpm, `~`). Each source
adds to one inventory; group_vars/ and host_vars/ are read beside each source
given with -i (a directory: inside it; a file: beside it). .yml/.yaml/.json
files are YAML, .ini files INI, anything else is recognised by its first
meaningful line. An empty file, or a directory with no source, adds nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from fleetkit.errors import InventoryError
from fleetkit.inventory.builder import InventoryBuilder
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.vars import VarsFiles
from fleetkit.inventory.vars_files import load_vars_dir
from fleetkit.yamlpos import read_text

YAML_SUFFIXES = (".yml", ".yaml", ".json")
IGNORED_NAMES = ("group_vars", "host_vars", "vars_plugins")
IGNORED_SUFFIXES = (
    *(".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst"),
    *(".orig", ".cfg", ".retry"),
)
# "all:", "'my group':", "{" or "---" start YAML; INI starts with [section] or host lines
_YAML_START = re.compile(r"""^(---|\{|("[^"]*"|'[^']*'|[^\s#;\[\]=][^\s=]*?):(\s|$))""")

Sources = str | Path | Sequence[str | Path]


def load_inventory(path: Sources) -> Inventory:
    """Parse inventory sources (a file, a directory, or several in order) into one."""
    sources = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    if not sources:
        raise InventoryError("no inventory given", hint="-i takes an inventory file or directory")
    builder = InventoryBuilder(sources[0])
    for source in sources:
        if not source.exists():
            raise InventoryError(
                f"inventory {str(source)!r} not found",
                hint="-i takes an inventory file (hosts.yml, hosts.ini) or a directory",
            )
        for file in source_files(source):
            _parse_file(file, builder)
    files = []
    for source in sources:
        base = source if source.is_dir() else source.parent
        files.append(
            VarsFiles(
                groups=load_vars_dir(base / "group_vars", builder.groups),
                hosts=load_vars_dir(base / "host_vars", builder.hosts),
            )
        )
    return builder.build(files)


def source_files(source: Path) -> Iterator[Path]:
    """The files a source stands for: itself, or a directory's entries as Ansible walks them."""
    if not source.is_dir():
        yield source
        return
    for name in sorted(os.listdir(source)):
        if ignored(name):
            continue
        yield from source_files(source / name)


def ignored(name: str) -> bool:
    """Whether Ansible skips this directory entry as an inventory source."""
    return name.startswith(".") or name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def _parse_file(file: Path, builder: InventoryBuilder) -> None:
    text = read_text(file, InventoryError)
    if not text.strip():
        return
    if is_yaml(file, text):
        from fleetkit.inventory.yaml_inv import parse_yaml_inventory

        parse_yaml_inventory(text, file, builder)
    else:
        from fleetkit.inventory.ini import parse_ini

        parse_ini(text, file, builder)


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
