"""The testinfra backend on a fake connection: testinfra's commands go through fleetkit's."""

from __future__ import annotations

import pytest

from fleetkit.connection.base import CommandResult
from fleetkit.testing.fake_connection import FakeCall, FakeConnection, table
from fleetkit.verify.backend import TIMEOUT_RC, make_host

pytestmark = pytest.mark.unit

LINUX = (0, "Linux\n", "")


def test_file_exists_runs_testinfras_command_on_the_connection() -> None:
    conn = FakeConnection(
        "web1", table({r"^uname -s$": LINUX, r"^test -e /etc/hostname$": (0, "", "")})
    )
    host = make_host(conn)
    assert host.file("/etc/hostname").exists
    assert conn.commands[-1] == "test -e /etc/hostname"
    assert not any(c.become for c in conn.calls)


def test_a_missing_file_is_reported_missing() -> None:
    conn = FakeConnection("web1", table({r"^uname -s$": LINUX, r"^test -e ": (1, "", "")}))
    assert not make_host(conn).file("/nope").exists


def test_run_quotes_arguments_and_returns_rc_and_output() -> None:
    conn = FakeConnection("web1", table({r"^ls -l -- '/;echo inject'$": (2, "", "no such file")}))
    result = make_host(conn).run("ls -l -- %s", "/;echo inject")
    assert (result.rc, result.stderr, result.failed) == (2, "no such file", True)


def test_hostname_is_the_inventory_name() -> None:
    host = make_host(FakeConnection("db-3"))
    assert host.backend.get_hostname() == "db-3"
    assert host.backend.get_pytest_id() == "fleetkit://db-3"


def test_become_sends_every_command_through_the_connections_sudo() -> None:
    conn = FakeConnection("web1")
    make_host(conn, become=True).run("id -u")
    assert conn.calls[0] == FakeCall("web1", "id -u", True, None, None)


def test_testinfras_sudo_context_wraps_the_commands_inside_it() -> None:
    conn = FakeConnection("web1")
    host = make_host(conn)
    with host.sudo("postgres"):
        host.run("whoami")
    host.run("whoami")
    assert conn.commands == ["sudo -u postgres /bin/sh -c whoami", "whoami"]
    assert [c.become for c in conn.calls] == [False, False]


def test_a_timed_out_command_has_timeouts_exit_status() -> None:
    conn = FakeConnection("web1", lambda call: CommandResult(None, "", "", 1.0, timed_out=True))
    result = make_host(conn, timeout=1.0).run("sleep 5")
    assert result.rc == TIMEOUT_RC


def test_timeout_is_passed_to_the_connection() -> None:
    conn = FakeConnection("web1")
    make_host(conn, timeout=7.5).run("true")
    assert conn.calls[0].timeout == 7.5


def test_user_module_parses_what_the_connection_answers() -> None:
    conn = FakeConnection(
        "web1",
        table(
            {
                r"^id -nu fleet$": (0, "fleet\n", ""),
                r"^id -u fleet$": (0, "1000\n", ""),
            }
        ),
    )
    user = make_host(conn).user("fleet")
    assert user.exists
    assert user.uid == 1000
