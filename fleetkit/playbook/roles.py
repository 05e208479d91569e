"""Roles on disk: where a role is found and what its directories hold.

Search order (Ansible's): `roles/` beside the playbook, then each directory of
the roles path (FLEETKIT_ROLES_PATH, else ansible.cfg's roles_path as Ansible
resolves it: ANSIBLE_ROLES_PATH over the file over Ansible's default; colon-separated),
then the playbook's own directory; a name with a slash is a path. A collection's
roles (`ns.coll.role`, or a short name in a play's `collections:`) come first
(fleetkit/galaxy/search.py). A role's files are `tasks/ handlers/ vars/
defaults/ meta/` with `main.yml`, `main.yaml` or `main`; `templates/` and
`files/` are searched first by its tasks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetkit.errors import PlaybookError, Position
from fleetkit.galaxy.search import BUILTIN, CollectionSearch, is_fqcr
from fleetkit.text import did_you_mean
from fleetkit.yamlpos import load_yaml, position_of

ROLES_PATH_VARS = ("FLEETKIT_ROLES_PATH", "ANSIBLE_ROLES_PATH")
MAIN_NAMES = ("main.yml", "main.yaml", "main")


def roles_path(
    environ: Mapping[str, str] | None = None, configured: Sequence[Path] | None = None
) -> tuple[Path, ...]:
    """The roles path: FLEETKIT_ROLES_PATH, else configured (ansible.cfg's roles_path,
    fleetkit/config), else ANSIBLE_ROLES_PATH."""
    env = os.environ if environ is None else environ
    for name in ROLES_PATH_VARS if configured is None else ROLES_PATH_VARS[:1]:
        value = env.get(name)
        if value:
            return tuple(Path(p).expanduser() for p in value.split(":") if p)
    return tuple(configured or ())


@dataclass(frozen=True)
class RoleDir:
    """A role found on disk (in a collection: its short name and the collection's)."""

    name: str
    path: Path
    collection: str | None = None

    @property
    def fqcn(self) -> str:
        """ns.coll.role for a collection's role, else the role's name."""
        return f"{self.collection}.{self.name}" if self.collection else self.name

    def file(self, kind: str, name: str | None = None) -> Path | None:
        """tasks/main.yml (or tasks/<name>[.yml|.yaml]); None when absent."""
        base = self.path / kind
        names = MAIN_NAMES if name is None else (name, f"{name}.yml", f"{name}.yaml")
        for candidate in names:
            if (base / candidate).is_file():
                return base / candidate
        return None

    def vars_file(self, kind: str, name: str | None, pos: Position) -> dict[str, Any]:
        """vars/ or defaults/ as a mapping (empty when the role has none)."""
        path = self.file(kind, name)
        if path is None:
            if name is not None:
                raise PlaybookError(
                    f"role '{self.name}': {kind}/{name} not found in {self.path}", position=pos
                )
            return {}
        data = load_yaml(path, PlaybookError)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise PlaybookError(
                f"role '{self.name}': {kind} must be a mapping of names to values",
                position=position_of(data) or Position(path, 1),
            )
        return dict(data)

    def meta(self) -> dict[str, Any]:
        path = self.file("meta")
        if path is None:
            return {}
        data = load_yaml(path, PlaybookError)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise PlaybookError(
                f"role '{self.name}': meta/main.yml must be a mapping",
                position=position_of(data) or Position(path, 1),
            )
        return data


def find_role(
    name: str,
    playbook_dir: Path,
    search: Sequence[Path],
    pos: Position,
    *,
    collections: CollectionSearch | None = None,
    collection_list: Sequence[str] = (),
    basedir: Path | None = None,
) -> RoleDir:
    """The role called name, searched as Ansible does; PlaybookError naming where we looked.

    A collection's role first (a FQCN `ns.coll.role`, or a short name in the
    `collections:` list), then `roles/` beside the playbook, the roles path, the
    folder of the role that depends on it (basedir) and the playbook's folder; a
    dotted Galaxy name (`namespace.role`) is a folder of that name.
    """
    if collections is not None and (collection_list or is_fqcr(name)):
        found = collections.role(name, collection_list)
        if found is not None:
            short, path, collection = found
            return RoleDir(short, path.resolve(), collection=collection)
    short = Path(name).name if "/" in name else name
    candidates: list[Path] = []
    if "/" in name or name.startswith("."):
        candidates.append((playbook_dir / name).expanduser())
    else:
        candidates.append(playbook_dir / "roles" / name)
        candidates += [base / name for base in search]
        if basedir is not None:
            candidates.append(basedir / name)
        candidates.append(playbook_dir / name)
    for c in candidates:
        if c.is_dir():
            return RoleDir(short, c.resolve())
    raise PlaybookError(
        _not_found(name, playbook_dir, search, candidates, collections, collection_list),
        position=pos,
    )


def _not_found(
    name: str,
    playbook_dir: Path,
    search: Sequence[Path],
    candidates: Sequence[Path],
    collections: CollectionSearch | None,
    collection_list: Sequence[str],
) -> str:
    known: set[str] = set()
    for base in (playbook_dir / "roles", *search):
        if base.is_dir():
            known.update(p.name for p in base.iterdir() if p.is_dir())
    looked = ", ".join(str(c.parent) for c in candidates)
    where = ""
    if collections is not None and is_fqcr(name):
        collection = ".".join(name.split(".")[:2])
        folder = collections.collection_dir(collection)
        where = (
            f"collection {collection} has no role {name.split('.', 2)[2]!r} ({folder}); "
            if folder is not None
            else f"collection {collection} is not installed"
            f" (looked in {', '.join(str(r) for r in collections.roots) or 'no collections path'});"
            " "
        )
        known |= {f"{c}.{r}" for c, r in collections.roles()}
    elif collection_list:
        listed = [c for c in collection_list if c not in BUILTIN]
        if listed:
            where = f"not in the play's collections {', '.join(listed)}; "
    return (
        f"role '{name}' not found{did_you_mean(name, known)} ({where}looked in {looked};"
        " set roles_path in ansible.cfg, or ANSIBLE_ROLES_PATH, for more places)"
    )
