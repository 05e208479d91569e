"""group: ansible-core 2.19's group on Linux: groupadd/groupmod/groupdel only for what
differs, Ansible's registered keys, check mode runs nothing (expectations from
ansible-playbook in a mount namespace, tests/compat/test_accounts_differential.py)."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


def host(groups: dict[str, int] | None = None, fail: str = "") -> FakeConnection:
    """A host whose /etc/group is groups, changed by the group commands it is sent."""
    table = dict(groups or {})

    def handle(call: FakeCall) -> tuple[int, str, str]:
        words = shlex.split(call.command.replace("; true", ""))
        if words[:2] == ["getent", "group"]:
            name = words[2]
            return 0, f"{name}:x:{table[name]}:\n" if name in table else "", ""
        if fail and words[0] == fail:
            return 4, "", f"{fail}: GID '0' already exists\n"
        if words[0] == "groupadd":
            gid = int(words[words.index("-g") + 1]) if "-g" in words else 42000
            table[words[-1]] = gid
        elif words[0] == "groupmod":
            table[words[-1]] = int(words[words.index("-g") + 1])
        elif words[0] == "groupdel":
            table.pop(words[-1], None)
        return 0, "", ""

    return FakeConnection("h1", handle)


def run(conn: FakeConnection, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.builtin.group")
    assert mod is not None
    return mod.run(make_ctx("group", args, conn, check=check))


def test_missing_group_is_created_with_gid_and_system() -> None:
    conn = host()
    res = run(conn, name="deploy", gid=2001, system=True)
    assert res.registered == {
        "name": "deploy",
        "state": "present",
        "changed": True,
        "system": True,
        "gid": 2001,
        "failed": False,
    }
    assert conn.commands[1] == "groupadd -g 2001 -r deploy"


def test_gid_range_and_non_unique() -> None:
    conn = host()
    run(conn, name="app", gid_min=500, gid_max=600)
    assert conn.commands[1] == "groupadd -K GID_MIN=500 -K GID_MAX=600 app"
    run(conn, name="dup", gid=0, non_unique=True)
    assert conn.commands[-2] == "groupadd -g 0 -o dup"


def test_present_group_is_ok_and_runs_one_command() -> None:
    conn = host({"deploy": 2001})
    res = run(conn, name="deploy", gid=2001)
    assert not res.changed and res.registered is not None and res.registered["gid"] == 2001
    assert len(conn.commands) == 1


def test_gid_change_uses_groupmod() -> None:
    conn = host({"deploy": 2001})
    res = run(conn, name="deploy", gid=2002)
    assert res.changed and res.registered is not None and res.registered["gid"] == 2002
    assert conn.commands[1] == "groupmod -g 2002 deploy"


def test_absent_removes_and_check_mode_registers_only_changed() -> None:
    conn = host({"deploy": 2001})
    res = run(conn, check=True, name="deploy", state="absent")
    assert res.registered == {"changed": True, "failed": False} and len(conn.commands) == 1
    res = run(conn, name="deploy", state="absent", force=True)
    assert res.registered == {"name": "deploy", "state": "absent", "changed": True, "failed": False}
    assert conn.commands[-2] == "groupdel -f deploy"
    assert not run(host(), name="deploy", state="absent").changed


def test_a_failing_groupadd_is_reported_as_ansible_does() -> None:
    res = run(host(fail="groupadd"), name="x", gid=0)
    assert res.failed and res.registered is not None
    assert res.registered["msg"] == "groupadd: GID '0' already exists\n"
    assert res.registered["name"] == "x"
