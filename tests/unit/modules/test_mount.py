"""mount: fstab entry keyed by mount point, mount/umount only when the state differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx
from tests.unit.modules.intercept import InterceptingConnection

from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


class Mounts:
    """What is mounted where, as findmnt/mount/umount see it."""

    def __init__(self) -> None:
        self.table: dict[str, str] = {}

    def conn(self) -> InterceptingConnection:
        return InterceptingConnection(
            {
                r"^findmnt ": self.findmnt,
                r"(^| && )(mount|umount) ": self.mount,
                r"^rmdir ": lambda command, stdin: (0, "", ""),
            }
        )

    def findmnt(self, command: str, stdin: bytes | None) -> tuple[int, str, str]:
        path = command.rsplit(maxsplit=1)[-1].strip("'")
        return (0, path + "\n", "") if path in self.table else (1, "", "")

    def mount(self, command: str, stdin: bytes | None) -> tuple[int, str, str]:
        last = command.rsplit(" && ", maxsplit=1)[-1].split()
        path = last[-1].strip("'")
        if last[0] == "umount":
            self.table.pop(path)
        elif "remount" not in command:
            self.table[path] = last[-2].strip("'")
        return 0, "", ""


def run(conn: InterceptingConnection, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.posix.mount")
    assert mod is not None
    return mod.run(make_ctx("mount", args, conn, check=check, diff=True))


def tmpfs(fstab: Path, state: str = "mounted", **extra: Any) -> dict[str, Any]:
    return {
        "path": "/srv/fk-scratch",
        "src": "tmpfs",
        "fstype": "tmpfs",
        "opts": "size=8m",
        "state": state,
        "fstab": str(fstab),
        **extra,
    }


def test_mounted_writes_fstab_and_mounts_once(tmp_path: Path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text("# static\n/dev/sda1 / ext4 defaults 0 1\n")
    mounts = Mounts()
    conn = mounts.conn()
    first = run(conn, **tmpfs(fstab))
    assert first.changed and first.msg == "mounted /srv/fk-scratch"
    assert fstab.read_text().endswith("tmpfs /srv/fk-scratch tmpfs size=8m 0 0\n")
    assert mounts.table == {"/srv/fk-scratch": "tmpfs"}
    assert any("mount -t tmpfs -o size=8m tmpfs /srv/fk-scratch" in c for c in conn.intercepted)
    assert first.data["opts"] == "size=8m" and first.data["fstype"] == "tmpfs"
    assert not run(mounts.conn(), **tmpfs(fstab)).changed


def test_changed_options_rewrite_the_entry_and_remount(tmp_path: Path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text("tmpfs /srv/fk-scratch tmpfs size=8m 0 0\n")
    mounts = Mounts()
    mounts.table["/srv/fk-scratch"] = "tmpfs"
    conn = mounts.conn()
    res = run(conn, **tmpfs(fstab, opts="size=16m"))
    assert res.changed and res.msg == "remounted /srv/fk-scratch"
    assert fstab.read_text() == "tmpfs /srv/fk-scratch tmpfs size=16m 0 0\n"
    assert conn.intercepted[-1] == "mount -o remount,size=16m /srv/fk-scratch"


def test_unmounted_keeps_fstab_and_absent_removes_it(tmp_path: Path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text("tmpfs /srv/fk-scratch tmpfs size=8m 0 0\n")
    mounts = Mounts()
    mounts.table["/srv/fk-scratch"] = "tmpfs"
    res = run(mounts.conn(), path="/srv/fk-scratch", state="unmounted", fstab=str(fstab))
    assert res.changed and not mounts.table and fstab.read_text() != ""
    assert not run(
        mounts.conn(), path="/srv/fk-scratch", state="unmounted", fstab=str(fstab)
    ).changed
    res = run(mounts.conn(), path="/srv/fk-scratch", state="absent", fstab=str(fstab))
    assert res.changed and fstab.read_text() == ""


def test_check_mode_and_ephemeral_leave_fstab_alone(tmp_path: Path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text("")
    mounts = Mounts()
    res = run(mounts.conn(), check=True, **tmpfs(fstab))
    assert res.changed and not mounts.table and fstab.read_text() == ""
    res = run(mounts.conn(), **tmpfs(fstab, state="ephemeral"))
    assert res.changed and mounts.table and fstab.read_text() == ""


def test_mounted_needs_src_and_fstype() -> None:
    mod = lookup("mount")
    assert mod is not None
    errors = prepare(mod, {"path": "/mnt/x", "state": "mounted"})[1]
    assert errors == [
        "module mount: state=mounted needs src",
        "module mount: state=mounted needs fstype",
    ]
