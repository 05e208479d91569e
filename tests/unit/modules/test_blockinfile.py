"""blockinfile: insert, update and remove a marked block; idempotent, check and diff aware."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit

BEGIN = "# BEGIN ANSIBLE MANAGED BLOCK"
END = "# END ANSIBLE MANAGED BLOCK"


def test_block_is_inserted_once(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost\n")
    args = {"path": str(path), "block": "10.0.0.1 a\n10.0.0.2 b\n"}
    first = run_local("blockinfile", args)
    assert first.changed and first.msg == "Block inserted"
    assert path.read_text() == f"127.0.0.1 localhost\n{BEGIN}\n10.0.0.1 a\n10.0.0.2 b\n{END}\n"
    second = run_local("blockinfile", args)
    assert not second.changed and not second.failed


def test_block_is_updated_in_place(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text(f"top\n{BEGIN}\nold\n{END}\nbottom\n")
    res = run_local("blockinfile", {"path": str(path), "block": "new"}, diff=True)
    assert res.changed
    assert "-old" in res.diff and "+new" in res.diff
    assert path.read_text() == f"top\n{BEGIN}\nnew\n{END}\nbottom\n"


def test_block_removed_by_state_absent_or_empty_block(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text(f"top\n{BEGIN}\nold\n{END}\n")
    res = run_local("blockinfile", {"path": str(path), "state": "absent"})
    assert res.changed and res.msg == "Block removed"
    assert path.read_text() == "top\n"
    path.write_text(f"top\n{BEGIN}\nold\n{END}\n")
    assert run_local("blockinfile", {"path": str(path), "block": ""}).changed
    assert path.read_text() == "top\n"
    assert not run_local("blockinfile", {"path": str(path), "state": "absent"}).changed


def test_custom_marker_and_insertbefore(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text("a\nlisten 80\nz\n")
    run_local(
        "blockinfile",
        {"path": str(path), "block": "x", "marker": ";; {mark} fk", "insertbefore": "^listen"},
    )
    assert path.read_text() == "a\n;; BEGIN fk\nx\n;; END fk\nlisten 80\nz\n"


def test_check_mode_predicts_and_writes_nothing(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text("a\n")
    res = run_local("blockinfile", {"path": str(path), "block": "b"}, check=True, diff=True)
    assert res.changed and "+b" in res.diff
    assert path.read_text() == "a\n"


def test_missing_file_needs_create(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "new"
    assert run_local("blockinfile", {"path": str(path), "block": "b"}).failed
    res = run_local("blockinfile", {"path": str(path), "block": "b", "create": True})
    assert res.changed and path.read_text() == f"{BEGIN}\nb\n{END}\n"


def test_marker_without_mark_is_rejected() -> None:
    mod = lookup("blockinfile")
    assert mod is not None
    _, errors = prepare(mod, {"path": "/x", "block": "b", "marker": "# managed"})
    assert errors == ["module blockinfile: marker must contain '{mark}'"]


# ansible-core 2.19's edit, ported (expectations from ansible-playbook on the same files,
# tests/compat/playbooks/120)

HOSTS = b"# hosts\n127.0.0.1 localhost\n\n[web]\nw1\n[db]\nd1\n"
BLOCK = b"# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n"


def _edit(original: bytes | None = HOSTS, **kw: object) -> bytes:
    from fleetkit.modules.blockinfile import edit_block

    return edit_block(original, block="x", present=True, **kw).result  # type: ignore[arg-type]


def test_placement_by_insertafter_and_insertbefore() -> None:
    assert _edit() == HOSTS + BLOCK
    assert _edit(insertafter=r"^\[web\]") == HOSTS.replace(b"[web]\n", b"[web]\n" + BLOCK)
    assert _edit(insertbefore=r"^\[db\]") == HOSTS.replace(b"[db]\n", BLOCK + b"[db]\n")
    assert _edit(insertbefore="BOF") == BLOCK + HOSTS
    assert _edit(insertafter="^nope") == HOSTS + BLOCK
    assert _edit(insertafter=r"(?m)^\[web\]\nw1$") == HOSTS.replace(b"w1\n", b"w1\n" + BLOCK)


def test_blank_lines_around_the_block() -> None:
    got = _edit(insertafter=r"^\[web\]", prepend_newline=True, append_newline=True)
    assert got == HOSTS.replace(b"[web]\n", b"[web]\n\n" + BLOCK + b"\n")
    got = _edit(insertafter="^127", prepend_newline=True, append_newline=True)
    assert got == HOSTS.replace(b"localhost\n\n", b"localhost\n\n" + BLOCK + b"\n")


def test_messages_of_the_edit() -> None:
    from fleetkit.modules.blockinfile import edit_block

    assert edit_block(None, block="x", present=True).msg == "File created"
    done = edit_block(HOSTS + BLOCK, block="x", present=True)
    assert (done.changed, done.msg) == (False, "")
    assert edit_block(HOSTS + BLOCK, block="", present=True).msg == "Block removed"
    assert edit_block(HOSTS + BLOCK, block="x", present=False).result == HOSTS
    custom = edit_block(b"", block="x", present=True, marker="<!-- {mark} -->", marker_end="E")
    assert custom.result == b"<!-- BEGIN -->\nx\n<!-- E -->\n"


def test_module_registers_ansibles_keys_and_errors(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "made" / "f"
    res = run_local(
        "blockinfile", {"path": str(path), "block": "b", "create": True, "mode": "0600"}
    )
    assert res.registered is not None
    assert res.registered["msg"] == "File created and ownership, perms or SE linux context changed"
    assert set(res.registered) == {"changed", "msg", "diff", "failed"}
    missing = run_local("blockinfile", {"path": str(tmp_path / "no"), "block": "b"})
    assert missing.failed and missing.rc == 257
    gone = run_local(
        "blockinfile", {"path": str(tmp_path / "no"), "state": "absent", "create": True}
    )
    assert not gone.changed and gone.msg == f"File {tmp_path / 'no'} not present"
    backed = run_local("blockinfile", {"path": str(path), "block": "c", "backup": True})
    assert backed.registered is not None and Path(backed.registered["backup_file"]).is_file()
