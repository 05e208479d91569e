"""Which module names this controller can run through Ansible, and why not when it cannot.

With ansible-core installed, names resolve exactly as ansible-playbook resolves
them (its plugin loader: short names, ansible.builtin, routing redirects,
installed collections). Without it, the catalogue shipped beside this file
(ansible-core 2.19's own and routed names) tells a real module from a typo, so
a playbook that names one still loads; it fails only where such a task runs.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetkit.modules.ansible_fallback import INSTALL_HINT, SUPPORTED

CATALOGUE = Path(__file__).with_name("catalogue.txt")

PASS_THROUGH: dict[str, tuple[str, ...]] = {
    "ansible.posix.patch": ("remote_src",),
    # 2.19's copy action: with remote_src it checks src/dest and only runs the module
    "ansible.builtin.copy": ("remote_src",),
}
"""Modules with a controller-side action plugin that only calls the module when one of
these arguments is true (so fleetkit may run the module directly then)."""


@dataclass(frozen=True)
class Resolution:
    """A module name Ansible knows: where its code is, or why this controller cannot run it."""

    name: str
    fqcn: str
    path: str | None = None
    problem: str | None = None
    """Set when the controller cannot run it (missing extra or collection, action plugin)."""
    needs_true: tuple[str, ...] = ()
    """Arguments of which one must be true for fleetkit to run it (PASS_THROUGH)."""

    @property
    def runnable(self) -> bool:
        return self.problem is None


@functools.cache
def catalogue() -> dict[str, str]:
    """Name -> FQCN for the names ansible-core knows without collections (shipped list)."""
    out: dict[str, str] = {}
    for line in CATALOGUE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, fqcn = line.split()
            out[name] = fqcn
            out[fqcn] = fqcn
    return out


def known_collections() -> frozenset[str]:
    """Collections the catalogue routes to ("community.general", ...)."""
    return frozenset(".".join(f.split(".")[:2]) for f in catalogue().values())


def ansible_version() -> str | None:
    """The installed ansible-core version, without importing it, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ansible-core")
    except PackageNotFoundError:
        return None


def version_problem() -> str | None:
    """Why the installed ansible-core cannot be used (absent, or outside SUPPORTED)."""
    found = ansible_version()
    if found is None or importlib.util.find_spec("ansible") is None:
        return f"ansible-core is not installed on the controller ({INSTALL_HINT})"
    major_minor = tuple(int(p) for p in found.split(".")[:2] if p.isdigit())
    if major_minor != (2, 19):
        return (
            f"ansible-core {found} is installed; fleetkit's fallback supports ansible-core"
            f" {SUPPORTED} ({INSTALL_HINT})"
        )
    return None


Roots = tuple[str, ...]
"""Folders holding `ansible_collections/` that fleetkit found (fleetkit/galaxy/search.py):
the playbook's collections/, the collections path, sys.path."""


@functools.cache
def _loader(roots: Roots = ()) -> object:
    """Ansible's module loader with its collection finder installed, knowing roots.

    The finder is process-wide (ansible-core installs it in sys.meta_path): the first
    call configures it with roots first; a later call with other roots puts them in
    front, as ansible-playbook does for a playbook's collections/ folder.
    """
    from ansible.plugins.loader import init_plugin_loader, module_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    finder = AnsibleCollectionConfig.collection_finder
    if finder is None:
        init_plugin_loader(list(roots))
    elif roots:
        _add_roots(finder, roots)
    return module_loader


def _add_roots(finder: Any, roots: Roots) -> None:
    """Put roots in front of a configured finder (its private paths, ansible-core 2.19)."""
    new = [r for r in roots if r not in finder._n_configured_paths]
    if not new:
        return
    finder._n_configured_paths = [*new, *finder._n_configured_paths]
    finder._n_cached_collection_paths = None
    finder._n_cached_collection_qualified_paths = None
    # collections imported from the old paths may now be masked: forget them
    for name in [m for m in sys.modules if m.startswith("ansible_collections.")]:
        if not name.startswith("ansible_collections.ansible"):
            del sys.modules[name]
    for package in ("ansible_collections", "ansible_collections.ansible"):
        finder._reload_hack(package)
    from ansible.plugins.loader import action_loader, module_loader

    for loader in (module_loader, action_loader):
        loader._clear_caches()


def _collection_installed(collection: str, roots: Roots = ()) -> bool:
    _loader(roots)
    try:
        return importlib.util.find_spec(f"ansible_collections.{collection}") is not None
    except (ImportError, ValueError):
        return False


