"""service: as Ansible's service action: the systemd module on a systemd host (`use`,
gathered service_mgr, or the manager the setup module would find), else the generic
module: systemctl when systemd booted the host, else the init script with update-rc.d;
Ansible's message when neither knows the service; commands only for what differs."""

from __future__ import annotations

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.registry import lookup
from fleetkit.modules.service import parse_probe
from fleetkit.modules.systemd import MARK
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

NO_SYSTEMD = "System has not been booted with systemd as init system (PID 1). Can't operate."
UNIT = (
    f"ActiveState=inactive\nLoadState=loaded\n{MARK}show_rc=0\n{MARK}enabled=enabled\n"
    f"{MARK}enabled_l=enabled\n{MARK}enabled_l_rc=0\n{MARK}listed_rc=0\n"
)


def fake_host(probe: str, unit: str = UNIT) -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if call.command.startswith("n="):
            return 0, probe, ""
        if MARK in call.command:
            return 0, unit, ""
        return 0, "", ""

    return FakeConnection("h1", handle)


def run(conn: FakeConnection, check: bool = False, facts: dict | None = None, **args: object):  # type: ignore[no-untyped-def,type-arg]
    mod = lookup("service")
    assert mod is not None
    variables = {"ansible_facts": facts} if facts else None
    return mod.run(make_ctx("service", args, conn, check=check, variables=variables))


def test_probe_prefers_systemd_when_it_booted_the_host() -> None:
    st = parse_probe(
        "sd_active=inactive\nsd_enabled=enabled\nsd_unit=yes\nsysv=yes\nsysv_status=3\n"
        "sd_booted=yes\nproc1=systemd\n"
    )
    assert (st.backend, st.active, st.enabled, st.manager) == ("systemd", False, True, "systemd")


def test_a_daemonless_systemctl_under_another_init_leaves_the_init_script_in_charge() -> None:
    # a container whose PID 1 is tini, with a systemctl that answers (as on lab hosts):
    # ansible-core's setup says service_mgr=tini, its service module uses the init script
    probe = (
        "sd_active=inactive\nsd_enabled=enabled\nsd_unit=yes\nsbin_init=/lib/systemd/systemd\n"
        "sysv=yes\nsysv_status=3\nsysv_enabled=yes\nproc1=tini\n"
    )
    st = parse_probe(probe)
    assert (st.backend, st.manager, st.enabled) == ("sysv", "tini", True)
    for facts in (None, {"service_mgr": "tini"}):
        conn = fake_host(probe)
        res = run(conn, check=True, facts=facts, name="node-exp", state="started", enabled=True)
        assert res.changed and res.msg == "would start node-exp (sysv)"
        assert res.registered == {"changed": True, "msg": "service state changed", "failed": False}


def test_a_shell_or_init_as_pid_1_is_distrusted_and_sbin_init_decides() -> None:
    probe = "sd_active=inactive\nsd_unit=yes\nsbin_init=/lib/systemd/systemd\nproc1=bash\n"
    assert parse_probe(probe).manager == "systemd"
    assert parse_probe("sysv=yes\nproc1=init\n").manager == "sysvinit"


def test_probe_falls_back_to_the_init_script_without_systemd() -> None:
    st = parse_probe(
        f"sd_active={NO_SYSTEMD}\nsd_enabled=enabled\nsysv=yes\nsysv_status=0\nsysv_enabled=yes\n"
    )
    assert (st.backend, st.active, st.enabled) == ("sysv", True, True)


def test_a_systemd_host_runs_the_systemd_module() -> None:
    conn = fake_host("sd_active=inactive\nsd_enabled=enabled\nsd_unit=yes\nproc1=systemd\n")
    res = run(conn, name="nginx", state="started")
    assert res.changed and conn.commands[-1] == "systemctl start nginx"
    assert res.registered is not None and res.registered["status"]["ActiveState"] == "inactive"


def test_gathered_service_mgr_or_use_decide_without_the_probe() -> None:
    conn = fake_host("")
    res = run(conn, facts={"service_mgr": "systemd"}, name="nginx", enabled=True, sleep=3)
    assert not res.changed and not any(c.startswith("n=") for c in conn.commands)
    assert res.registered is not None
    assert res.registered["warnings"] == ['Ignoring "sleep" as it is not used in "systemd"']
    conn = fake_host("")
    run(conn, use="systemd", name="nginx", enabled=True)
    assert not any(c.startswith("n=") for c in conn.commands)


def test_sysv_start_and_enable_use_the_init_script_and_update_rc_d() -> None:
    conn = fake_host(f"sd_active={NO_SYSTEMD}\nsysv=yes\nsysv_status=3\nsysv_enabled=no\n")
    res = run(conn, name="node-exp", state="started", enabled=True)
    assert res.changed and "(sysv)" in res.msg
    assert "service node-exp start" in conn.commands[1]
    assert "update-rc.d node-exp" in conn.commands[2]
    assert res.data == {"name": "node-exp", "enabled": True, "state": "started"}


def test_check_mode_predicts_without_acting() -> None:
    conn = fake_host(f"sd_active={NO_SYSTEMD}\nsysv=yes\nsysv_status=3\n")
    res = run(conn, check=True, name="x", state="started")
    assert res.changed and res.msg.startswith("would start")
    assert len(conn.commands) == 1


def test_a_service_neither_knows_fails_with_ansibles_message() -> None:
    res = run(fake_host(f"sd_active={NO_SYSTEMD}\n"), name="ghost", state="started")
    assert res.failed and res.msg == "Could not find the requested service ghost: host"
