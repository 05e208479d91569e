"""lineinfile: ansible-core 2.19's present()/absent() ported (expectations taken from
ansible-playbook on the same files, tests/compat/playbooks/119), and the module on a
local shell: messages, found, symlinks, create with a folder, attributes."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.lineinfile import absent, present, readlines

pytestmark = pytest.mark.unit

BASE = b"# config\nPort 22\n#PermitRootLogin yes\nListen 1\nListen 2\n[main]\nkey=old\n"


def _present(**kw: object) -> tuple[bytes, str]:
    edit = present(readlines(BASE), **kw)  # type: ignore[arg-type]
    return b"".join(edit.lines), edit.msg


def test_readlines_keeps_newlines_and_a_last_partial_line() -> None:
    assert readlines(b"a\nb") == [b"a\n", b"b"]
    assert readlines(b"a\n\n") == [b"a\n", b"\n"]
    assert readlines(b"") == []


def test_regexp_replaces_the_last_match_or_the_first_with_firstmatch() -> None:
    text, msg = _present(line="Listen 9", regexp="^Listen")
    assert msg == "line replaced" and b"Listen 1\nListen 9\n" in text
    text, _ = _present(line="Listen 9", regexp="^Listen", firstmatch=True)
    assert b"Listen 9\nListen 2\n" in text


def test_search_string_and_backrefs() -> None:
    text, msg = _present(line="PermitRootLogin no", search_string="PermitRootLogin")
    assert msg == "line replaced" and b"\nPermitRootLogin no\n" in text
    text, _ = _present(line=r"\1 no # was \2", regexp=r"^#(PermitRootLogin) (\w+)$", backrefs=True)
    assert b"\nPermitRootLogin no # was yes\n" in text
    assert present(readlines(BASE), line="x", regexp="^Nope", backrefs=True).changed is False


def test_insert_positions() -> None:
    assert _present(line="a", insertafter="^Listen")[0].endswith(b"Listen 2\na\n[main]\nkey=old\n")
    text, _ = _present(line="a", insertafter="^Listen", firstmatch=True)
    assert b"Listen 1\na\nListen 2\n" in text
    assert b"Listen 1\nb\nListen 2\n" in _present(line="b", insertbefore="^Listen")[0]
    text, _ = _present(line="b", insertbefore="^Listen", firstmatch=True)
    assert b"#PermitRootLogin yes\nb\nListen 1\n" in text
    assert _present(line="t", insertbefore="BOF")[0].startswith(b"t\n# config")
    assert _present(line="t", insertafter="BOF")[0].startswith(b"t\n# config")
    assert _present(line="e", insertafter="^Nothing")[0].endswith(b"key=old\ne\n")
    assert _present(line="e", insertbefore="^Nothing")[0].endswith(b"key=old\ne\n")


def test_a_line_already_there_is_ok_wherever_it_is() -> None:
    assert present(readlines(BASE), line="Port 22", insertbefore="BOF").changed is False
    assert present(readlines(BASE), line="key=old", insertafter=r"^\[main\]").changed is False


def test_regexp_wins_over_insertafter_and_a_missing_final_newline_is_added() -> None:
    text, msg = _present(line="Port 2222", regexp="^Port", insertafter="^Listen")
    assert msg == "line replaced" and b"\nPort 2222\n" in text
    edit = present([b"no newline"], line="added")
    assert b"".join(edit.lines) == b"no newline\nadded\n"


def test_absent_counts_what_it_removes() -> None:
    edit = absent(readlines(BASE), regexp="^Listen")
    assert (edit.found, edit.msg, edit.changed) == (2, "2 line(s) removed", True)
    assert absent(readlines(BASE), line="Port 22").found == 1
    assert absent(readlines(BASE), search_string="=").found == 1
    assert absent(readlines(BASE), regexp="^Nothing").changed is False


def test_module_messages_and_registered_keys(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("a\n")
    res = run_local("lineinfile", {"path": str(path), "line": "b", "mode": "0600"})
    assert res.registered is not None
    assert res.registered["msg"] == "line added and ownership, perms or SE linux context changed"
    assert res.registered["backup"] == "" and len(res.registered["diff"]) == 2
    res = run_local("lineinfile", {"path": str(path), "regexp": "^[ab]$", "state": "absent"})
    assert res.registered is not None and res.registered["found"] == 2
    missing = run_local("lineinfile", {"path": str(tmp_path / "no"), "line": "x"})
    assert missing.failed and missing.rc == 257
    assert missing.msg == f"Destination {tmp_path / 'no'} does not exist !"
    gone = run_local("lineinfile", {"path": str(tmp_path / "no"), "line": "x", "state": "absent"})
    assert not gone.changed and gone.msg == "file not present"
    isdir = run_local("lineinfile", {"path": str(tmp_path), "line": "x"})
    assert isdir.failed and isdir.rc == 256


def test_create_makes_the_folder_and_a_link_is_edited_through(
    run_local: RunModule, tmp_path: Path
) -> None:
    new = tmp_path / "made" / "deep" / "f"
    res = run_local("lineinfile", {"path": str(new), "line": "x", "create": True})
    assert res.changed and new.read_text() == "x\n" and oct(new.stat().st_mode)[-3:] == "644"
    link = tmp_path / "link"
    link.symlink_to(new)
    assert run_local("lineinfile", {"path": str(link), "line": "y"}).changed
    assert link.is_symlink() and new.read_text() == "x\ny\n"


def test_check_mode_writes_nothing_and_backup_keeps_the_old_file(
    run_local: RunModule, tmp_path: Path
) -> None:
    path = tmp_path / "f"
    path.write_text("a\n")
    res = run_local("lineinfile", {"path": str(path), "line": "b"}, check=True)
    assert res.changed and path.read_text() == "a\n"
    res = run_local("lineinfile", {"path": str(path), "line": "b", "backup": True})
    assert res.registered is not None and res.registered["backup"]
    assert Path(res.registered["backup"]).read_text() == "a\n"
