"""systemd: ansible-core 2.19's systemd_service ported: one probe, Ansible's order (reload,
mask, enable, state), only what differs, offline systemctl for enabled/masked, Ansible's
messages and registered keys (expectations from ansible-playbook, in a mount namespace
over a copy of /etc on a host without a running systemd, and on the lab)."""

from __future__ import annotations

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.modules.systemd import MARK, OFFLINE_WARNING, parse_probe, parse_show, state_action
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


def probe(
    active: str = "inactive",
    enabled: str = "disabled",
    load: str = "loaded",
    *,
    shown: bool = True,
    extra: str = "",
) -> str:
    rc = 0 if enabled in ("enabled", "static", "masked-runtime") else 1
    show = (
        f"Id=web.service\nActiveState={active}\nSubState=dead\nLoadState={load}\n"
        f"UnitFileState={enabled}\n{MARK}show_rc=0\n"
        if shown
        else f"{MARK}show_rc=1\n"
    )
    return (
        f"{show}{MARK}enabled={enabled}\n{MARK}enabled_l={enabled}\n{MARK}enabled_l_rc={rc}\n"
        f"{MARK}listed_rc=0\n{extra}"
    )


def fake_host(out: str, fail: str = "") -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if MARK in call.command:
            return 0, out, ""
        if fail and fail in call.command:
            return 1, "", "Job for web.service failed\n"
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


def test_show_is_parsed_as_ansible_does_with_multi_line_exec_values() -> None:
    status = parse_show(["A=1", "ExecStart={ path=/bin/x ;", "  argv[]=/bin/x }", "B={ x"])
    assert status == {"A": "1", "ExecStart": "{ path=/bin/x ;\n  argv[]=/bin/x }", "B": "{ x"}


def test_running_enabled_unit_is_ok_with_one_round_trip() -> None:
    conn = fake_host(probe("active", "enabled"))
    res = run(conn, name="web", state="started", enabled=True)
    assert not res.changed and not res.failed and len(conn.commands) == 1
    assert res.registered is not None
    assert res.registered["status"]["ActiveState"] == "active"
    assert (res.registered["state"], res.registered["enabled"]) == ("started", True)


def test_stopped_disabled_unit_is_enabled_then_started_in_order() -> None:
    conn = fake_host(probe())
    res = run(conn, name="web", state="started", enabled=True, daemon_reload=True)
    assert res.changed
    assert conn.commands[0] == "systemctl daemon-reload"
    assert conn.commands[2:] == ["systemctl enable web", "systemctl start web"]
    assert res.registered is not None and res.registered["enabled"] is True


def test_masking_comes_before_enable_and_unmask_is_skipped_when_not_masked() -> None:
    conn = fake_host(probe(enabled="masked"))
    res = run(conn, name="web", masked=False, enabled=True)
    assert res.changed and conn.commands[1:] == ["systemctl unmask web", "systemctl enable web"]
    assert not run(fake_host(probe()), name="web", masked=False).changed


def test_restarted_and_reloaded_act_each_time_or_start_a_stopped_unit() -> None:
    assert state_action("restarted", "active") == "restart"
    assert state_action("reloaded", "active") == "reload"
    assert state_action("restarted", "inactive") == "start"
    assert state_action("stopped", "deactivating") == "stop"
    assert state_action("stopped", "inactive") is None
    res = run(fake_host(probe("active")), name="web", state="restarted")
    assert res.registered is not None and res.registered["state"] == "started"


def test_user_scope_and_no_block_reach_systemctl() -> None:
    conn = fake_host(probe())
    run(conn, name="web", state="started", scope="user", no_block=True)
    assert "systemctl --user --no-block show" in conn.commands[0]
    assert conn.commands[1].endswith("systemctl --user --no-block start web")
    assert conn.commands[1].startswith('XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-')


def test_check_mode_predicts_and_runs_only_the_probe() -> None:
    conn = fake_host(probe())
    res = run(conn, check=True, name="web", state="started", daemon_reload=True)
    assert res.changed and len(conn.commands) == 1


def test_without_a_running_systemd_enable_is_recorded_offline() -> None:
    conn = fake_host(probe(enabled="disabled", shown=False))
    res = run(conn, name="web", enabled=True)
    assert res.changed and conn.commands[-1] == "systemctl enable web"
    assert res.registered == {
        "name": "web",
        "changed": True,
        "status": {},
        "enabled": True,
        "failed": False,
    }
    res = run(fake_host(probe(enabled="enabled", shown=False)), name="web", enabled=True)
    assert not res.changed


def test_without_a_running_systemd_a_state_is_unknown_or_a_warning_offline() -> None:
    res = run(fake_host(probe(shown=False)), name="web", state="started")
    assert res.failed and res.msg == "Service is in unknown state"
    res = run(
        fake_host(probe(shown=False, extra=f"{MARK}chroot=yes\n")), name="web", state="started"
    )
    assert not res.failed and res.registered is not None
    assert res.registered["warnings"] == [OFFLINE_WARNING]


def test_a_sysv_script_is_enabled_by_its_rc_links_when_systemd_does_not_know_it() -> None:
    out = probe(enabled="", load="not-found", extra=f"{MARK}sysv=yes\n{MARK}sysv_on=yes\n")
    out = out.replace(f"{MARK}listed_rc=0", f"{MARK}listed_rc=1")
    res = run(fake_host(out), name="web", enabled=True)
    assert not res.changed and res.registered is not None
    assert "is actually an init script" in res.registered["warnings"][0]


def test_missing_unit_fails_like_ansible() -> None:
    res = run(
        fake_host(probe(load="not-found").replace("listed_rc=0", "listed_rc=1")),
        name="nope",
        state="started",
    )
    assert res.failed and res.msg == "Could not find the requested service nope: host"


def test_failed_command_is_a_failed_result_with_the_reason() -> None:
    res = run(fake_host(probe(), fail="start web"), name="web", state="started")
    assert res.failed and res.msg == "Unable to start service web: Job for web.service failed\n"


def test_no_systemctl_is_a_clear_failure() -> None:
    res = run(fake_host(f"{MARK}nosystemctl\n"), name="web", state="started")
    assert res.failed and 'Failed to find required executable "systemctl"' in res.msg


def test_bad_args_are_refused_before_any_host() -> None:
    mod = lookup("systemd")
    assert mod is not None
    _, errors = prepare(mod, {"state": "started"})
    assert errors == ["module systemd: state, enabled and masked need name"]
    _, errors = prepare(mod, {"name": "web", "state": "startd"})
    assert errors and "did you mean 'started'" in errors[0]
    _, errors = prepare(mod, {"name": "web"})
    assert errors and "give state" in errors[0]
    _, errors = prepare(mod, {"name": "web*", "state": "started"})
    assert errors and "does not currently support using glob patterns" in errors[0]


def test_is_enabled_words_as_ansible_reads_them() -> None:
    assert not parse_probe(probe(enabled="enabled-runtime").replace("_l_rc=1", "_l_rc=0")).enabled(
        "system"
    )
    assert parse_probe(probe(enabled="static")).enabled("system")
