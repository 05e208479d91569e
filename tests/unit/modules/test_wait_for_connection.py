"""wait_for_connection: retries until the host answers, fails after timeout; changes nothing."""

from __future__ import annotations

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.modules.wait_for_connection import PING
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


def flaky(refusals: int) -> FakeConnection:
    left = [refusals]

    def handle(call: FakeCall) -> tuple[int, str, str]:
        if left[0] > 0:
            left[0] -= 1
            raise HostConnectionError("h1: connection refused (fake)")
        return 0, "fleetkit-ping\n", ""

    return FakeConnection("h1", handle)


def run(conn: FakeConnection, check: bool = False, **args: object) -> ModuleResult:
    mod = lookup("ansible.builtin.wait_for_connection")
    assert mod is not None
    return mod.run(make_ctx("wait_for_connection", args, conn, check=check))


def test_an_answering_host_is_ok_at_once() -> None:
    conn = flaky(0)
    res = run(conn)
    assert not res.changed and not res.failed and conn.commands == [PING]
    assert "elapsed" in res.data


def test_refused_connections_are_retried_until_the_host_answers() -> None:
    conn = flaky(3)
    res = run(conn, check=True)
    assert not res.failed and conn.commands == [PING] * 4


def test_a_host_that_stays_down_fails_after_timeout() -> None:
    res = run(flaky(10**6), timeout=0.05, sleep=0.01)
    assert res.failed and "timed out waiting for connection" in res.msg
    assert "refused" in res.msg
