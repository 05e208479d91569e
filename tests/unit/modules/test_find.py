"""find: names, types, hidden, age, size and content filters; read-only."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.find import parse_age, parse_size
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.log").write_text("error: disk\n")
    (tmp_path / "b.log").write_text("ok\n" * 1000)
    (tmp_path / "c.txt").write_text("x")
    (tmp_path / ".hidden.log").write_text("h")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.log").write_text("error here\n")
    old = time.time() - 3 * 86400
    os.utime(tmp_path / "a.log", (old, old))
    return tmp_path


def names(res: object) -> list[str]:
    return sorted(Path(f["path"]).name for f in res.data["files"])  # type: ignore[attr-defined]


def test_patterns_match_basenames_without_recursing(run_local: RunModule, tree: Path) -> None:
    res = run_local("find", {"paths": str(tree), "patterns": "*.log"})
    assert names(res) == ["a.log", "b.log"]
    assert not res.changed and res.data["matched"] == 2 and res.data["examined"] == 5
    entry = next(f for f in res.data["files"] if f["path"].endswith("b.log"))
    assert entry["isreg"] and entry["size"] == 3000 and entry["mode"] == "0644"


def test_recurse_hidden_and_excludes(run_local: RunModule, tree: Path) -> None:
    res = run_local(
        "find",
        {
            "paths": [str(tree)],
            "patterns": ["*.log"],
            "recurse": True,
            "hidden": True,
            "excludes": ["b.*"],
        },
    )
    assert names(res) == [".hidden.log", "a.log", "d.log"]


def test_file_type_directory_and_regex(run_local: RunModule, tree: Path) -> None:
    assert names(run_local("find", {"paths": str(tree), "file_type": "directory"})) == ["sub"]
    res = run_local("find", {"paths": str(tree), "patterns": [r"^[ab]\.log$"], "use_regex": True})
    assert names(res) == ["a.log", "b.log"]


def test_age_size_and_contains(run_local: RunModule, tree: Path) -> None:
    assert names(run_local("find", {"paths": str(tree), "age": "2d"})) == ["a.log"]
    assert names(run_local("find", {"paths": str(tree), "age": "-1d"})) == ["b.log", "c.txt"]
    assert names(run_local("find", {"paths": str(tree), "size": "1k"})) == ["b.log"]
    res = run_local("find", {"paths": str(tree), "contains": "error", "recurse": True})
    assert names(res) == ["a.log", "d.log"]


def test_checksums_and_missing_paths(run_local: RunModule, tree: Path) -> None:
    res = run_local(
        "find", {"paths": [str(tree / "sub"), str(tree / "nope")], "get_checksum": True}
    )
    assert res.data["files"][0]["checksum"] == hashlib.sha1(b"error here\n").hexdigest()
    assert list(res.data["skipped_paths"]) == [str(tree / "nope")]
    assert res.msg == "Not all paths examined"


def test_age_and_size_parsing_and_bad_values() -> None:
    assert parse_age("2h") == 7200 and parse_age("-1w") == -604800
    assert parse_size("10k") == 10240 and parse_size("-1m") == -(1024**2)
    mod = lookup("find")
    assert mod is not None
    assert "age '2 days'" in prepare(mod, {"paths": "/", "age": "2 days"})[1][0]
