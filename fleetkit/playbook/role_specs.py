"""A role's argument specs and the validation task Ansible puts first in its entry point.

ansible-core 2.19 (Role._get_role_argspecs, _prepend_validation_task): the specs
are the `argument_specs` of meta/argument_specs.yml (.yaml, .json), else of
meta/main.yml; the entry point is `tasks_from` as written (else `main`); when
the specs have that entry, a `validate_argument_spec` task named "Validating
arguments against arg spec 'ENTRY'" (plus " - short_description"), tagged
`always`, checks the entry's `options` against the role's parameters and the
host's variables before the role's first task. Its defaults are not variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetkit.errors import PlaybookError, Position
from fleetkit.playbook.roles import RoleDir
from fleetkit.yamlpos import load_yaml, position_of

SPEC_FILES = ("argument_specs.yml", "argument_specs.yaml", "argument_specs.json")
MODULE = "ansible.builtin.validate_argument_spec"


def role_argument_specs(role: RoleDir, meta: Mapping[str, Any]) -> tuple[Any, Path | None]:
    """The role's `argument_specs` mapping (entry point -> spec) and the file it came from."""
    for name in SPEC_FILES:
        path = role.path / "meta" / name
        if path.is_file():
            data = load_yaml(path, PlaybookError)
            specs = data.get("argument_specs") if isinstance(data, Mapping) else None
            return specs or {}, path
    return meta.get("argument_specs") or {}, role.file("meta")


def validation_entry(
    role: RoleDir,
    meta: Mapping[str, Any],
    entry_point: str | None,
    params: Mapping[str, Any],
    pos: Position,
) -> tuple[dict[str, Any], Position] | None:
    """The validation task (as playbook YAML) for the role's entry point and where its spec
    is written; None when the role has no spec for that entry point."""
    specs, path = role_argument_specs(role, meta)
    if not specs:
        return None
    where = position_of(specs) or (Position(path, 1) if path else pos)
    if not isinstance(specs, Mapping):
        raise PlaybookError(
            f"role '{role.name}': argument_specs must map entry points (main, ...) to their specs",
            position=where,
        )
    name = entry_point or "main"
    spec = specs.get(name)
    if not spec:
        return None
    at = position_of(specs, name) or where
    if not isinstance(spec, Mapping):
        raise PlaybookError(
            f"role '{role.name}': argument spec '{name}' must be a mapping with options:",
            position=at,
        )
    title = f"Validating arguments against arg spec '{name}'"
    if "short_description" in spec:
        title += f" - {spec['short_description']}"
    entry = {
        "name": title,
        MODULE: {
            "argument_spec": spec.get("options", {}),
            "provided_arguments": dict(params),
            "validate_args_context": {
                "type": "role",
                "name": role.name,
                "argument_spec_name": name,
                "path": str(role.path),
            },
        },
        "tags": ["always"],
    }
    return entry, at
