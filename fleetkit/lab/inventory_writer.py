"""The lab's inventory: one self-contained YAML file in Ansible's variable names.

Connection settings use Ansible's names (ansible_user, ansible_ssh_private_key_file
under all.vars, ansible_host per host); fleetkit's own settings with no Ansible
name are fleetkit_* (fleetkit_known_hosts, fleetkit_host_key_policy), so the file
works with ansible-playbook too and sets no variable a playbook could mean otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from fleetkit.lab.layout import LAB_USER, HostSpec, LabPaths, manager_count
from fleetkit.lab.state import atomic_write

HEADER = """\
# fleetkit lab inventory, written by `fleetkit lab up` (do not edit: it is rewritten).
# Hosts are Linux namespaces on this machine; `fleetkit lab down` removes them
# (and this file, unless it was changed since it was written).
"""


def inventory_data(
    specs: Sequence[HostSpec], paths: LabPaths, *, docker_vars: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The inventory as a mapping: connection vars under all.vars, managers and workers."""
    managers = manager_count(len(specs))
    known_hosts = str(paths.known_hosts.absolute())
    all_vars: dict[str, Any] = {
        "ansible_user": LAB_USER,
        "ansible_ssh_private_key_file": str(paths.key.absolute()),
        "fleetkit_known_hosts": known_hosts,
        "fleetkit_host_key_policy": "verify",
        # the same known_hosts for ansible-playbook's ssh (it ignores fleetkit_*)
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts}",
    }
    all_vars.update(docker_vars or {})

    def hosts(group: Sequence[HostSpec]) -> dict[str, Any]:
        return {"hosts": {s.name: {"ansible_host": s.address} for s in group}}

    return {
        "all": {
            "vars": all_vars,
            "children": {
                "managers": hosts(specs[:managers]),
                "workers": hosts(specs[managers:]),
            },
        }
    }


def inventory_text(
    specs: Sequence[HostSpec], paths: LabPaths, *, docker_vars: Mapping[str, str] | None = None
) -> str:
    """The inventory file's text."""
    data = inventory_data(specs, paths, docker_vars=docker_vars)
    return HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def digest(text: str) -> str:
    """sha256 of text (recorded so `lab down` removes the file only if nobody changed it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str | None:
    """sha256 of a file's contents, None if it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def write_inventory(path: Path, text: str) -> str:
    """Write the inventory atomically (parent folders created); returns its sha256."""
    atomic_write(path, text, mode=0o644)
    return digest(text)
