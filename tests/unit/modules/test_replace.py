"""replace: regexp substitutions, MULTILINE, after/before sections, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


def test_replace_all_matches_then_ok(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text("port=80\nadmin_port=80\n")
    args = {"path": str(path), "regexp": r"=80$", "replace": "=8080"}
    first = run_local("replace", args)
    assert first.changed and first.msg == "2 replacements made"
    assert path.read_text() == "port=8080\nadmin_port=8080\n"
    assert not run_local("replace", args).changed


def test_backreferences_and_diff(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text("user = bob\n")
    res = run_local(
        "replace",
        {"path": str(path), "regexp": r"^user = (\w+)$", "replace": r"owner = \1"},
        diff=True,
    )
    assert "-user = bob" in res.diff and "+owner = bob" in res.diff
    assert path.read_text() == "owner = bob\n"


def test_after_and_before_limit_the_section(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text("x=1\n[main]\nx=1\n[other]\nx=1\n")
    run_local(
        "replace",
        {
            "path": str(path),
            "regexp": "x=1",
            "replace": "x=2",
            "after": r"\[main\]",
            "before": r"\[other\]",
        },
    )
    assert path.read_text() == "x=1\n[main]\nx=2\n[other]\nx=1\n"


def test_check_mode_changes_nothing(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text("a\n")
    res = run_local("replace", {"path": str(path), "regexp": "a", "replace": "b"}, check=True)
    assert res.changed and path.read_text() == "a\n"


def test_missing_file_fails(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("replace", {"path": str(tmp_path / "no"), "regexp": "a"})
    assert res.failed and "does not exist" in res.msg


def test_bad_regexp_is_an_argument_error() -> None:
    mod = lookup("replace")
    assert mod is not None
    _, errors = prepare(mod, {"path": "/x", "regexp": "(unclosed"})
    assert errors and "regexp is not a valid regexp" in errors[0]
