"""The module registry: a constant mapping from name to module, with suggestions.

Built once at import from the module classes (no mutable state). Ansible's
fully qualified names (`ansible.builtin.copy`) and a few aliases resolve too,
so existing playbooks read unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fleetkit.modules.apt import Apt
from fleetkit.modules.assert_ import Assert
from fleetkit.modules.base import Module
from fleetkit.modules.command import Command
from fleetkit.modules.copy import Copy
from fleetkit.modules.debug import Debug
from fleetkit.modules.fail import Fail
from fleetkit.modules.fetch import Fetch
from fleetkit.modules.file import File
from fleetkit.modules.file_modules import FILE_MODULES
from fleetkit.modules.k3s_modules import K3S_MODULES
from fleetkit.modules.lineinfile import LineInFile
from fleetkit.modules.meta import Meta
from fleetkit.modules.package import Package
from fleetkit.modules.package_modules import PACKAGE_MODULES
from fleetkit.modules.pause import Pause
from fleetkit.modules.script import Script
from fleetkit.modules.service import Service
from fleetkit.modules.set_fact import SetFact
from fleetkit.modules.shell import Shell
from fleetkit.modules.swarm_modules import LEGACY_NAMES, SWARM_MODULES
from fleetkit.modules.system_modules import SYSTEM_MODULES
from fleetkit.modules.template import Template
from fleetkit.modules.uri import Uri
from fleetkit.modules.user import User
from fleetkit.modules.validate_argument_spec import ValidateArgumentSpec
from fleetkit.modules.wait_for import WaitFor
from fleetkit.text import suggest

MODULES: Mapping[str, Module] = MappingProxyType(
    {
        m.name: m
        for m in (
            Apt(),
            Assert(),
            Command(),
            Copy(),
            Debug(),
            Fail(),
            Fetch(),
            File(),
            LineInFile(),
            Meta(),
            Package(),
            Pause(),
            Script(),
            Service(),
            SetFact(),
            Shell(),
            Template(),
            Uri(),
            User(),
            ValidateArgumentSpec(),
            WaitFor(),
            *SWARM_MODULES,
            *K3S_MODULES,
            *FILE_MODULES,
            *SYSTEM_MODULES,
            *PACKAGE_MODULES,
        )
    }
    | {old: m for m in SWARM_MODULES for old, new in LEGACY_NAMES.items() if m.name == new}
)

ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "systemd_service": "systemd",
        "dnf": "package",
        "yum": "package",
        "apk": "package",
        "docker_swarm": "swarm_init",
        "docker_swarm_service": "swarm_service",
    }
)

PREFIXES = (
    "ansible.builtin.",
    "ansible.legacy.",
    "ansible.posix.",
    "community.general.",
    "community.docker.",
)


def canonical_name(name: str) -> str:
    """Strip an Ansible collection prefix and resolve aliases."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return ALIASES.get(name, name)


def lookup(name: str) -> Module | None:
    """The module called name (or its Ansible spelling), or None."""
    return MODULES.get(canonical_name(name))


def is_module(name: str) -> bool:
    return lookup(name) is not None


def suggest_module(name: str, roots: tuple[str, ...] = ()) -> str | None:
    """The closest module name to a misspelt one (a collection's own modules for a FQCN)."""
    parts = name.split(".")
    if len(parts) >= 3 and not is_module(name):
        from fleetkit.modules.ansible_fallback.resolve import collection_modules

        close = suggest(name, collection_modules(".".join(parts[:2]), roots))
        if close:
            return close
    return suggest(canonical_name(name), sorted(MODULES))


def find(name: str, roots: tuple[str, ...] = (), *, native: bool = True) -> Module | None:
    """The module a task key names: native first, else Ansible's (the fallback), else None.

    native=False: Ansible's even where fleetkit has its own (a task the loader gave to
    Ansible's module for an option only that one takes, Task.via_ansible).

    A name only Ansible knows gives a module even when this controller cannot run it
    (extra or collection missing): it fails where such a task runs, not at load.
    roots: the folders of the playbook's collections on disk (fleetkit/galaxy/search.py).
    """
    own = lookup(name) if native else None
    if own is not None:
        return own
    from fleetkit.modules.ansible_fallback.resolve import resolve

    resolution = resolve(name, roots)
    if resolution is None:
        return None
    from fleetkit.modules.ansible_fallback.run import AnsibleModule

    return AnsibleModule(resolution)


def task_module_name(name: str, roots: tuple[str, ...] = ()) -> str:
    """The name a task records: the native canonical name, else the Ansible FQCN."""
    if is_module(name):
        return canonical_name(name)
    module = find(name, roots)
    return module.name if module is not None else name
