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
    assert res.data["skipped_paths"] == {
        str(tree / "nope"): f"'{tree / 'nope'}' is not a directory"
    }
    assert res.msg == "Not all paths examined, check warnings for details"


def test_age_and_size_parsing_and_bad_values() -> None:
    assert parse_age("2h") == 7200 and parse_age("-1w") == -604800
    assert parse_size("10k") == 10240 and parse_size("-1m") == -(1024**2)
    mod = lookup("find")
    assert mod is not None
    assert "age '2 days'" in prepare(mod, {"paths": "/", "age": "2 days"})[1][0]


# ansible-core 2.19's walk, filters and counts (expectations from ansible-playbook on the
# same tree, tests/compat/playbooks/122)


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    for rel in ("a.log", "sub/b.log", "sub/deeper/c.log", "sub/deeper/deepest/d.log", "x.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"{rel} error\n")
    (tmp_path / "x.txt").chmod(0o755)
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    return tmp_path


def rel(res: object, top: Path) -> list[str]:
    return [str(Path(f["path"]).relative_to(top)) for f in res.data["files"]]  # type: ignore[attr-defined]


def test_a_folders_files_come_before_its_folders_contents(run_local: RunModule, deep: Path) -> None:
    res = run_local("find", {"paths": str(deep), "recurse": True, "patterns": "*.log"})
    got = rel(res, deep)
    assert got.index("a.log") < got.index("sub/b.log") < got.index("sub/deeper/c.log")
    assert "link/b.log" not in got  # a link to a folder is not walked without follow
    assert res.data["examined"] == 9


def test_depth_and_what_it_examines(run_local: RunModule, deep: Path) -> None:
    res = run_local("find", {"paths": str(deep), "recurse": True, "depth": 2})
    assert sorted(rel(res, deep)) == ["a.log", "sub/b.log", "x.txt"]
    assert res.data["examined"] == 8  # the folders at depth 2 are listed, not reported


def test_limit_mode_and_content(run_local: RunModule, deep: Path) -> None:
    res = run_local("find", {"paths": str(deep), "recurse": True, "limit": 2})
    assert res.data["matched"] == 2 and res.msg == "Limit of matches reached"
    res = run_local("find", {"paths": str(deep), "mode": "0755"})
    assert rel(res, deep) == ["x.txt"]
    res = run_local("find", {"paths": str(deep), "mode": "u+x", "exact_mode": False})
    assert rel(res, deep) == ["x.txt"]
    res = run_local("find", {"paths": str(deep), "contains": "sub", "recurse": True, "limit": 1})
    assert rel(res, deep) == ["sub/b.log"]
    res = run_local("find", {"paths": str(deep), "contains": "nothing", "file_type": "any"})
    assert res.data["matched"] == 4  # contains only filters file_type=file


def test_size_filters_regular_files_only_and_a_mode_must_be_a_string(
    run_local: RunModule, deep: Path
) -> None:
    res = run_local("find", {"paths": str(deep), "file_type": "any", "size": "1m"})
    assert sorted(rel(res, deep)) == ["link", "sub"]
    mod = lookup("find")
    assert mod is not None
    _, errors = prepare(mod, {"paths": "/x", "mode": 420})
    assert "argument 'mode' is not a string" in errors[0]
    _, errors = prepare(mod, {"paths": "/x", "limit": 0})
    assert "limit cannot be 0" in errors[0]


def test_a_folder_the_walk_cannot_read_is_a_skipped_path() -> None:
    from fleetkit.modules.find import _tree

    top, errors = _tree("/t", "/t\nE|find: \u2018/t/secret\u2019: Permission denied\n")
    assert errors == {"/t/secret": "[Errno 13] Permission denied: '/t/secret'"}
    assert top.children == []


def test_a_home_relative_path_is_expanded_on_the_host(
    run_local: RunModule, deep: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(deep))
    res = run_local("find", {"paths": "~/sub"})
    assert rel(res, deep) == ["sub/b.log"]
