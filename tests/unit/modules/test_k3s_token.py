"""k3s_token: the join token is read as a Secret and shown nowhere."""

from __future__ import annotations

import json

import pytest
from tests.unit.modules.k3s_support import run

from fleetkit.orchestrators.base import Secret
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

TOKEN = "K10" + "ef" * 32 + "::server:" + "12" * 16


def test_the_token_comes_back_as_a_secret_only() -> None:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        return 0, TOKEN + "\n", ""

    conn = FakeConnection("h1", handle)
    res = run("k3s_token", {}, conn)
    assert not res.changed and not res.failed
    token = res.data["token"]
    assert isinstance(token, Secret) and token.reveal() == TOKEN
    for shown in (res.msg, res.stdout, res.stderr, json.dumps(dict(res.data), default=str)):
        assert TOKEN not in shown
    assert all(TOKEN not in c for c in conn.commands)


def test_a_missing_token_fails_but_check_mode_gets_a_placeholder() -> None:
    conn = FakeConnection("h1", lambda call: (0, "", "MISSING\n"))
    res = run("k3s_token", {}, conn)
    assert res.failed and "missing" in res.msg
    res = run("k3s_token", {}, conn, check=True)
    assert not res.failed and res.data["token"] == Secret("")
