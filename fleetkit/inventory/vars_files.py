"""group_vars/ and host_vars/ folders, searched as Ansible searches them.

For a name, the first of NAME (a file or a folder), NAME.yml, NAME.yaml and
NAME.json is used. A folder's files (no extension, .yml, .yaml or .json; hidden
files and `~` backups skipped) load in sorted order, subfolders included, a later
file replacing an earlier one's keys. Files for names not in the inventory are
ignored, as in Ansible. Files are read through fleetkit.safeio: a FIFO, device or
socket (or a link to one) is an error naming it, never a blocked or endless read.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from fleetkit.errors import InventoryError, Position
from fleetkit.yamlpos import load_yaml, position_of

VARS_EXTENSIONS = (".yml", ".yaml", ".json")


def load_vars_dir(directory: Path, names: Collection[str]) -> dict[str, dict[str, Any]]:
    """Variables per name found in directory (one listing; names without files absent)."""
    if not directory.is_dir():
        return {}
    best: dict[str, tuple[int, Path]] = {}  # name -> (rank, path): lower rank wins
    for entry in os.scandir(directory):
        if _skipped(entry.name):
            continue
        stem, ext = os.path.splitext(entry.name)
        offers = [(entry.name, 0)]
        if ext in VARS_EXTENSIONS:
            offers.append((stem, 1 + VARS_EXTENSIONS.index(ext)))
        for name, rank in offers:
            if name in best and best[name][0] <= rank:
                continue
            best[name] = (rank, Path(entry.path))
    return {name: _load_entry(best[name][1]) for name in names if name in best}


def _skipped(filename: str) -> bool:
    return filename.startswith(".") or filename.endswith("~")


def _load_entry(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        return _load_file(path)
    merged: dict[str, Any] = {}
    for file in _folder_files(path):
        merged.update(_load_file(file))
    return merged


def _folder_files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for name in sorted(os.listdir(folder)):
        path = folder / name
        ext = os.path.splitext(name)[1]
        if _skipped(name):
            continue
        if path.is_dir() and not ext:
            found.extend(_folder_files(path))
        elif path.exists() and (not ext or ext in VARS_EXTENSIONS):
            found.append(path)  # a FIFO or device here is refused by the read, not skipped
    return found


def _load_file(path: Path) -> dict[str, Any]:
    data = load_yaml(path, InventoryError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InventoryError(
            f"a vars file must hold a mapping of variables, not {type(data).__name__}",
            position=position_of(data) or Position(path, 1),
            hint="write one `name: value` per line",
        )
    return data
