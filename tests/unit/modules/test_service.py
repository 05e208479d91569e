"""service: the backend that works is used; commands only for what differs; clear failure."""

from __future__ import annotations

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.registry import lookup
from fleetkit.modules.service import parse_probe
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

NO_SYSTEMD = "System has not been booted with systemd as init system (PID 1). Can't operate."


def fake_host(probe: str) -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if call.command.startswith("n="):
            return 0, probe, ""
        return 0, "", ""

    return FakeConnection("h1", handle)


def run(conn: FakeConnection, check: bool = False, **args: object):  # type: ignore[no-untyped-def]
    mod = lookup("service")
    assert mod is not None
    return mod.run(make_ctx("service", args, conn, check=check))


def test_probe_prefers_systemd_when_it_answers() -> None:
    st = parse_probe(
        "sd_active=inactive\nsd_enabled=enabled\nsd_unit=yes\nsysv=yes\nsysv_status=3\n"
    )
    assert (st.backend, st.active, st.enabled) == ("systemd", False, True)


def test_probe_falls_back_to_the_init_script_without_systemd() -> None:
    st = parse_probe(
        f"sd_active={NO_SYSTEMD}\nsd_enabled=enabled\nsysv=yes\nsysv_status=0\nsysv_enabled=yes\n"
    )
    assert (st.backend, st.active, st.enabled) == ("sysv", True, True)


def test_probe_reports_why_nothing_works() -> None:
    st = parse_probe(f"sd_active={NO_SYSTEMD}\n")
    assert st.backend == "none" and "systemctl does not work here" in st.why


def test_started_service_is_ok_and_runs_nothing() -> None:
    conn = fake_host("sd_active=active\nsd_enabled=enabled\nsd_unit=yes\n")
    res = run(conn, name="nginx", state="started", enabled=True)
    assert not res.changed and not res.failed
    assert len(conn.commands) == 1


def test_stopped_service_is_started_with_systemctl() -> None:
    conn = fake_host("sd_active=inactive\nsd_enabled=enabled\nsd_unit=yes\n")
    res = run(conn, name="nginx", state="started")
    assert res.changed and conn.commands[-1] == "systemctl start nginx"


def test_sysv_start_and_enable_use_the_init_script_and_update_rc_d() -> None:
    conn = fake_host(f"sd_active={NO_SYSTEMD}\nsysv=yes\nsysv_status=3\nsysv_enabled=no\n")
    res = run(conn, name="node-exp", state="started", enabled=True)
    assert res.changed and "(sysv)" in res.msg
    assert "service node-exp start" in conn.commands[1]
    assert "update-rc.d node-exp" in conn.commands[2]


def test_restarted_always_acts() -> None:
    conn = fake_host("sd_active=active\nsd_unit=yes\n")
    assert run(conn, name="x", state="restarted").changed


def test_check_mode_predicts_without_acting() -> None:
    conn = fake_host("sd_active=inactive\nsd_unit=yes\n")
    res = run(conn, check=True, name="x", state="started")
    assert res.changed and res.msg.startswith("would start")
    assert len(conn.commands) == 1


def test_no_backend_fails_with_the_reason() -> None:
    conn = fake_host(f"sd_active={NO_SYSTEMD}\n")
    res = run(conn, name="ghost", state="started")
    assert res.failed
    assert "cannot manage service ghost" in res.msg and "/etc/init.d/ghost" in res.msg
