"""A peer that authenticates and then never answers holds nothing past its deadline.

Against tests/faults/stuck_server.py on loopback (marker unit: loopback-only test
servers, as the exporter's HTTP server tests use). Before the fix `exec --timeout 2`,
`health --timeout 2` and `exporter --once --timeout 2` hung forever on a server
that never answers the exec request (paramiko's exec_command waits with no
timeout), and serve mode never finished its first cycle nor stopped on SIGTERM.
Every fleetkit process here runs with a subprocess timeout, so a regression fails.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from tests.faults.stuck_server import Mode, StuckServer, write_inventory
from tests.support import FLEETKIT, fleetkit, free_loopback_port, json_events

from fleetkit.connection import deadlines
from fleetkit.connection.base import CommandResult, Connection
from fleetkit.executor.pool import HostPool
from fleetkit.monitoring.cycle import CYCLE_GRACE_S, Collection, Targets
from fleetkit.results import Status, StepResult

pytestmark = pytest.mark.unit

FAST = ("--interval", "1", "--timeout", "1")
STARTUP_S = 15.0  # interpreter start and imports: generous, a loaded 2-core machine is slow


@pytest.fixture()
def servers(request: pytest.FixtureRequest) -> Iterator[dict[str, StuckServer]]:
    """{'stuck': a server in the mode the test names, 'good': a healthy one}."""
    mode: Mode = request.param
    with StuckServer(mode) as stuck, StuckServer(Mode.OK) as good:
        yield {"stuck": stuck, "good": good}


def _inventory(tmp_path: Path, servers: dict[str, StuckServer]) -> Path:
    return write_inventory(tmp_path, servers)


@pytest.mark.parametrize(
    ("servers", "why"),
    [
        (Mode.NO_EXEC_REPLY, "did not answer the exec request"),
        (Mode.STALL_AFTER_AUTH, "did not open a session"),
    ],
    indirect=["servers"],
)
def test_exec_timeout_returns_with_the_stuck_host_unreachable(
    tmp_path: Path, servers: dict[str, StuckServer], why: str
) -> None:
    inv = _inventory(tmp_path, servers)
    start = time.monotonic()
    proc = fleetkit(
        "exec", "all", "-i", str(inv), "--timeout", "2", "--json", "--", "true",
        timeout=30, cwd=tmp_path,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    events = json_events(proc.stdout)
    results = {e["host"]: e for e in events if e["event"] == "host_result"}
    assert proc.returncode == 3, proc.stderr
    assert results["good"]["status"] == "ok", results["good"]["msg"]
    assert results["stuck"]["status"] == "unreachable"
    assert why in results["stuck"]["msg"]
    summary = events[-1]
    # the command's deadline: --timeout 2 plus the client's 3 s grace
    assert summary["duration_s"] <= 2 + 3 + 1.0, summary
    assert elapsed <= 2 + 3 + STARTUP_S
    assert "Traceback" not in proc.stderr
    assert (tmp_path / ".fleetkit" / "retry" / "exec.retry").read_text().splitlines()[-1] == (
        "stuck"
    )


@pytest.mark.parametrize("servers", [Mode.NO_EXEC_REPLY], indirect=True)
def test_health_timeout_reports_the_stuck_host_unreachable(
    tmp_path: Path, servers: dict[str, StuckServer]
) -> None:
    inv = _inventory(tmp_path, servers)
    start = time.monotonic()
    proc = fleetkit("health", "-i", str(inv), "--timeout", "2", "--json", timeout=30)
    elapsed = time.monotonic() - start
    summary = json_events(proc.stdout)[-1]
    assert summary["unreachable"] == ["stuck"], proc.stdout
    assert elapsed <= 2 + CYCLE_GRACE_S + STARTUP_S
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("servers", [Mode.NO_EXEC_REPLY], indirect=True)
def test_exporter_once_reports_the_stuck_host_down(
    tmp_path: Path, servers: dict[str, StuckServer]
) -> None:
    inv = _inventory(tmp_path, servers)
    start = time.monotonic()
    proc = fleetkit("exporter", "-i", str(inv), "--once", "--timeout", "2", timeout=30)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert 'fleetkit_host_up{host="stuck"} 0.0' in proc.stdout
    assert 'fleetkit_host_up{host="good"} 1.0' in proc.stdout
    assert elapsed <= 2 + CYCLE_GRACE_S + STARTUP_S


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=3) as resp:
        return str(resp.read().decode())


def _cycles(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("fleetkit_exporter_cycles_total "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.parametrize("servers", [Mode.NO_EXEC_REPLY], indirect=True)
def test_serve_keeps_cycling_past_a_stuck_host_and_stops_on_sigterm(
    tmp_path: Path, servers: dict[str, StuckServer]
) -> None:
    inv = _inventory(tmp_path, servers)
    port = free_loopback_port()
    log = tmp_path / "exporter.log"
    url = f"http://127.0.0.1:{port}/metrics"
    log_file = log.open("w")
    proc = subprocess.Popen(
        [*FLEETKIT, "exporter", "-i", str(inv), "--listen", f"127.0.0.1:{port}", *FAST],
        stdout=subprocess.DEVNULL,
        stderr=log_file,
        text=True,
    )
    try:
        seen: list[float] = []
        end = time.monotonic() + 25
        while time.monotonic() < end and len({c for c in seen if c > 0}) < 3:
            with contextlib.suppress(OSError):  # not listening or not ready yet
                seen.append(_cycles(_scrape(url)))
            time.sleep(0.3)
        # the stuck host costs each of its cycles at most its timeout: cycles keep completing
        assert len({c for c in seen if c > 0}) >= 3, (seen, log.read_text())
        time.sleep(0.5)  # likely inside a cycle that is waiting on the stuck host
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        stopped = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log_file.close()
    err = log.read_text()
    assert proc.returncode == 0, err
    assert stopped <= 5.0 + 3.0, err  # STOP_GRACE_S, plus closing connections and exit
    assert "stuck: down" in err
    assert "Traceback" not in err


class _BlockingConnection(Connection):
    """A transport whose run blocks until the connection is closed (what a wedged
    library call looks like to the pool); close() is what unblocks it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.closed = threading.Event()

    def open(self) -> None:
        pass

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        if self.name == "stuck":
            self.closed.wait(60)
            from fleetkit.errors import ConnectionError

            raise ConnectionError(f"{self.name}: closed")
        return CommandResult(0, "", "", 0.0)

    def close(self) -> None:
        self.closed.set()


