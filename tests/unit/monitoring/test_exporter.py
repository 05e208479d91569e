"""The exporter loop, its CLI, clean shutdown, and lazy imports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from fleetkit.cli import main
from fleetkit.monitoring.cycle import Collection, Targets
from fleetkit.monitoring.exporter import ExporterOptions, run_once, serve, stop_on_signals
from fleetkit.testing.fake_connection import FakeConnection

from .conftest import FakeFleet
from .helpers import probe_answer

FLEETKIT = Path(sys.executable).with_name("fleetkit")


@pytest.fixture
def local_inventory(tmp_path: Path) -> Path:
    """Two inventory names for this machine, reached without SSH."""
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  children:\n    managers:\n      hosts:\n"
        "        here:\n          ansible_connection: local\n"
        "    workers:\n      hosts:\n"
        "        there:\n          ansible_connection: local\n"
    )
    return inv


def test_run_once_returns_the_metrics_text(fake_fleet: FakeFleet) -> None:
    conns = {"a": FakeConnection("a", probe_answer())}
    text = run_once(Collection(Targets(hosts=("a",)), fake_fleet(conns)))
    assert 'fleetkit_host_up{host="a"} 1.0' in text
    assert "fleetkit_exporter_cycles_total 1.0" in text


def test_serve_logs_readiness_serves_cycles_and_stops(
    fake_fleet: FakeFleet, caplog: pytest.LogCaptureFixture
) -> None:
    conns = {"a": FakeConnection("a", probe_answer())}
    coll = Collection(Targets(hosts=("a",)), fake_fleet(conns))
    stop = threading.Event()
    options = ExporterOptions(inventory="-", listen="127.0.0.1:0", interval=0.1)
    caplog.set_level("INFO", logger="fleetkit.monitoring")
    thread = threading.Thread(target=serve, args=(coll, options, stop))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "listening on" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        url = re.search(r"listening on (\S+)", caplog.text)
        assert url, caplog.text
        while (coll.latest is None or coll.latest.cycle < 3) and time.monotonic() < deadline:
            time.sleep(0.02)
        calls = len(conns["a"].calls)
        for _ in range(5):  # scrapes never trigger SSH
            with urllib.request.urlopen(url.group(1), timeout=5) as resp:
                assert b'fleetkit_host_up{host="a"} 1.0' in resp.read()
        assert len(conns["a"].calls) - calls <= 1  # at most the cycle that was due meanwhile
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert coll.latest is not None and coll.latest.cycle >= 3


def test_sigterm_sets_the_stop_event_and_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2)
    assert signal.getsignal(signal.SIGTERM) is before


def test_cli_once_prints_every_host_metric(
    local_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exporter", "-i", str(local_inventory), "--once"]) == 0
    out = capsys.readouterr().out
    for host in ("here", "there"):
        assert f'fleetkit_host_up{{host="{host}"}} 1.0' in out
        assert f'fleetkit_host_memory_total_bytes{{host="{host}"}}' in out
    assert 'groups="managers"' in out


def test_cli_once_honours_limit(local_inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exporter", "-i", str(local_inventory), "-l", "workers", "--once"]) == 0
    out = capsys.readouterr().out
    assert 'host="there"' in out and 'host="here"' not in out


def test_cli_bad_listen_is_exit_2(local_inventory: Path) -> None:
    assert main(["exporter", "-i", str(local_inventory), "--listen", "x:y"]) == 2


@pytest.mark.skipif(not FLEETKIT.exists(), reason="fleetkit console script not installed")
def test_exporter_process_serves_and_exits_cleanly_on_sigterm(local_inventory: Path) -> None:
    args = ["exporter", "-i", str(local_inventory), "--listen", "127.0.0.1:0", "--interval", "0.2"]
    proc = subprocess.Popen(
        [str(FLEETKIT), *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            m = re.search(r"listening on (http://\S+)", line)
            url = m.group(1) if m else None
        assert url, "no readiness line"
        body = b""
        while b'host="there"' not in body and time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=5) as resp:
                body = resp.read()
            time.sleep(0.05)
        assert b'fleetkit_host_up{host="there"} 1.0' in body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


CHECK_IMPORTS = """
import contextlib, io, sys
from fleetkit.cli import cli
for args in (["--help"], ["exec", "--help"], ["exporter", "--help"], ["health", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(args=args, prog_name="fleetkit", standalone_mode=False)
heavy = [m for m in ("prometheus_client", "schedule", "docker", "bcrypt") if m in sys.modules]
print("heavy:" + ",".join(heavy))
"""


def test_help_never_imports_prometheus_client_or_schedule() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORTS], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "heavy:"


def test_a_bad_listen_address_is_refused_before_anything_runs_even_with_once() -> None:
    from fleetkit.errors import MonitoringError
    from fleetkit.monitoring.exporter import ExporterOptions, run

    options = ExporterOptions(
        inventory="/nonexistent/inventory",
        limit=None,
        listen="bad:port",
        interval=15.0,
        timeout=1.0,
        web_config=None,
    )
    with pytest.raises(MonitoringError, match="port must be a number"):
        run(options, once=True)
