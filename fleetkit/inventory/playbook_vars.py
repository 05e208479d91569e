"""group_vars/ and host_vars/ beside the playbook: Ansible's precedence rows 4, 6 and 9.

ansible-playbook reads these folders beside the playbook file a play is written
in (the top-level playbook's directory, or an imported playbook's own directory
for its plays), with the same rules as beside an inventory source
(fleetkit.inventory.vars_files: one reader for both). They slot in between the
inventory's rows (fleetkit.inventory.vars): playbook `group_vars/all` above the
inventory's `group_vars/all`, playbook `group_vars/<group>` above the
inventory's, playbook `host_vars/<host>` above the inventory's `host_vars/`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from fleetkit.inventory.model import Inventory, freeze
from fleetkit.inventory.vars import VarsFiles
from fleetkit.inventory.vars_files import load_vars_dir


def read_playbook_vars(directory: Path, inventory: Inventory) -> VarsFiles:
    """The group_vars/ and host_vars/ files in directory for inventory's groups and hosts."""
    return VarsFiles(
        groups=load_vars_dir(directory / "group_vars", inventory.groups),
        hosts=load_vars_dir(directory / "host_vars", inventory.hosts),
    )


def with_playbook_vars(inventory: Inventory, files: VarsFiles) -> Inventory:
    """inventory whose hosts' vars include the playbook's rows (inventory itself if none)."""
    if not files.groups and not files.hosts:
        return inventory
    hosts = {}
    for name, host in inventory.hosts.items():
        if host.layers is None:  # a host made without layers: nothing to slot into
            hosts[name] = host
            continue
        hosts[name] = replace(host, vars=freeze(host.layers.merged(name, files)))
    return replace(inventory, hosts=hosts)


class PlaybookVars:
    """Applies each playbook directory's vars to an inventory, reading each folder once.

    One per run: the inventory changes only on `meta: refresh_inventory`, and then
    the folders are read again for its (maybe new) groups and hosts.
    """

    def __init__(self) -> None:
        self._done: dict[tuple[str, int], tuple[Inventory, Inventory]] = {}

    def apply(self, inventory: Inventory, directory: Path) -> Inventory:
        """inventory with the vars beside the playbook in directory (FleetkitError if bad)."""
        key = (os.path.abspath(directory), id(inventory))
        found = self._done.get(key)
        if found is not None and found[0] is inventory:
            return found[1]
        result = with_playbook_vars(inventory, read_playbook_vars(Path(key[0]), inventory))
        self._done[key] = (inventory, result)
        return result
