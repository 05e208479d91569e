"""k3s_service: restart only when the recorded inputs' hash differs; readiness through k3s."""

from __future__ import annotations

import json

import pytest
from tests.unit.modules.k3s_support import run

from fleetkit.modules.k3s_service import inputs, parse_probe, probe_script
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

NODES = json.dumps(
    {
        "items": [
            {
                "metadata": {"name": "h1", "labels": {"node-role.kubernetes.io/etcd": "true"}},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            }
        ]
    }
)


def host(active: str, applied: str, files: str = "file=abc /opt/k3s\n") -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if "is-active" in call.command and "applied=" in call.command:
            return 0, f"active={active}\napplied={applied}\n{files}", ""
        if "get --raw /readyz" in call.command:
            return 0, "ok\n", ""
        if "get nodes -o json" in call.command:
            return 0, NODES, ""
        if call.command.startswith("systemctl is-active"):
            return 0, "active\n", ""
        return 0, "", ""

    return FakeConnection("h1", handle)


def current_hash(files: str = "file=abc /opt/k3s\n") -> str:
    return parse_probe(f"active=active\napplied=\n{files}")[2]


def test_running_with_unchanged_inputs_restarts_nothing() -> None:
    conn = host("active", current_hash())
    res = run("k3s_service", {"role": "server"}, conn)
    assert not res.changed and not res.failed, res.msg
    assert not any("systemctl restart" in c or "systemctl start" in c for c in conn.commands)


def test_changed_inputs_restart_once_and_record_the_new_hash() -> None:
    conn = host("active", "0" * 64)
    res = run("k3s_service", {"role": "server", "etcd": True}, conn)
    assert res.changed and not res.failed, res.msg
    restarts = [c for c in conn.commands if "systemctl restart k3s" in c]
    assert len(restarts) == 1
    assert "daemon-reload" in restarts[0]
    assert any(current_hash() in c and "fleetkit-applied" in c for c in conn.commands)
    assert "etcd member" in res.msg


def test_a_stopped_service_is_started() -> None:
    conn = host("inactive", current_hash())
    res = run("k3s_service", {"role": "agent"}, conn)
    assert res.changed and "started k3s-agent (not running)" in res.msg
    assert any("systemctl start k3s-agent" in c for c in conn.commands)


def test_check_mode_predicts_the_restart_without_it() -> None:
    conn = host("active", "0" * 64)
    res = run("k3s_service", {"role": "server"}, conn, check=True)
    assert res.changed and res.msg.startswith("would restart")
    assert not any("systemctl restart" in c for c in conn.commands)


def test_a_server_that_never_gets_ready_fails_and_records_nothing() -> None:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if "applied=" in call.command:
            return 0, "active=inactive\napplied=\n", ""
        if "readyz" in call.command:
            return 1, "", "The connection to the server 127.0.0.1:6443 was refused"
        return 0, "", ""

    conn = FakeConnection("h1", handle)
    res = run("k3s_service", {"role": "server", "wait_timeout": 0.01}, conn)
    assert res.failed and "not ready" in res.msg and "refused" in res.msg
    assert not any("fleetkit-applied" in c and "printf" in c for c in conn.commands)


def test_every_input_file_is_hashed() -> None:
    files = inputs({"bin_dir": "/opt/k3s/bin"}, "k3s")
    assert files[0] == "/opt/k3s/bin/k3s"
    assert "/etc/rancher/k3s/config.yaml" in files
    assert "/etc/rancher/k3s/registries.yaml" in files
    assert "/etc/systemd/system/k3s.service.env" in files
    script = probe_script("k3s", files, "/x")
    assert all(f in script for f in files)
    # a missing file and a present one hash differently
    assert current_hash("file=- /a\n") != current_hash("file=abc /a\n")


def test_check_mode_predicts_a_restart_an_earlier_task_would_cause() -> None:
    conn = host("active", current_hash())  # the files on the host are as recorded...
    res = run("k3s_service", {"role": "server", "pending_change": True}, conn, check=True)
    assert res.changed and res.msg == "would restart k3s (inputs changed)"  # ...not for long
    assert not any("systemctl restart" in c for c in conn.commands)
    quiet = run("k3s_service", {"role": "server"}, host("active", current_hash()), check=True)
    assert not quiet.changed
