"""A refused or closed connection is one line per host in fleetkit's words, no traceback.

Before the fix paramiko's transport thread logged its handshake failure at ERROR
with a traceback (one record per line) and Python's last-resort handler printed
it on stderr, under --json too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.faults.stuck_server import Mode, StuckServer, write_inventory
from tests.support import fleetkit, free_loopback_port

pytestmark = pytest.mark.unit


def _inventory(tmp_path: Path, closing: StuckServer) -> Path:
    inv = write_inventory(tmp_path, {"closed": closing})
    refused_port = free_loopback_port()  # nothing listens there
    text = inv.read_text().replace("hosts:\n", "hosts:\n    refused:\n", 1)
    extra = "".join(
        f"      {k}: {v}\n"
        for k, v in {**closing.host_vars(tmp_path), "ansible_port": refused_port}.items()
    )
    inv.write_text(text.replace("    refused:\n", "    refused:\n" + extra, 1))
    return inv


def test_json_run_has_only_json_on_stdout_and_no_traceback(tmp_path: Path) -> None:
    with StuckServer(Mode.CLOSE) as closing:
        inv = _inventory(tmp_path, closing)
        proc = fleetkit("exec", "all", "-i", str(inv), "--json", "--", "true", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]  # every line is JSON
    results = {e["host"]: e for e in events if e["event"] == "host_result"}
    assert set(results) == {"closed", "refused"}
    assert all(r["status"] == "unreachable" for r in results.values())
    # in words, not paramiko's "[Errno None] Unable to connect to port N on 127.0.0.1"
    assert results["refused"]["msg"].endswith(": Connection refused"), results["refused"]
    assert "Traceback" not in proc.stderr and "paramiko" not in proc.stderr
    assert "Exception (client)" not in proc.stderr


def test_human_run_prints_one_line_per_unreachable_host(tmp_path: Path) -> None:
    with StuckServer(Mode.CLOSE) as closing:
        inv = _inventory(tmp_path, closing)
        proc = fleetkit("exec", "all", "-i", str(inv), "--", "true", cwd=tmp_path)
    assert proc.returncode == 3
    for host in ("closed", "refused"):
        lines = [
            line
            for line in (proc.stdout + proc.stderr).splitlines()
            if line.startswith(host) and "unreachable" in line and "=" not in line
        ]
        assert len(lines) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Exception (client)" not in proc.stderr
