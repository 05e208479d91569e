"""hostname: /etc/hostname and the running name, changed only when they differ; facts."""

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


class Host:
    def __init__(self, tmp_path: Path, current: str, systemd: bool = False) -> None:
        self.current = current
        self.systemd = systemd
        self.etc = tmp_path / "etc-hostname"
        self.etc.write_text(f"{current}\n")

    def conn(self) -> InterceptingConnection:
        return InterceptingConnection(
            {
                r"^hostname; ": self.probe,
                r"^hostname ": self.rename,
                r"^hostnamectl set-hostname ": self.rename,
            },
            paths={"/etc/hostname": str(self.etc)},
        )

    def probe(self, command: str, stdin: bytes | None) -> tuple[int, str, str]:
        return 0, f"{self.current}\n{'systemd' if self.systemd else 'file'}\n", ""

    def rename(self, command: str, stdin: bytes | None) -> tuple[int, str, str]:
        self.current = command.rsplit(maxsplit=1)[-1].strip("'")
        return 0, "", ""


def run(conn: InterceptingConnection, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.builtin.hostname")
    assert mod is not None
    return mod.run(make_ctx("hostname", args, conn, check=check))


def test_rename_writes_the_file_and_the_running_name(tmp_path: Path) -> None:
    host = Host(tmp_path, "lab3")
    res = run(host.conn(), name="web1.example.org")
    assert res.changed and res.msg == "renamed lab3 -> web1.example.org"
    assert host.current == "web1.example.org"
    assert host.etc.read_text() == "web1.example.org\n"
    assert res.facts["ansible_hostname"] == "web1"
    assert res.facts["ansible_domain"] == "example.org"
    assert not run(host.conn(), name="web1.example.org").changed


def test_check_mode_changes_nothing(tmp_path: Path) -> None:
    host = Host(tmp_path, "lab3")
    res = run(host.conn(), check=True, name="web1")
    assert res.changed and host.current == "lab3" and host.etc.read_text() == "lab3\n"


def test_only_the_file_differs(tmp_path: Path) -> None:
    host = Host(tmp_path, "web1")
    host.etc.write_text("old\n")
    res = run(host.conn(), name="web1")
    assert res.changed and host.etc.read_text() == "web1\n"


def test_systemd_hosts_use_hostnamectl(tmp_path: Path) -> None:
    host = Host(tmp_path, "lab3", systemd=True)
    conn = host.conn()
    assert run(conn, name="web1").changed
    assert conn.intercepted[-1] == "hostnamectl set-hostname web1"


def test_invalid_name_is_rejected() -> None:
    mod = lookup("hostname")
    assert mod is not None
    assert "not a valid host name" in prepare(mod, {"name": "bad_name!"})[1][0]
