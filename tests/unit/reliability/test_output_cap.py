"""A host that floods stdout costs the controller its output cap, not gigabytes.

Before the fix `exec --timeout 4 -- yes` against a flooding host kept every byte
(5.4 GB measured) and checked its deadline only when the receive buffer was
empty, which it never is: here the run never ended. Each fleetkit process runs
in a subprocess with an address-space limit and a timeout, so a regression fails
without eating the machine; its peak RSS is the child's VmHWM, polled from /proc.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path

import pytest
from tests.faults.stuck_server import Mode, StuckServer, write_inventory
from tests.support import FLEETKIT

from fleetkit.connection.deadlines import Capture, parse_size
from fleetkit.errors import UsageError
from fleetkit.monitoring.cycle import CYCLE_GRACE_S

pytestmark = pytest.mark.unit

AS_LIMIT = 3 << 30  # address space of the fleetkit process: a regression dies, not the CI host


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str, int]:
    """(exit code, stdout, peak RSS in bytes) of fleetkit ARGS."""
    out_path = cwd / "stdout"
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            [*FLEETKIT, *args],
            stdout=out,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, **env},
        )
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))  # before it grows
        deadline = time.monotonic() + timeout
        peak = 0
        while True:
            # VmHWM of the child's own (post-exec) memory: wait4's ru_maxrss would also
            # count the parent's RSS at fork time, i.e. the whole pytest process
            peak = max(peak, _hwm(proc.pid))
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"fleetkit {' '.join(args)} still running after {timeout}s")
            time.sleep(0.02)
    return proc.returncode, out_path.read_text(), peak


def _hwm(pid: int) -> int:
    """The process's peak resident set (VmHWM) in bytes, 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def test_exec_against_a_flooding_host_is_capped_truncated_and_on_time(tmp_path: Path) -> None:
    with StuckServer(Mode.FLOOD) as flood:
        inv = write_inventory(tmp_path, {"flood": flood})
        rc, out, rss = _run(
            ["exec", "all", "-i", str(inv), "--timeout", "4", "--json", "--", "yes"],
            tmp_path,
            {"FLEETKIT_MAX_OUTPUT": "1M"},
            timeout=40,
        )
        sent = flood.bytes_sent
    events = [json.loads(line) for line in out.splitlines()]
    result = next(e for e in events if e["event"] == "host_result")
    assert rc == 1
    assert result["status"] == "failed" and result["truncated"] is True
    assert "output truncated" in result["msg"]
    assert len(result["stdout"]) == 1 << 20
    assert sent > 20 << 20  # the host really sent far more than the cap, and it was drained
    assert rss < 200 << 20, f"peak RSS {rss >> 20} MiB"
    # the server ignores the remote `timeout`, so the client deadline ends it: 4 s + 3 s grace
    # (the wall time of the whole process is bounded by _run's timeout; start-up on a
    # loaded machine varies too much to pin it closer)
    assert events[-1]["duration_s"] <= 4 + 3 + 2.0


def test_exporter_once_reports_a_flooding_host_down_within_its_memory(tmp_path: Path) -> None:
    with StuckServer(Mode.FLOOD) as flood, StuckServer(Mode.OK) as good:
        inv = write_inventory(tmp_path, {"flood": flood, "good": good})
        rc, out, rss = _run(
            ["exporter", "-i", str(inv), "--once", "--timeout", "5"], tmp_path, {}, timeout=40
        )
    assert rc == 0
    assert 'fleetkit_host_up{host="flood"} 0.0' in out
    assert 'fleetkit_host_up{host="good"} 1.0' in out
    assert rss < 240 << 20, f"peak RSS {rss >> 20} MiB"  # under the unit's 256 MB cap
    cycle = next(line for line in out.splitlines() if line.startswith("fleetkit_exporter_cycle_d"))
    # the client deadline (5 s + 3 s) ends the probe; the cycle's hard deadline (5 s +
    # CYCLE_GRACE_S) is the guarantee when a loaded machine makes that late
    assert float(cycle.split()[1]) <= 5 + CYCLE_GRACE_S + 1.0


def test_capture_keeps_the_first_bytes_and_counts_the_rest() -> None:
    cap = Capture(10)
    for chunk in (b"abcd", b"efghij", b"klm", b""):
        cap.add(chunk)
    assert cap.text() == "abcdefghij" and cap.truncated and cap.total == 13
    exact = Capture(4)
    exact.add(b"abcd")
    assert not exact.truncated


@pytest.mark.parametrize(("raw", "n"), [("1", 1), ("4M", 4 << 20), ("512KiB", 512 << 10)])
def test_output_cap_sizes(raw: str, n: int) -> None:
    assert parse_size(raw) == n


@pytest.mark.parametrize("raw", ["0", "-1", "x", "1.5M", "99999999999999999G"])
def test_bad_output_caps_are_usage_errors(raw: str) -> None:
    with pytest.raises(UsageError):
        parse_size(raw)
