"""debug, assert, set_fact, fail, pause, meta: decided on the controller, nothing run on hosts."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeConnection

pytestmark = pytest.mark.unit


def run(module: str, variables: dict[str, Any] | None = None, **args: Any) -> ModuleResult:
    mod = lookup(module)
    assert mod is not None and mod.local
    conn = FakeConnection("h1")
    res = mod.run(make_ctx(module, args, conn, variables=variables))
    assert conn.commands == []
    return res


def test_debug_shows_a_message() -> None:
    assert run("debug", msg="hello").msg == "hello"


def test_debug_var_shows_the_value_as_json() -> None:
    res = run("debug", {"svc": {"port": 80}}, var="svc.port")
    assert res.msg == "svc.port = 80"


def test_debug_var_undefined_says_so_without_failing() -> None:
    res = run("debug", {}, var="nope")
    assert not res.failed and "'nope' is undefined" in res.msg


def test_assert_passes_when_every_expression_holds() -> None:
    res = run("assert", {"n": 3}, that=["n > 2", "n is number"])
    assert not res.failed and res.msg == "All assertions passed"


def test_assert_fails_naming_the_false_expression() -> None:
    res = run("assert", {"n": 1}, that=["n > 0", "n > 2"])
    assert res.failed and res.msg == "assertion failed: n > 2"


def test_assert_uses_fail_msg() -> None:
    res = run("assert", {"n": 1}, that="n > 2", fail_msg="too small")
    assert res.failed and res.msg == "too small"


def test_assert_treats_the_string_false_as_false() -> None:
    assert run("assert", {"flag": "false"}, that=["flag"]).failed


def test_set_fact_returns_facts_and_changes_nothing() -> None:
    res = run("set_fact", app_port=8080, cacheable=True)
    assert dict(res.facts) == {"app_port": 8080} and not res.changed


def test_fail_fails_with_its_message() -> None:
    res = run("fail", msg="stop here")
    assert res.failed and res.msg == "stop here"


def test_pause_sleeps_through_the_injected_sleep() -> None:
    mod = lookup("pause")
    assert mod is not None
    slept: list[float] = []
    from dataclasses import replace

    ctx = make_ctx("pause", {"minutes": 0.5}, FakeConnection("h1"))
    res = mod.run(replace(ctx, sleep=slept.append))
    assert slept == [30.0] and not res.changed


def test_meta_reports_its_action() -> None:
    assert run("meta", action="flush_handlers").data["meta"] == "flush_handlers"
