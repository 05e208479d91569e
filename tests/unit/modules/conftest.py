"""Module test fixtures: run a module on a local shell (files under tmp_path), no network."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.unit.modules.helpers import RunModule, make_ctx

from fleetkit.connection.base import Connection
from fleetkit.connection.local import LocalConnection
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup


@pytest.fixture
def local() -> Connection:
    return LocalConnection("h1")


@pytest.fixture
def run_local(local: Connection, tmp_path: Path) -> RunModule:
    """Run a module against the local machine (paths under tmp_path), no network."""

    def run(module: str, args: Mapping[str, Any], **kw: Any) -> ModuleResult:
        mod = lookup(module)
        assert mod is not None
        kw.setdefault("playbook_dir", tmp_path)
        kw.setdefault("templates", (tmp_path / "templates",))
        return mod.run(make_ctx(module, args, local, **kw))

    return run
