"""systemd: one probe, Ansible's order (reload, mask, enable, state), only what differs."""

from __future__ import annotations

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.modules.systemd import MARK, parse_probe, state_action
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


def probe(active: str = "inactive", enabled: str = "disabled", load: str = "loaded") -> str:
    rc = 0 if enabled in ("enabled", "static") else 1
    return (
        f"Id=web.service\nActiveState={active}\nSubState=dead\nLoadState={load}\n"
        f"UnitFileState={enabled}\n{MARK}show_rc=0\n{MARK}enabled={enabled}\n"
        f"{MARK}enabled_rc={rc}\n"
    )


def fake_host(out: str) -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if MARK in call.command:
            return 0, out, ""
        return 0, "", ""

    return FakeConnection("h1", handle)


def run(conn: FakeConnection, check: bool = False, **args: object) -> ModuleResult:
    mod = lookup("systemd")
    assert mod is not None
    return mod.run(make_ctx("systemd", args, conn, check=check))


def test_fqcn_and_systemd_service_resolve_to_the_systemd_module() -> None:
    for name in ("ansible.builtin.systemd", "systemd_service", "ansible.builtin.systemd_service"):
        mod = lookup(name)
        assert mod is not None and mod.name == "systemd"


def test_probe_parses_status_and_enabled() -> None:
    st = parse_probe(probe("active", "enabled"))
    assert st.found and st.enabled and st.active == "active" and not st.masked
    assert st.status["Id"] == "web.service"


def test_running_enabled_unit_is_ok_with_one_round_trip() -> None:
    conn = fake_host(probe("active", "enabled"))
    res = run(conn, name="web", state="started", enabled=True)
    assert not res.changed and not res.failed
    assert len(conn.commands) == 1
    assert res.data["status"]["ActiveState"] == "active"
    assert res.data["state"] == "started" and res.data["enabled"] is True


def test_stopped_disabled_unit_is_enabled_then_started_in_order() -> None:
    conn = fake_host(probe())
    res = run(conn, name="web", state="started", enabled=True, daemon_reload=True)
    assert res.changed
    assert conn.commands[0] == "systemctl daemon-reload"
    assert conn.commands[2:] == ["systemctl enable web", "systemctl start web"]


def test_masking_comes_before_enable_and_unmask_is_skipped_when_not_masked() -> None:
    conn = fake_host(probe(enabled="masked"))
    res = run(conn, name="web", masked=False, enabled=True)
    assert res.changed and conn.commands[1:] == ["systemctl unmask web", "systemctl enable web"]
    conn = fake_host(probe())
    assert not run(conn, name="web", masked=False).changed


def test_restarted_and_reloaded_act_each_time_or_start_a_stopped_unit() -> None:
    assert state_action("restarted", "active") == "restart"
    assert state_action("reloaded", "active") == "reload"
    assert state_action("restarted", "inactive") == "start"
    assert state_action("stopped", "deactivating") == "stop"
    assert state_action("stopped", "inactive") is None


def test_user_scope_and_no_block_reach_systemctl() -> None:
    conn = fake_host(probe())
    run(conn, name="web", state="started", scope="user", no_block=True)
    assert "systemctl --user show" in conn.commands[0]
    assert conn.commands[1] == "systemctl --user --no-block start web"


def test_check_mode_predicts_and_runs_only_the_probe() -> None:
    conn = fake_host(probe())
    res = run(conn, check=True, name="web", state="started", daemon_reload=True)
    assert res.changed and res.msg.startswith("would daemon-reload, start")
    assert len(conn.commands) == 1


def test_missing_unit_fails_like_ansible() -> None:
    conn = fake_host(probe(load="not-found"))
    res = run(conn, name="nope", state="started")
    assert res.failed and "Could not find the requested service nope" in res.msg


def test_failed_command_is_a_failed_result_with_the_reason() -> None:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if MARK in call.command:
            return 0, probe(), ""
        return 1, "", "Job for web.service failed"

    res = run(FakeConnection("h1", handle), name="web", state="started")
    assert res.failed and "Job for web.service failed" in res.msg and res.rc == 1


def test_no_systemctl_is_a_clear_failure() -> None:
    res = run(fake_host(f"{MARK}nosystemctl\n"), name="web", state="started")
    assert res.failed and "no systemctl" in res.msg


def test_bad_args_are_refused_before_any_host() -> None:
    mod = lookup("systemd")
    assert mod is not None
    _, errors = prepare(mod, {"state": "started"})
    assert errors == ["module systemd: state, enabled and masked need name"]
    _, errors = prepare(mod, {"name": "web", "state": "startd"})
    assert errors and "did you mean 'started'" in errors[0]
    _, errors = prepare(mod, {"name": "web"})
    assert errors and "give state" in errors[0]


def test_a_masked_unit_is_not_enabled_even_when_is_enabled_says_rc_0() -> None:
    out = probe(enabled="masked").replace(f"{MARK}enabled_rc=1", f"{MARK}enabled_rc=0")
    st = parse_probe(out)
    assert st.masked and not st.enabled