def test_a_cycle_round_has_a_hard_deadline_and_closes_the_stuck_transport() -> None:
    conns = {h: _BlockingConnection(h) for h in ("stuck", "good")}
    pool = HostPool(lambda h: conns[h], 4)
    coll = Collection(Targets(hosts=("good", "stuck")), pool, timeout=0.5)
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(coll.cycle()), daemon=True)
    start = time.monotonic()
    worker.start()
    worker.join(0.5 + CYCLE_GRACE_S + 5)
    try:
        assert not worker.is_alive(), "the cycle outlived its deadline"
        assert time.monotonic() - start <= 0.5 + CYCLE_GRACE_S + 1
        snap = result[0]
        hosts = {h.host: h for h in snap.hosts}  # type: ignore[attr-defined]
        assert hosts["good"].up
        assert not hosts["stuck"].up and "deadline" in hosts["stuck"].error
        assert conns["stuck"].closed.is_set()  # its transport was closed
    finally:
        pool.close()


def test_pool_map_deadline_reports_unfinished_hosts_unreachable() -> None:
    gate = threading.Event()
    pool = HostPool(_BlockingConnection, 2)

    def fn(host: str, conn: Connection) -> StepResult:
        if host == "slow":
            gate.wait(30)
        return StepResult(host, "t", Status.OK)

    try:
        start = time.monotonic()
        steps = {s.host: s for s in pool.map(["slow", "fast"], "t", fn, deadline=0.5)}
        assert time.monotonic() - start < 2
        assert steps["fast"].status is Status.OK
        assert steps["slow"].status is Status.UNREACHABLE
        assert "0.5s deadline" in steps["slow"].msg
    finally:
        gate.set()
        pool.close()


def test_exec_request_relies_only_on_channel_members_paramiko_still_has() -> None:
    a, b = __import__("socket").socketpair()
    try:
        chan = paramiko.Channel(0)
        for name in deadlines.PRIVATE_EXEC_CHANNEL:
            assert hasattr(chan, name), name
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("servers", [Mode.NO_EXEC_REPLY], indirect=True)
def test_open_command_stream_is_bounded_too(
    tmp_path: Path, servers: dict[str, StuckServer]
) -> None:
    from fleetkit.connection.factory import ConnectionFactory
    from fleetkit.connection.spec import ConnectionSpec
    from fleetkit.errors import ConnectionError

    spec = ConnectionSpec.for_host("stuck", servers["stuck"].host_vars(tmp_path))
    conn = ConnectionFactory({"stuck": spec})("stuck")
    raised: list[BaseException] = []

    def open_stream() -> None:
        try:
            conn.open_command_stream("docker system dial-stdio", timeout=1.5)
        except BaseException as err:
            raised.append(err)

    worker = threading.Thread(target=open_stream, daemon=True)  # a regression hangs here
    try:
        worker.start()
        worker.join(1.5 + 5)
        assert not worker.is_alive(), "open_command_stream waited past its timeout"
        assert raised and isinstance(raised[0], (ConnectionError, paramiko.SSHException))
    finally:
        conn.close()


def test_a_command_that_exits_before_reading_its_stdin_is_its_exit_status(
    tmp_path: Path,
) -> None:
    """Writing stdin to a channel the command already closed is a broken pipe, not a lost
    connection: the result is the command's exit status and output (the Ansible module
    launcher exits 127 at once when the interpreter is missing; before the fix the host
    came out unreachable, 'connection lost: Socket is closed', depending on timing)."""
    from fleetkit.connection.factory import ConnectionFactory
    from fleetkit.connection.spec import ConnectionSpec

    with StuckServer(Mode.EXIT_EARLY) as server:
        spec = ConnectionSpec.for_host("early", server.host_vars(tmp_path))
        conn = ConnectionFactory({"early": spec})("early")
        try:
            for _ in range(5):  # the race went both ways: every try must hold
                result = conn.run("python3 -", stdin=b"x" * (8 << 20), timeout=20)
                assert result.rc == 127
                assert result.stderr == "no such interpreter\n"
        finally:
            conn.close()
