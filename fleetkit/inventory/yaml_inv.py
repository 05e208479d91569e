"""Ansible's YAML inventory format, read into an InventoryBuilder with positions.

Top-level keys are groups (usually just `all`); a group is a mapping with any of
`hosts` (host entry -> map of vars, or null), `vars` and `children` (group name ->
group). Unlike Ansible, which warns and skips, an unknown key at group level is an
error naming the key and the structural key it most likely meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleetkit.errors import InventoryError, Position
from fleetkit.inventory.builder import InventoryBuilder
from fleetkit.inventory.hostnames import expand_host_entry
from fleetkit.yamlpos import YamlMap, parse_yaml, position_of

SECTIONS = ("hosts", "vars", "children")


def parse_yaml_inventory(text: str, path: Path, builder: InventoryBuilder) -> None:
    """Declare every group, host and variable of a YAML inventory in builder."""
    data = parse_yaml(text, path, InventoryError)
    if data is None:  # an empty file (or only comments) is an empty inventory
        return
    if not isinstance(data, YamlMap) or not data:
        raise InventoryError(
            "a YAML inventory must be a mapping of groups",
            position=position_of(data) or Position(path, 1),
            hint="start with `all:` and put hosts, vars and children under it",
        )
    if "plugin" in data:
        raise InventoryError(
            "inventory plugin configuration files are not supported",
            position=data.key_pos["plugin"],
            hint="list the hosts in a static YAML or INI inventory",
        )
    for name, body in data.items():
        pos = data.key_pos[name]
        if name in SECTIONS:
            raise InventoryError(
                f"top-level key {name!r}: a YAML inventory starts with group names",
                position=pos,
                hint=f"put it under a group: `all:` with `{name}:` indented below it",
            )
        _group(name, body, pos, builder)


def _group(name: Any, body: Any, pos: Position, builder: InventoryBuilder) -> None:
    """Read one group, and recursively its children."""
    builder.group(name, pos)
    if body is None:
        return
    if not isinstance(body, YamlMap):
        raise InventoryError(
            f"group {name!r} must be a mapping of hosts, vars and children, not {_kind(body)}",
            position=pos,
        )
    for key, raw in body.items():
        key_pos = body.key_pos[key]
        if key not in SECTIONS:
            raise _unknown_key(name, key, key_pos)
        # Ansible allows `hosts: web1` (or `children: web`) for a single entry
        section = {raw: None} if isinstance(raw, str) and key != "vars" else raw
        if section is None:
            continue
        if not isinstance(section, dict):
            raise InventoryError(
                f"{key!r} of group {name!r} must be a mapping, not {_kind(section)}",
                position=key_pos,
                hint=_SHAPE_HINTS[key],
            )
        where = section.key_pos if isinstance(section, YamlMap) else {}
        if key == "vars":
            builder.groups[name].vars.update(section)
        elif key == "children":
            for child, child_body in section.items():
                child_pos = where.get(child, key_pos)
                _group(child, child_body, child_pos, builder)
                builder.add_child(name, child, child_pos)
        else:
            for entry, host_vars in section.items():
                _hosts(name, entry, host_vars, where.get(entry, key_pos), builder)


def _hosts(
    group: str, entry: Any, host_vars: Any, pos: Position, builder: InventoryBuilder
) -> None:
    if not isinstance(entry, str):
        raise InventoryError(
            f"host name {entry!r} in group {group!r} must be a string",
            position=pos,
            hint="quote it: '10': or write the full name",
        )
    if host_vars is not None and not isinstance(host_vars, dict):
        raise InventoryError(
            f"host {entry!r} must map to its variables (or nothing), not {_kind(host_vars)}",
            position=pos,
            hint=f"write `{entry}:` alone, or `{entry}:` followed by indented key: value lines",
        )
    names, port = expand_host_entry(entry, pos)
    for host_name in names:
        host = builder.host(host_name, group, pos, port)
        if host_vars:
            host.vars.update(host_vars)


def _unknown_key(group: Any, key: Any, pos: Position) -> InventoryError:
    import difflib  # only on this error path

    close = difflib.get_close_matches(str(key), SECTIONS, n=1, cutoff=0.6)
    hint = (
        f"did you mean {close[0]!r}?"
        if close
        else "a group holds only hosts, vars and children; put a nested group under children"
    )
    return InventoryError(f"unknown key {key!r} in group {group!r}", position=pos, hint=hint)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} ({value!r})"


_SHAPE_HINTS = {
    "hosts": "list hosts as keys: `hosts:` then `web1:` on the next, indented line",
    "children": "list child groups as keys: `children:` then `webservers:` indented",
    "vars": "write variables as key: value lines under `vars:`",
}
