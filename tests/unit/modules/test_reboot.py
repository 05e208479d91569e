"""reboot: Ansible's command sequence and the reconnect wait, pinned on the fake connection."""

from __future__ import annotations

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.reboot import BOOT_ID
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


class RebootingHost:
    """Answers the boot id; after `shutdown` the host is down for `down_for` commands."""

    def __init__(self, down_for: int = 2, comes_back: bool = True) -> None:
        self.boot = "boot-1"
        self.down = 0
        self.down_for = down_for
        self.comes_back = comes_back

    def __call__(self, call: FakeCall) -> tuple[int, str, str]:
        if self.down:
            self.down -= 1 if self.comes_back else 0
            raise HostConnectionError("h1: connection refused (fake, rebooting)")
        if call.command.startswith("shutdown"):
            self.down, self.boot = self.down_for, "boot-2"
            raise HostConnectionError("h1: connection lost (fake)")
        if call.command == BOOT_ID:
            return 0, self.boot + "\n", ""
        if call.command == "whoami":
            return 0, "root\n", ""
        return 0, "", ""


def run(conn: FakeConnection, check: bool = False, **args: object) -> ModuleResult:
    mod = lookup("ansible.builtin.reboot")
    assert mod is not None
    return mod.run(make_ctx("reboot", args, conn, check=check))


def test_reboot_runs_ansibles_sequence_and_waits_for_a_new_boot_id() -> None:
    host = RebootingHost(down_for=3)
    conn = FakeConnection("h1", host)
    res = run(conn)
    assert res.changed and not res.failed and res.data["rebooted"] is True
    assert conn.commands == [
        BOOT_ID,
        "shutdown -r 0 'Reboot initiated by Ansible'",
        *[BOOT_ID] * 4,  # three refused while down, then the new boot id
        "whoami",
    ]
    assert conn.closed


def test_pre_reboot_delay_goes_to_shutdown_in_minutes_and_msg_is_quoted() -> None:
    conn = FakeConnection("h1", RebootingHost(down_for=0))
    run(conn, pre_reboot_delay=120, msg="kernel update")
    assert conn.commands[1] == "shutdown -r 2 'kernel update'"


def test_a_host_that_never_comes_back_fails_after_reboot_timeout() -> None:
    conn = FakeConnection("h1", RebootingHost(comes_back=False))
    res = run(conn, reboot_timeout=0.05)
    assert res.failed and res.changed and "timed out waiting" in res.msg
    assert res.data["rebooted"] is False


def test_check_mode_reports_the_reboot_and_runs_nothing() -> None:
    conn = FakeConnection("h1", RebootingHost())
    res = run(conn, check=True)
    assert res.changed and conn.commands == []


def test_a_refused_reboot_command_is_a_failure() -> None:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if call.command == BOOT_ID:
            return 0, "boot-1\n", ""
        return 1, "", "Failed to talk to init daemon."

    res = run(FakeConnection("h1", handle))
    assert res.failed and "init daemon" in res.msg and res.data["rebooted"] is False
