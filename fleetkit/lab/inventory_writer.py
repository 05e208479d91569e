"""The lab's inventory: one self-contained YAML file in Ansible's variable names.

Connection settings use Ansible's names (ansible_user, ansible_ssh_private_key_file
under all.vars, ansible_host per host); fleetkit's own settings with no Ansible
name are fleetkit_* (fleetkit_known_hosts, fleetkit_host_key_policy), so the file
works with ansible-playbook too and sets no variable a playbook could mean otherwise.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from fleetkit.errors import LabError
from fleetkit.lab.layout import LAB_USER, HostSpec, LabPaths, manager_count
from fleetkit.lab.state import atomic_write

HEADER = """\
# fleetkit lab inventory, written by `fleetkit lab up` (do not edit: it is rewritten).
# Hosts are Linux namespaces on this machine; `fleetkit lab down` removes them
# (and this file, unless it was changed since it was written).
"""

HEADER_FIRST_LINE = HEADER.splitlines(keepends=True)[0].encode("utf-8")


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


def check_target(path: Path) -> None:
    """LabError unless path is free for the lab's inventory: missing, or a regular file
    an earlier `lab up` wrote (it starts with HEADER's first line).

    `lab up` runs as root: without this, `--inventory-out /etc/hosts` (or a symlink
    planted where the inventory goes) would overwrite any file on the machine.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise LabError(
            f"--inventory-out {path} is a symbolic link: the lab writes only files it owns",
            hint="remove the link or choose another --inventory-out",
        )
    if not stat.S_ISREG(st.st_mode):
        raise LabError(f"--inventory-out {path} exists and is not a regular file")
    with open(path, "rb") as f:
        head = f.read(len(HEADER_FIRST_LINE))
    if head != HEADER_FIRST_LINE:
        raise LabError(
            f"--inventory-out {path} exists and was not written by `fleetkit lab up`:"
            " it is left as it is",
            hint="choose another --inventory-out, or remove the file first",
        )


def write_inventory(path: Path, text: str) -> str:
    """Write the inventory atomically (parent folders created); returns its sha256."""
    atomic_write(path, text, mode=0o644)
    return digest(text)
