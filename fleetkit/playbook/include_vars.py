"""include_vars: YAML files on the controller read into a host's variables.

`file` (relative to the role's vars/, the including file, then the playbook),
`dir` (every .yml/.yaml/.json file in it, sorted), and `name` (put everything
under one variable). The values land beside set_fact's (the host's run state).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetkit.errors import PlaybookError, TaskError
from fleetkit.playbook.schema import Task
from fleetkit.yamlpos import load_yaml

EXTENSIONS = (".yml", ".yaml", ".json")


def candidates(task: Task, playbook_dir: Path, name: str, kind: str = "vars") -> list[Path]:
    """Where a relative include_vars file or dir is looked for, in order."""
    path = Path(name).expanduser()
    if path.is_absolute():
        return [path]
    bases: list[Path] = []
    if task.role is not None:
        bases += [task.role.path / kind, task.role.path]
    base = Path(str(task.args.get("_base", Path(str(task.pos.path)).parent)))
    bases += [base, base / "vars", playbook_dir / "vars", playbook_dir]
    return [b / path for b in bases]


def read_vars(
    args: Mapping[str, Any], task: Task, playbook_dir: Path
) -> tuple[dict[str, Any], list[str]]:
    """The variables args name and the files they came from; TaskError when missing."""
    files: list[Path] = []
    if args.get("file"):
        found = next(
            (c for c in candidates(task, playbook_dir, str(args["file"])) if c.is_file()), None
        )
        if found is None:
            raise TaskError(f"include_vars: file {args['file']} not found")
        files.append(found)
    if args.get("dir"):
        folder = next(
            (c for c in candidates(task, playbook_dir, str(args["dir"])) if c.is_dir()), None
        )
        if folder is None:
            raise TaskError(f"include_vars: dir {args['dir']} not found")
        files += sorted(p for p in folder.rglob("*") if p.suffix in EXTENSIONS and p.is_file())
    values: dict[str, Any] = {}
    for file in files:
        try:
            data = load_yaml(file, PlaybookError)
        except PlaybookError as err:
            raise TaskError(f"include_vars: {err}") from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise TaskError(f"include_vars: {file} is not a mapping of names to values")
        values.update(data)
    if args.get("name"):
        values = {str(args["name"]): values}
    return values, [str(f) for f in files]