@functools.cache
def resolve(name: str, roots: Roots = ()) -> Resolution | None:
    """Resolution of a module name Ansible knows; None when neither it nor its catalogue does.

    roots: the folders of collections on disk fleetkit found for the playbook (a module of
    one of them is known even where ansible-core is missing).
    """
    problem = version_problem()
    parts = name.split(".")
    if problem is not None:
        fqcn = catalogue().get(name)
        if fqcn is None and len(parts) >= 3 and ".".join(parts[:2]) in known_collections():
            fqcn = name
        if fqcn is None and len(parts) >= 3 and _on_disk(name, roots):
            fqcn = name
        return None if fqcn is None else Resolution(name, fqcn, problem=problem)
    collection = ".".join(parts[:2])
    builtin = collection in ("ansible.builtin", "ansible.legacy")
    if len(parts) >= 3 and not builtin and not _collection_installed(collection, roots):
        if collection not in known_collections():
            return None
        return Resolution(
            name,
            name,
            problem=f"collection {collection} is not installed on the controller"
            f" ({INSTALL_HINT} brings the collections of the ansible package)",
        )
    found = _loader(roots).find_plugin_with_context(name)  # type: ignore[attr-defined]
    if not found.resolved or not found.plugin_resolved_path:
        return None
    fqcn = str(found.resolved_fqcn)
    path = str(found.plugin_resolved_path)
    if not path.endswith(".py"):
        return Resolution(
            name, fqcn, path, problem="is not a Python module (fleetkit runs only those)"
        )
    action = _action_plugin(fqcn)
    if action and fqcn not in PASS_THROUGH:
        return Resolution(
            name,
            fqcn,
            path,
            problem="needs Ansible's controller-side action plugin, which fleetkit does not run",
        )
    return Resolution(name, fqcn, path, needs_true=PASS_THROUGH.get(fqcn, ()))


def _on_disk(fqcn: str, roots: Roots) -> bool:
    from fleetkit.galaxy.search import CollectionSearch

    return CollectionSearch(tuple(Path(r) for r in roots)).module_path(fqcn) is not None


def _action_plugin(fqcn: str) -> bool:
    from ansible.plugins.loader import action_loader

    found = action_loader.find_plugin_with_context(fqcn)
    return bool(found.resolved) and not str(found.plugin_resolved_path).endswith("normal.py")


def collection_modules(collection: str, roots: Roots = ()) -> list[str]:
    """FQCNs of the modules an installed collection has (for "did you mean")."""
    if version_problem() is not None:
        from fleetkit.galaxy.search import CollectionSearch

        folder = CollectionSearch(tuple(Path(r) for r in roots)).collection_dir(collection)
        on_disk = (
            {f"{collection}.{p.stem}" for p in (folder / "plugins" / "modules").glob("*.py")}
            if folder is not None
            else set()
        )
        listed = {f for f in set(catalogue().values()) if f.startswith(collection + ".")}
        return sorted(listed | on_disk)
    if collection in ("ansible.builtin", "ansible.legacy"):
        import ansible

        folder = Path(ansible.__file__).parent / "modules"
    else:
        if not _collection_installed(collection, roots):
            return []
        spec = importlib.util.find_spec(f"ansible_collections.{collection}")
        if spec is None or not spec.submodule_search_locations:
            return []
        folder = Path(next(iter(spec.submodule_search_locations))) / "plugins" / "modules"
    return sorted(
        f"{collection}.{p.stem}" for p in folder.glob("*.py") if not p.name.startswith("_")
    )


def installed_collections() -> list[str]:
    """Collections installed on the controller (namespace.name), sorted."""
    _loader()
    spec = importlib.util.find_spec("ansible_collections")
    out: set[str] = set()
    for base in (spec.submodule_search_locations or []) if spec else []:
        for meta in Path(base).glob("*/*/plugins/modules"):
            out.add(f"{meta.parent.parent.parent.name}.{meta.parent.parent.name}")
    return sorted(out)


def without_action_plugin(collection: str, fqcns: list[str]) -> list[str]:
    """The FQCNs among fqcns that have no action plugin of their name in collection
    (a cheap file check for listings; resolve() is the exact answer)."""
    if collection in ("ansible.builtin", "ansible.legacy"):
        import ansible

        folder = Path(ansible.__file__).parent / "plugins" / "action"
    else:
        spec = importlib.util.find_spec(f"ansible_collections.{collection}")
        if spec is None or not spec.submodule_search_locations:
            return fqcns
        folder = Path(next(iter(spec.submodule_search_locations))) / "plugins" / "action"
    actions = {p.stem for p in folder.glob("*.py")} - {"normal", "__init__"}
    return [f for f in fqcns if f.rsplit(".", 1)[1] not in actions or f in PASS_THROUGH]
