"""slurp: base64 content of a remote file; a missing file fails naming it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


def test_slurp_returns_base64_content(run_local: RunModule, tmp_path: Path) -> None:
    data = bytes(range(256)) * 100
    (tmp_path / "blob").write_bytes(data)
    res = run_local("slurp", {"src": str(tmp_path / "blob")})
    assert not res.changed and not res.failed
    assert res.data["encoding"] == "base64"
    assert base64.b64decode(res.data["content"]) == data
    assert res.data["source"] == str(tmp_path / "blob")


def test_slurp_of_a_missing_file_fails(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("slurp", {"path": str(tmp_path / "missing")})
    assert res.failed and "missing" in res.msg and "not found" in res.msg


def test_slurp_needs_src() -> None:
    mod = lookup("slurp")
    assert mod is not None
    _, errors = prepare(mod, {})
    assert errors == ["module slurp: missing required argument 'src'"]
