"""What a Galaxy requirements file names, and whether each is installed where a run finds it.

The file is read as ansible-galaxy 2.19 reads it: the old format (a list of roles)
or a mapping with `roles:` and `collections:` only; a role as a mapping (`src`,
`name`, `version`, `scm`, or `role:`) or a "src[,version[,name]]" string, its
name derived from a repository URL as ansible-galaxy derives it; `include:`
files; a collection as `ns.coll` or a mapping with `name`, `version` (one or
more of ==, !=, >, >=, <, <=, * separated by commas), `type` and `source`.

Nothing is downloaded. A role is installed when a folder of its name is in
roles/ (beside the playbooks) or the roles path; its version is the one
ansible-galaxy recorded (meta/.galaxy_install_info), compared as ansible-galaxy
does (the same text). A collection is installed when the collection search
(fleetkit/galaxy/search.py) finds it; its version is MANIFEST.json's or
galaxy.yml's, compared with the wanted range as semantic versions. A collection
named by a git URL, a tarball, a URL or a folder is listed as not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from fleetkit.errors import Position, RequirementsError
from fleetkit.galaxy.search import CollectionSearch, collection_version, is_collection_name
from fleetkit.yamlpos import load_yaml, position_of

ROLE_KEYS = frozenset({"name", "role", "scm", "src", "version"})
SOURCE_TYPES = frozenset({"git", "file", "url", "dir", "subdirs"})


class Status(Enum):
    OK = "ok"
    MISSING = "missing"
    VERSION = "wrong version"
    UNKNOWN = "version unknown"
    UNCHECKED = "not checked"

    @property
    def fails(self) -> bool:
        """Whether this makes `fleetkit galaxy check` exit 1."""
        return self in (Status.MISSING, Status.VERSION)


@dataclass(frozen=True)
class Requirement:
    """One role or collection a requirements file names."""

    kind: str
    """'role' or 'collection'."""
    name: str
    version: str
    """The wanted version ('' for a role without one, '*' for any collection)."""
    pos: Position
    source_type: str = "galaxy"


@dataclass(frozen=True)
class Finding:
    """A requirement and what is on disk for it."""

    requirement: Requirement
    status: Status
    installed: str | None = None
    """The installed version, when one is recorded."""
    path: Path | None = None
    detail: str = ""


# reading -----------------------------------------------------------------------------


def read_requirements(path: Path, cwd: Path) -> list[Requirement]:
    """Every role and collection the file names (with its include: files), in order."""
    data = load_yaml(path, RequirementsError)
    if data is None:
        raise RequirementsError(f"no requirements found in {path}", position=Position(path, 1))
    if isinstance(data, list):
        return list(_roles(data, path, cwd, Position(path, 1)))
    if not isinstance(data, dict):
        raise RequirementsError(
            "a requirements file is a list of roles, or a mapping with roles: and"
            f" collections:, got {type(data).__name__}",
            position=position_of(data) or Position(path, 1),
        )
    extra = sorted(str(k) for k in data if k not in ("roles", "collections"))
    if extra:
        raise RequirementsError(
            f"only 'roles' and 'collections' may be keys of a requirements file, found:"
            f" {', '.join(extra)}",
            position=position_of(data, extra[0]) or Position(path, 1),
        )
    out = list(_roles(_list(data, "roles", path), path, cwd, Position(path, 1)))
    collections = _list(data, "collections", path)
    at = position_of(collections) or Position(path, 1)
    out += [_collection(entry, at) for entry in collections]
    return out


def _list(data: dict[str, Any], key: str, path: Path) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise RequirementsError(
            f"{key}: must be a list", position=position_of(data, key) or Position(path, 1)
        )
    return value


def _roles(entries: list[Any], path: Path, cwd: Path, at: Position) -> Iterator[Requirement]:
    at = position_of(entries) or at  # a name has no line of its own: its list's
    for entry in entries:
        pos = position_of(entry) or at
        if isinstance(entry, dict) and "include" in entry:
            name = str(entry["include"])
            found = next((p for p in (cwd / name, path.parent / name) if p.is_file()), None)
            if found is None:
                raise RequirementsError(
                    f"include: requirements file {name!r} not found (relative to {cwd})",
                    position=pos,
                )
            included = load_yaml(found, RequirementsError)
            if not isinstance(included, list):
                raise RequirementsError(
                    "an included requirements file is a list of roles",
                    position=position_of(included) or Position(found, 1),
                )
            yield from _roles(included, found, cwd, Position(found, 1))
            continue
        yield _role(entry, pos)


def role_name_of(src: str) -> str:
    """ansible-galaxy's name for a role source: a repository URL's last part (without .git,
    .tar.gz or a ',version'), else the source itself (a Galaxy name)."""
    if "://" not in src and "@" not in src:
        return src
    tail = src.rsplit("/", maxsplit=1)[-1]
    for suffix in (".git", ".tar.gz"):
        tail = tail.removesuffix(suffix)
    return tail.split(",")[0]


def _role(entry: Any, pos: Position) -> Requirement:
    if isinstance(entry, str):
        parts = entry.strip().split(",")
        if len(parts) > 3:
            raise RequirementsError(
                f"invalid role line {entry!r}: write 'role_name[,version[,name]]'", position=pos
            )
        src, version = parts[0], parts[1] if len(parts) > 1 else ""
        name = parts[2] if len(parts) > 2 else role_name_of(src)
        return Requirement("role", name, version, pos)
    if not isinstance(entry, dict):
        raise RequirementsError(
            f"a role requirement is a name or a mapping with src: or name:, got {entry!r}",
            position=pos,
        )
    if "role" in entry:
        name = str(entry["role"])
        if "," in name:
            raise RequirementsError(f"invalid old style role requirement: {name}", position=pos)
    elif "name" in entry:
        name = str(entry["name"])
    elif "src" in entry:
        src = str(entry["src"])
        name = role_name_of(src.partition("+")[2] if "+" in src else src)
    else:
        raise RequirementsError("a role requirement needs name: or src:", position=pos)
    given = entry.get("version")
    return Requirement("role", name, "" if given is None else str(given), pos)


def _collection(entry: Any, at: Position) -> Requirement:
    pos = position_of(entry) or at
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise RequirementsError(
            f"a collection requirement is a name or a mapping with name:, got {entry!r}",
            position=pos,
        )
    if "name" not in entry:
        raise RequirementsError("a collection requirement needs the key 'name'", position=pos)
    name = str(entry["name"])
    version = entry.get("version")
    wanted = "*" if version in (None, "") else str(version)
    kind = str(entry.get("type") or _source_type(name))
    if kind == "galaxy" and not is_collection_name(name):
        raise RequirementsError(
            f"collection {name!r} is neither namespace.name nor a git URL, tarball, URL or"
            " folder (set type:)",
            position=pos,
        )
    return Requirement("collection", name, wanted, pos, kind)


def _source_type(name: str) -> str:
    """The type ansible-galaxy infers from a collection name: a git URL, a URL, a local file
    or folder, else a Galaxy name."""
    if name.startswith("git+") or name.endswith(".git"):
        return "git"
    if name.startswith(("http://", "https://")):
        return "url"
    if name.endswith((".tar.gz", ".tgz")) or "/" in name:
        return "file" if name.endswith((".tar.gz", ".tgz")) else "dir"
    return "galaxy"


# checking ----------------------------------------------------------------------------


def check(
    requirements: Sequence[Requirement],
    *,
    roles_dirs: Sequence[Path],
    collections: CollectionSearch,
) -> list[Finding]:
    """Each requirement against what is on disk (roles_dirs in search order)."""
    return [
        _check_role(r, roles_dirs) if r.kind == "role" else _check_collection(r, collections)
        for r in requirements
    ]


def _check_role(req: Requirement, roles_dirs: Sequence[Path]) -> Finding:
    folder = next((d / req.name for d in roles_dirs if (d / req.name).is_dir()), None)
    if folder is None:
        looked = ", ".join(str(d) for d in roles_dirs) or "no roles path"
        return Finding(req, Status.MISSING, detail=f"looked in {looked}")
    installed = _install_info(folder)
    if not req.version:
        return Finding(req, Status.OK, installed, folder)
    if installed is None:
        return Finding(
            req, Status.UNKNOWN, None, folder, "no meta/.galaxy_install_info records its version"
        )
    if installed != req.version:
        return Finding(req, Status.VERSION, installed, folder, f"{req.version} wanted")
    return Finding(req, Status.OK, installed, folder)


def _install_info(folder: Path) -> str | None:
    info = folder / "meta" / ".galaxy_install_info"
    if not info.is_file():
        return None
    try:
        data = load_yaml(info, RequirementsError)
    except RequirementsError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return None if version is None else str(version)


def _check_collection(req: Requirement, collections: CollectionSearch) -> Finding:
    if req.source_type != "galaxy":
        return Finding(
            req,
            Status.UNCHECKED,
            detail=f"type {req.source_type}: its collection name is known only once fetched",
        )
    folder = collections.collection_dir(req.name)
    if folder is None:
        looked = ", ".join(str(r) for r in collections.roots) or "no collections path"
        return Finding(req, Status.MISSING, detail=f"looked in {looked}")
    installed = collection_version(folder)
    if req.version == "*":
        return Finding(req, Status.OK, installed, folder)
    if installed is None:
        return Finding(
            req, Status.UNKNOWN, None, folder, "neither MANIFEST.json nor galaxy.yml has a version"
        )
    try:
        _key(installed, loose=False)
    except ValueError as err:
        return Finding(req, Status.UNKNOWN, installed, folder, str(err))
    try:
        ok = meets_requirements(installed, req.version)
    except ValueError as err:
        raise RequirementsError(str(err), position=req.pos) from None
    if not ok:
        return Finding(req, Status.VERSION, installed, folder, f"{req.version} wanted")
    return Finding(req, Status.OK, installed, folder)


# versions ----------------------------------------------------------------------------

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_OPS = ("!=", "==", ">=", "<=", "=", ">", "<")


def _key(version: str, *, loose: bool) -> tuple[Any, ...]:
    """A sortable semantic version; loose: '1.2' reads as 1.2.0 (a requirement's)."""
    text = version.strip()
    if loose:
        parts = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$", text)
        if parts is None:
            raise ValueError(f"invalid version requirement {version!r}")
        major, minor, patch, rest = parts.groups()
        text = f"{major}.{minor or 0}.{patch or 0}{rest}"
    m = _SEMVER.match(text)
    if m is None:
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    pre = m.group(4)
    # a release sorts after its pre-releases; numeric identifiers before alphanumeric ones
    tag: tuple[Any, ...] = (
        (1,)
        if pre is None
        else (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    )
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), tag)


def meets_requirements(version: str, requirements: str) -> bool:
    """Whether version satisfies every comma-separated requirement (ansible-galaxy's rule:
    a bare version means ==, '*' anything)."""
    for req in (r.strip() for r in requirements.split(",")):
        op = next((o for o in _OPS if req.startswith(o)), "==")
        wanted = req[len(op) :].strip() if req.startswith(op) else req
        if wanted == "*" or version == "*":
            continue
        have, want = _key(version, loose=False), _key(wanted, loose=True)
        holds = {
            "!=": have != want,
            "==": have == want,
            "=": have == want,
            ">=": have >= want,
            "<=": have <= want,
            ">": have > want,
            "<": have < want,
        }[op]
        if not holds:
            return False
    return True
