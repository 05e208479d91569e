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


# ansible-core 2.19's replace, ported (expectations from ansible-playbook on the same
# files, tests/compat/playbooks/121)

INI = "[a]\nport=1\nhost=x\n[b]\nport=2\nhost=y\n[c]\nport=3\n"


def test_substitute_sections_and_counts() -> None:
    from fleetkit.modules.replace import substitute

    assert substitute(INI, r"^port=\d+", "port=9", after=None, before=None)[1] == 3
    text, count, _ = substitute(INI, r"^port=\d+", "port=9", after=r"\[b\]", before=None)
    assert count == 2 and text.startswith("[a]\nport=1\n")
    text, count, _ = substitute(INI, r"^port=\d+", "p", after=r"\[a\]", before=r"\[c\]")
    assert count == 2 and text.endswith("[c]\nport=3\n")
    assert (
        substitute(INI, "^port", "x", after=r"\[z\]", before=None)[2] == r"\[z\](?P<subsection>.*)"
    )
    assert substitute(INI, "^(port=1)$", r"\1", after=None, before=None)[1] == 0


def test_module_messages_as_ansible(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "f.ini"
    path.write_text(INI)
    res = run_local("replace", {"path": str(path), "regexp": "^nothing", "replace": "x"})
    assert res.registered == {"rc": 0, "failed": False, "msg": "", "changed": False}
    res = run_local(
        "replace", {"path": str(path), "regexp": "port", "replace": "p", "mode": "0600"}
    )
    assert res.registered is not None
    assert (
        res.registered["msg"]
        == "3 replacements made and ownership, perms or SE linux context changed"
    )
    res = run_local("replace", {"path": str(path), "regexp": "x", "after": "zzz"})
    assert not res.changed and res.msg.startswith("Pattern for before/after params did not match")
    missing = run_local("replace", {"path": str(tmp_path / "no"), "regexp": "x"})
    assert missing.failed and missing.rc == 257 and missing.msg.endswith("does not exist !")


def test_encoding_and_a_symlink(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "l1"
    path.write_bytes("café olé\n".encode("latin-1"))
    link = tmp_path / "link"
    link.symlink_to(path)
    res = run_local(
        "replace", {"path": str(link), "regexp": "olé", "replace": "hola", "encoding": "latin-1"}
    )
    assert res.changed and link.is_symlink()
    assert path.read_bytes() == "café hola\n".encode("latin-1")
