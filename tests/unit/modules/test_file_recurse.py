"""file state=directory as Ansible's ensure_directory: missing parents get the mode and
owner too; recurse sets them on everything under the directory."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


def _mode(path: Path) -> int:
    return os.lstat(path).st_mode & 0o7777


def test_missing_parents_are_made_with_the_mode_too(run_local: RunModule, tmp_path: Path) -> None:
    leaf = tmp_path / "a" / "b" / "c"
    tmp_path.chmod(0o711)
    before = _mode(tmp_path)
    res = run_local("file", {"path": str(leaf), "state": "directory", "mode": "0750"})
    assert res.changed
    assert [_mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", leaf)] == [0o750] * 3
    assert _mode(tmp_path) == before  # the existing folder is left as it was
    assert not run_local("file", {"path": str(leaf), "state": "directory", "mode": "0750"}).changed


def test_recurse_applies_a_symbolic_mode_to_each_entry(
    run_local: RunModule, tmp_path: Path
) -> None:
    top = tmp_path / "app"
    (top / "bin").mkdir(parents=True)
    (top / "bin" / "run").write_text("#!/bin/sh\n")
    (top / "bin" / "run").chmod(0o700)
    (top / "conf").write_text("x\n")
    (top / "conf").chmod(0o666)
    (top / "link").symlink_to("conf")
    args = {"path": str(top), "state": "directory", "mode": "u=rwX,g=rX,o=", "recurse": True}
    res = run_local("file", args)
    assert res.changed and not res.failed
    assert _mode(top / "bin") == 0o750  # a directory gets X
    assert _mode(top / "bin" / "run") == 0o750  # an executable keeps X
    assert _mode(top / "conf") == 0o640  # a plain file gets no x
    assert os.path.islink(top / "link")
    assert not run_local("file", args).changed


def test_recurse_with_an_owner_only_changes_nothing_it_has(
    run_local: RunModule, tmp_path: Path
) -> None:
    top = tmp_path / "d"
    (top / "x").mkdir(parents=True)
    me = getpass.getuser()
    res = run_local("file", {"path": str(top), "state": "directory", "owner": me, "recurse": True})
    assert not res.changed and not res.failed


def test_recurse_in_check_mode_reports_and_changes_nothing(
    run_local: RunModule, tmp_path: Path
) -> None:
    top = tmp_path / "d"
    top.mkdir(mode=0o755)
    (top / "f").write_text("")
    (top / "f").chmod(0o644)
    args = {"path": str(top), "state": "directory", "mode": "0755", "recurse": True}
    res = run_local("file", args, check=True)
    assert res.changed and _mode(top / "f") == 0o644


def test_recurse_needs_state_directory() -> None:
    module = lookup("file")
    assert module is not None
    _, errors = prepare(module, {"path": "/x", "recurse": True})
    assert "module file: recurse option requires state to be 'directory'" in errors
