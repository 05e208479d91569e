"""Ansible collections already on disk: where they are looked for and what they hold.

As ansible-core 2.19 finds them: the playbook's own `collections/` folder, then
each folder of the collections path (ansible.cfg's collections_path, else
ANSIBLE_COLLECTIONS_PATH, else ~/.ansible/collections:/usr/share/ansible/collections),
then every sys.path entry (COLLECTIONS_SCAN_SYS_PATH), each holding
`ansible_collections/NAMESPACE/NAME/`. The first folder that has a collection
is the collection: a later copy of it is masked whole. A collection's roles are
`roles/ROLE/`, its modules `plugins/modules/NAME.py` (or a routing entry of its
meta/runtime.yml). Nothing is downloaded; the search paths are parameters.
"""

from __future__ import annotations

import json
import keyword
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetkit import safeio
from fleetkit.errors import FleetkitError
from fleetkit.yamlpos import load_yaml

COLLECTIONS_PATH_VARS = ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS")
DEFAULT_COLLECTIONS_PATH = ("~/.ansible/collections", "/usr/share/ansible/collections")
DEFAULT_ROLES_PATH = ("~/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles")
"""ansible-core 2.19's defaults (COLLECTIONS_PATHS, DEFAULT_ROLES_PATH)."""
BUILTIN = frozenset({"ansible.builtin", "ansible.legacy"})


def collections_path(
    environ: Mapping[str, str] | None = None, configured: Sequence[Path] | None = None
) -> tuple[Path, ...]:
    """The collections path: configured (ansible.cfg's collections_path, as fleetkit/config
    resolves it), else ANSIBLE_COLLECTIONS_PATH, else Ansible's default."""
    if configured is not None:
        return tuple(configured)
    env = os.environ if environ is None else environ
    for name in COLLECTIONS_PATH_VARS:
        value = env.get(name)
        if value:
            return tuple(Path(p).expanduser() for p in value.split(os.pathsep) if p)
    return tuple(Path(p).expanduser() for p in DEFAULT_COLLECTIONS_PATH)


def is_collection_name(name: str) -> bool:
    """namespace.name, each part a Python identifier that is no keyword (Ansible's rule)."""
    parts = name.split(".")
    return len(parts) == 2 and all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def is_fqcr(name: str) -> bool:
    """A fully qualified collection reference: ns.coll.resource (or ns.coll.sub.resource)."""
    parts = name.split(".")
    return (
        len(parts) >= 3
        and is_collection_name(".".join(parts[:2]))
        and all(p.isidentifier() for p in parts[2:])
    )


def search_list(names: Sequence[str]) -> tuple[str, ...]:
    """A `collections:` list as Ansible completes it: ansible.legacy appended when the list
    is not empty and names neither ansible.builtin nor ansible.legacy."""
    out = tuple(dict.fromkeys(str(n) for n in names))
    if out and not BUILTIN & set(out):
        out += ("ansible.legacy",)
    return out


