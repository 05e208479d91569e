"""A requirements file checked against the search paths a run uses (explicit parameters)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from fleetkit.galaxy import search as paths
from fleetkit.galaxy.requirements import Finding, check, read_requirements
from fleetkit.galaxy.search import DEFAULT_ROLES_PATH, CollectionSearch

ROLES_PATH_VARS = ("FLEETKIT_ROLES_PATH", "ANSIBLE_ROLES_PATH")


def roles_search(
    cwd: Path, configured: Sequence[Path] | None, environ: Mapping[str, str] | None = None
) -> tuple[Path, ...]:
    """roles/ beside the playbooks (cwd), then the roles path: configured, else
    FLEETKIT_ROLES_PATH or ANSIBLE_ROLES_PATH, else Ansible's default."""
    env = os.environ if environ is None else environ
    if configured is None:
        value = next((env[v] for v in ROLES_PATH_VARS if env.get(v)), None)
        configured = tuple(
            Path(p).expanduser()
            for p in (value.split(os.pathsep) if value else DEFAULT_ROLES_PATH)
            if p
        )
    return (cwd / "roles", *configured)


def check_file(
    requirements: Path,
    *,
    cwd: Path,
    roles_path: Sequence[Path] | None = None,
    collections_path: Sequence[Path] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Each requirement of the file and what is installed for it."""
    wanted = read_requirements(requirements, cwd)
    search = CollectionSearch.for_playbook(cwd, paths.collections_path(environ, collections_path))
    return check(wanted, roles_dirs=roles_search(cwd, roles_path, environ), collections=search)
