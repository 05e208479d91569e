"""group: groupadd/groupmod/groupdel only for what differs; check mode runs nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


def host(entry: str = "") -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if call.command.startswith("getent group") and "cut" not in call.command:
            return 0, entry, ""
        if "cut -d: -f3" in call.command:
            return 0, "1234\n", ""
        return 0, "", ""

    return FakeConnection("h1", handle)


def run(conn: FakeConnection, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.builtin.group")
    assert mod is not None
    return mod.run(make_ctx("group", args, conn, check=check))


def test_missing_group_is_created_with_gid_and_system() -> None:
    conn = host()
    res = run(conn, name="deploy", gid=2001, system=True)
    assert res.changed and res.data["gid"] == 2001 and res.data["state"] == "present"
    assert conn.commands[-1] == "groupadd -g 2001 -r deploy"


def test_present_group_is_ok_and_runs_one_command() -> None:
    conn = host("deploy:x:2001:\n")
    res = run(conn, name="deploy", gid=2001)
    assert not res.changed and res.data["gid"] == 2001
    assert len(conn.commands) == 1


def test_gid_change_uses_groupmod() -> None:
    conn = host("deploy:x:2001:\n")
    res = run(conn, name="deploy", gid=2002)
    assert res.changed and "2001 -> 2002" in res.msg
    assert conn.commands[-1] == "groupmod -g 2002 deploy"


def test_absent_removes_and_check_mode_predicts() -> None:
    conn = host("deploy:x:2001:\n")
    res = run(conn, check=True, name="deploy", state="absent")
    assert res.changed and len(conn.commands) == 1
    res = run(conn, name="deploy", state="absent")
    assert res.changed and conn.commands[-1] == "groupdel deploy"
    assert not run(host(), name="deploy", state="absent").changed


def test_a_failing_groupadd_is_reported() -> None:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if call.command.startswith("groupadd"):
            return 4, "", "groupadd: GID '0' already exists"
        return 0, "", ""

    res = run(FakeConnection("h1", handle), name="x", gid=0)
    assert res.failed and "already exists" in res.msg and res.rc == 4