@dataclass(frozen=True)
class CollectionSearch:
    """The folders that hold `ansible_collections/`, in Ansible's order."""

    roots: tuple[Path, ...] = ()

    @classmethod
    def for_playbook(
        cls,
        playbook_dir: Path | None,
        configured: Sequence[Path] = (),
        *,
        scan_sys_path: bool = True,
    ) -> CollectionSearch:
        """The playbook's collections/ folder, then configured, then sys.path."""
        given = [*([playbook_dir / "collections"] if playbook_dir else []), *configured]
        if scan_sys_path:
            given += [Path(p) for p in sys.path if p]
        roots: list[Path] = []
        for path in given:
            root = path.expanduser()
            if root.name == "ansible_collections":
                root = root.parent
            if root not in roots and (root / "ansible_collections").is_dir():
                roots.append(root)
        return cls(tuple(roots))

    def collection_dir(self, name: str) -> Path | None:
        """Where collection `ns.coll` is (the first root that has it), or None."""
        if not is_collection_name(name):
            return None
        ns, coll = name.split(".")
        for root in self.roots:
            folder = root / "ansible_collections" / ns / coll
            if folder.is_dir():
                return folder
        return None

    def role(self, name: str, collection_list: Sequence[str] = ()) -> tuple[str, Path, str] | None:
        """A collection's role: (its short name, its folder, its collection), for a FQCN or
        for a short name searched in collection_list; None when no collection has it."""
        if is_fqcr(name):
            parts = name.split(".")
            candidates = [(".".join(parts[:2]), parts[2:-1], parts[-1])]
        elif collection_list and "/" not in name:
            candidates = [(c, [], name) for c in collection_list if c not in BUILTIN]
        else:
            return None
        for collection, subdirs, short in candidates:
            folder = self.collection_dir(collection)
            if folder is None:
                continue
            path = folder.joinpath("roles", *subdirs, short)
            if path.is_dir():
                return short, path, collection
        return None

    def module_path(self, fqcn: str) -> Path | None:
        """The Python file of module ns.coll.name in its collection, or None."""
        if not is_fqcr(fqcn):
            return None
        parts = fqcn.split(".")
        folder = self.collection_dir(".".join(parts[:2]))
        if folder is None:
            return None
        path = folder.joinpath("plugins", "modules", *parts[2:-1], f"{parts[-1]}.py")
        return path if path.is_file() else None

    def has_module(self, collection: str, name: str) -> bool:
        """Whether collection holds module `name` (its file, or a routing entry)."""
        if self.module_path(f"{collection}.{name}") is not None:
            return True
        folder = self.collection_dir(collection)
        if folder is None:
            return False
        routing = _runtime(folder).get("plugin_routing")
        modules = routing.get("modules") if isinstance(routing, dict) else None
        return isinstance(modules, dict) and name in modules

    def resolve_module(self, name: str, collection_list: Sequence[str]) -> str | None:
        """The FQCN a short module name means under a `collections:` list: the first listed
        collection that has it; None when ansible.builtin/legacy come first or none has it."""
        if "." in name:
            return None
        for collection in collection_list:
            if collection in BUILTIN:
                return None
            if self.has_module(collection, name):
                return f"{collection}.{name}"
        return None

    def installed(self) -> Iterator[tuple[str, Path]]:
        """Every visible collection (ns.coll, folder): the first copy of each, by root order."""
        seen: set[str] = set()
        for root in self.roots:
            base = root / "ansible_collections"
            for ns in sorted(p for p in base.iterdir() if p.is_dir()):
                for coll in sorted(p for p in ns.iterdir() if p.is_dir()):
                    name = f"{ns.name}.{coll.name}"
                    if is_collection_name(name) and name not in seen:
                        seen.add(name)
                        yield name, coll

    def roles(self) -> Iterator[tuple[str, str]]:
        """(collection, role) for every role of every visible collection."""
        for name, folder in self.installed():
            roles = folder / "roles"
            if roles.is_dir():
                for role in sorted(p.name for p in roles.iterdir() if p.is_dir()):
                    yield name, role


def collection_version(folder: Path) -> str | None:
    """A collection's version: MANIFEST.json's collection_info (an installed build), else
    galaxy.yml's (a source checkout); None when neither says."""
    manifest = folder / "MANIFEST.json"
    if manifest.is_file():
        try:
            info = json.loads(safeio.read_text(manifest, FleetkitError)).get("collection_info")
        except (ValueError, FleetkitError, AttributeError):
            info = None
        if isinstance(info, dict) and info.get("version"):
            return str(info["version"])
    for name in ("galaxy.yml", "galaxy.yaml"):
        data = _yaml(folder / name)
        if data.get("version"):
            return str(data["version"])
    return None


def _runtime(folder: Path) -> dict[str, Any]:
    for name in ("runtime.yml", "runtime.yaml"):
        data = _yaml(folder / "meta" / name)
        if data:
            return data
    return {}


def _yaml(path: Path) -> dict[str, Any]:
    """A small metadata file as a mapping (empty when absent or unreadable)."""
    if not path.is_file():
        return {}
    try:
        data = load_yaml(path, FleetkitError)
    except FleetkitError:
        return {}
    return data if isinstance(data, dict) else {}
