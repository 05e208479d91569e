"""copy, template, file and lineinfile: change only when the host differs, honest check/diff.

They run on a local shell against files under tmp_path: the real stat/checksum/
write scripts, no network.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

pytestmark = pytest.mark.unit


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_copy_writes_a_new_file_then_reports_ok(run_local: RunModule, tmp_path: Path) -> None:
    dest = tmp_path / "app.conf"
    first = run_local("copy", {"content": "port=80\n", "dest": str(dest)})
    assert first.changed and not first.failed
    assert dest.read_text() == "port=80\n"
    assert mode(dest) == 0o644
    second = run_local("copy", {"content": "port=80\n", "dest": str(dest)})
    assert not second.changed and not second.failed


def test_copy_rewrites_only_when_the_checksum_differs(run_local: RunModule, tmp_path: Path) -> None:
    dest = tmp_path / "app.conf"
    dest.write_text("port=81\n")
    res = run_local("copy", {"content": "port=80\n", "dest": str(dest)}, diff=True)
    assert res.changed
    assert "-port=81" in res.diff and "+port=80" in res.diff
    assert dest.read_text() == "port=80\n"


def test_copy_keeps_an_existing_files_mode_unless_told(
    run_local: RunModule, tmp_path: Path
) -> None:
    dest = tmp_path / "secret"
    dest.write_text("old")
    dest.chmod(0o600)
    run_local("copy", {"content": "new", "dest": str(dest)})
    assert mode(dest) == 0o600
    res = run_local("copy", {"content": "new", "dest": str(dest), "mode": "0640"})
    assert res.changed and "mode 0600 -> 0640" in res.msg
    assert mode(dest) == 0o640


def test_copy_in_check_mode_predicts_and_changes_nothing(
    run_local: RunModule, tmp_path: Path
) -> None:
    dest = tmp_path / "app.conf"
    res = run_local("copy", {"content": "x\n", "dest": str(dest)}, check=True, diff=True)
    assert res.changed and res.msg.startswith("would write")
    assert "+x" in res.diff
    assert not dest.exists()


def test_copy_backup_keeps_the_old_content(run_local: RunModule, tmp_path: Path) -> None:
    dest = tmp_path / "app.conf"
    dest.write_text("old\n")
    res = run_local("copy", {"content": "new\n", "dest": str(dest), "backup": True})
    backup = Path(res.data["backup_file"])
    assert backup.read_text() == "old\n"
    assert dest.read_text() == "new\n"


def test_copy_from_src_looks_in_files_beside_the_playbook(
    run_local: RunModule, tmp_path: Path
) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "hello.txt").write_text("hi\n")
    dest = tmp_path / "out"
    dest.mkdir()
    res = run_local("copy", {"src": "hello.txt", "dest": f"{dest}/"})
    assert res.changed
    assert (dest / "hello.txt").read_text() == "hi\n"


def test_copy_missing_src_fails_with_a_clear_message(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("copy", {"src": "nope.txt", "dest": str(tmp_path / "x")})
    assert res.failed and "nope.txt not found" in res.msg


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_copy_sets_owner_and_group(run_local: RunModule, tmp_path: Path) -> None:
    dest = tmp_path / "owned"
    run_local("copy", {"content": "x", "dest": str(dest), "owner": "nobody", "group": "nogroup"})
    assert dest.owner() == "nobody"
    again = run_local("copy", {"content": "x", "dest": str(dest), "owner": "nobody"})
    assert not again.changed


def test_template_renders_on_the_controller_and_is_idempotent(
    run_local: RunModule, tmp_path: Path
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "motd.j2").write_text(
        "hello {{ who }}\n{% if extra %}extra\n{% endif %}"
    )
    dest = tmp_path / "motd"
    args = {"src": "motd.j2", "dest": str(dest)}
    first = run_local("template", args, variables={"who": "world", "extra": False})
    assert first.changed
    assert dest.read_text() == "hello world\n"
    second = run_local("template", args, variables={"who": "world", "extra": False})
    assert not second.changed


def test_template_with_an_undefined_variable_fails_naming_it(
    run_local: RunModule, tmp_path: Path
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ missing }}\n")
    res = run_local("template", {"src": "t.j2", "dest": str(tmp_path / "o")})
    assert res.failed and "'missing' is undefined" in res.msg


def test_file_directory_created_once(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "a" / "b"
    first = run_local("file", {"path": str(path), "state": "directory", "mode": "0750"})
    assert first.changed and path.is_dir() and mode(path) == 0o750
    assert not run_local("file", {"path": str(path), "state": "directory", "mode": "0750"}).changed


def test_file_absent_removes_and_then_is_ok(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "gone"
    path.write_text("x")
    assert run_local("file", {"path": str(path), "state": "absent"}).changed
    assert not path.exists()
    assert not run_local("file", {"path": str(path), "state": "absent"}).changed


def test_file_link_points_at_src(run_local: RunModule, tmp_path: Path) -> None:
    link = tmp_path / "current"
    res = run_local("file", {"path": str(link), "state": "link", "src": "/etc/hostname"})
    assert res.changed and os.readlink(link) == "/etc/hostname"
    assert not run_local(
        "file", {"path": str(link), "state": "link", "src": "/etc/hostname"}
    ).changed
    moved = run_local("file", {"path": str(link), "state": "link", "src": "/etc/hosts"})
    assert moved.changed and os.readlink(link) == "/etc/hosts"


def test_file_touch_sets_an_existing_files_times_unless_preserve(
    run_local: RunModule, tmp_path: Path
) -> None:
    path = tmp_path / "stamp"
    assert run_local("file", {"path": str(path), "state": "touch"}).changed
    os.utime(path, (1_000_000, 1_000_000))
    # as Ansible's: an existing file's times become now, and that is a change
    assert run_local("file", {"path": str(path), "state": "touch"}).changed
    assert path.stat().st_mtime > 1_000_000 and path.stat().st_atime > 1_000_000
    keep = {"path": str(path), "state": "touch", "access_time": "preserve"}
    keep["modification_time"] = "preserve"
    os.utime(path, (1_000_000, 1_000_000))
    assert not run_local("file", keep).changed
    assert path.stat().st_mtime == 1_000_000


def test_file_sets_a_given_modification_time_only_when_it_differs(
    run_local: RunModule, tmp_path: Path
) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    args = {"path": str(path), "state": "file", "modification_time": "202001021304.05"}
    assert run_local("file", args).changed
    assert time.localtime(path.stat().st_mtime)[:6] == (2020, 1, 2, 13, 4, 5)
    assert not run_local("file", args).changed


def test_file_and_copy_register_ansibles_keys(run_local: RunModule, tmp_path: Path) -> None:
    made = run_local("file", {"path": str(tmp_path / "d"), "state": "directory", "mode": "0750"})
    assert made.registered is not None
    assert sorted(made.registered) == sorted(
        ["changed", "failed", "gid", "group", "mode", "owner", "path", "size", "state", "uid"]
    )
    assert made.registered["mode"] == "0750" and made.registered["state"] == "directory"
    touched = run_local("file", {"path": str(tmp_path / "t"), "state": "touch"})
    assert touched.registered is not None and touched.registered["dest"] == str(tmp_path / "t")
    gone = run_local("file", {"path": str(tmp_path / "t"), "state": "absent"})
    assert gone.registered == {
        "changed": True,
        "failed": False,
        "path": str(tmp_path / "t"),
        "state": "absent",
    }
    args = {"dest": str(tmp_path / "c"), "content": "x\n", "mode": "0640"}
    copied = run_local("copy", args)
    assert copied.registered is not None
    assert sorted(copied.registered) == sorted(
        [
            "changed",
            "checksum",
            "dest",
            "diff",
            "failed",
            "gid",
            "group",
            "md5sum",
            "mode",
            "owner",
            "size",
            "src",
            "state",
            "uid",
        ]
    )
    assert copied.registered["checksum"] == "6fcf9dfbd479ed82697fee719b9f8c610a11ff2a"
    again = run_local("copy", args)
    assert again.registered is not None and not again.changed
    assert "path" in again.registered and "md5sum" not in again.registered


def test_file_state_file_on_a_missing_path_fails(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("file", {"path": str(tmp_path / "nope")})
    assert res.failed and "does not exist" in res.msg


def test_file_symbolic_mode_is_applied_and_compared(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "run.sh"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o644)
    assert run_local("file", {"path": str(path), "mode": "u+x"}).changed
    assert mode(path) == 0o744
    assert not run_local("file", {"path": str(path), "mode": "u+x"}).changed


def test_file_check_mode_creates_nothing(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "d"
    res = run_local("file", {"path": str(path), "state": "directory"}, check=True)
    assert res.changed and res.msg.startswith("would create")
    assert not path.exists()


def test_lineinfile_replaces_the_line_matching_regexp(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "sshd_config"
    path.write_text("Port 22\nPermitRootLogin yes\n")
    args = {"path": str(path), "regexp": "^PermitRootLogin", "line": "PermitRootLogin no"}
    res = run_local("lineinfile", args, diff=True)
    assert res.changed and "+PermitRootLogin no" in res.diff
    assert path.read_text() == "Port 22\nPermitRootLogin no\n"
    assert not run_local("lineinfile", args).changed


def test_lineinfile_appends_a_missing_line_once(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost")  # no trailing newline
    args = {"path": str(path), "line": "198.18.0.2 lab1"}
    assert run_local("lineinfile", args).changed
    assert path.read_text() == "127.0.0.1 localhost\n198.18.0.2 lab1\n"
    assert not run_local("lineinfile", args).changed


def test_lineinfile_insertafter_and_absent(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("[main]\nb=2\n")
    run_local("lineinfile", {"path": str(path), "line": "a=1", "insertafter": r"^\[main\]"})
    assert path.read_text() == "[main]\na=1\nb=2\n"
    res = run_local("lineinfile", {"path": str(path), "regexp": "^b=", "state": "absent"})
    assert res.changed and path.read_text() == "[main]\na=1\n"


def test_lineinfile_missing_file_needs_create(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "new"
    assert run_local("lineinfile", {"path": str(path), "line": "x"}).failed
    assert run_local("lineinfile", {"path": str(path), "line": "x", "create": True}).changed
    assert path.read_text() == "x\n"


def test_lineinfile_check_mode_leaves_the_file(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("a\n")
    res = run_local("lineinfile", {"path": str(path), "line": "b"}, check=True)
    assert res.changed and path.read_text() == "a\n"
