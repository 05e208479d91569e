"""Helpers for module tests: a ModuleContext for a module, its arguments and a connection."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fleetkit.connection.base import Connection
from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleContext, ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.playbook.render import Renderer

RunModule = Callable[..., ModuleResult]


def make_ctx(
    module: str,
    args: Mapping[str, Any],
    conn: Connection,
    *,
    check: bool = False,
    diff: bool = False,
    variables: Mapping[str, Any] | None = None,
    playbook_dir: Path = Path("."),
    templates: tuple[Path, ...] = (),
    environment: Mapping[str, str] | None = None,
) -> ModuleContext:
    mod = lookup(module)
    assert mod is not None
    prepared, errors = prepare(mod, dict(args))
    assert not errors, errors
    return ModuleContext(
        host="h1",
        conn=conn,
        args=prepared,
        variables=dict(variables or {}),
        templar=Renderer(templates),
        check=check,
        diff=diff,
        playbook_dir=playbook_dir,
        sleep=lambda s: None,
        environment=dict(environment or {}),
    )
