"""Roles on disk: where a role is found and what its directories hold.

Search order (Ansible's): `roles/` beside the playbook, then each directory of
the roles path (FLEETKIT_ROLES_PATH, else ansible.cfg's roles_path as Ansible
resolves it: ANSIBLE_ROLES_PATH over the file over Ansible's default; colon-separated),
then the playbook's own directory; a name with a slash is a path. A role's
files are `tasks/ handlers/ vars/ defaults/ meta/` with `main.yml`,
`main.yaml` or `main`; `templates/` and `files/` are searched first by its tasks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetkit.errors import PlaybookError, Position
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
    """A role found on disk."""

    name: str
    path: Path

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


def find_role(name: str, playbook_dir: Path, search: Sequence[Path], pos: Position) -> RoleDir:
    """The role called name, searched as Ansible does; PlaybookError naming where we looked."""
    short = name.rsplit(".", 1)[-1] if "/" not in name else Path(name).name
    candidates: list[Path] = []
    if "/" in name or name.startswith("."):
        candidates.append((playbook_dir / name).expanduser())
    else:
        candidates.append(playbook_dir / "roles" / name)
        candidates += [base / name for base in search]
        candidates.append(playbook_dir / name)
        if short != name:  # a collection-style name: namespace.collection.role
            candidates.append(playbook_dir / "roles" / short)
            candidates += [base / short for base in search]
    for c in candidates:
        if c.is_dir():
            return RoleDir(short, c.resolve())
    known: set[str] = set()
    for base in (playbook_dir / "roles", *search):
        if base.is_dir():
            known.update(p.name for p in base.iterdir() if p.is_dir())
    looked = ", ".join(str(c.parent) for c in candidates)
    raise PlaybookError(
        f"role '{name}' not found{did_you_mean(name, known)} (looked in {looked};"
        " set roles_path in ansible.cfg, or ANSIBLE_ROLES_PATH, for more places)",
        position=pos,
    )
