"""Run metrics (textfile and Pushgateway), retry files and the fact parser."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from fleetkit.connection.local import LocalConnection
from fleetkit.executor.facts import FACTS_MARKER, FACTS_SCRIPT, gather_facts, parse_facts
from fleetkit.report.metrics import push_metrics, write_textfile
from fleetkit.results import RunResult, Status, StepResult
from fleetkit.retry import read_retry, retry_path, write_retry
from fleetkit.testing.fake_facts import fact_output, python_probe

pytestmark = pytest.mark.unit


def result(failed: bool = False) -> RunResult:
    steps = (
        StepResult("a", "t", Status.CHANGED),
        StepResult("b", "t", Status.FAILED if failed else Status.OK),
        StepResult("a", "u", Status.SKIPPED),
    )
    return RunResult(steps=steps, hosts=("a", "b"), duration_s=1.5)


def test_textfile_holds_the_run_metrics(tmp_path: Path) -> None:
    path = tmp_path / "run.prom"
    write_textfile(path, "site", result(), now=1000.0)
    text = path.read_text()
    assert 'fleetkit_run_tasks_total{playbook="site",status="changed"} 1.0' in text
    assert 'fleetkit_run_tasks_total{playbook="site",status="skipped"} 1.0' in text
    assert 'fleetkit_run_duration_seconds{playbook="site"} 1.5' in text
    assert 'fleetkit_run_hosts{playbook="site",status="changed"} 1.0' in text
    assert 'fleetkit_run_hosts{playbook="site",status="ok"} 1.0' in text
    assert 'fleetkit_run_last_success_timestamp_seconds{playbook="site"} 1000.0' in text
    assert "_created" not in text
    assert [p.name for p in tmp_path.iterdir()] == ["run.prom"]


def test_a_failed_run_keeps_the_previous_success_time(tmp_path: Path) -> None:
    path = tmp_path / "run.prom"
    write_textfile(path, "site", result(), now=1000.0)
    write_textfile(path, "site", result(failed=True), now=2000.0)
    text = path.read_text()
    assert 'fleetkit_run_last_success_timestamp_seconds{playbook="site"} 1000.0' in text
    assert 'fleetkit_run_hosts{playbook="site",status="failed"} 1.0' in text


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(("POST", self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    _Gateway.received = []
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", _Gateway.received
    finally:
        server.shutdown()
        server.server_close()


def test_pushgateway_gets_the_metrics_grouped_by_playbook(
    gateway: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    url, received = gateway
    push_metrics(url, "site", result(failed=True))
    method, path, body = received[0]
    assert (method, path) == ("POST", "/metrics/job/fleetkit_run/playbook/site")
    assert b"fleetkit_run_tasks_total" in body
    assert b"last_success" not in body  # a failed run leaves the gateway's value alone


def test_retry_files_round_trip(tmp_path: Path) -> None:
    path = retry_path(Path("playbooks/deploy.yml"), tmp_path)
    assert path == tmp_path / ".fleetkit" / "retry" / "deploy.retry"
    write_retry(path, ["web2", "web5"], playbook="playbooks/deploy.yml")
    assert read_retry(path) == ["web2", "web5"]


def test_facts_parse_the_one_command_output() -> None:
    out = fact_output(
        files={
            "/etc/os-release": 'ID=debian\nVERSION_ID="12"\n'
            'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
            "/proc/meminfo": "MemTotal: 2048000 kB\nMemAvailable: 1024000 kB\n",
        },
        python=python_probe(node="lab1", fqdn="lab1.lab", nproc=2, user="fk"),
        outputs={
            "addr_primary": "2: eth0@if9: <UP> mtu 1500\n"
            "    inet 198.18.0.2/15 brd 198.19.255.255 scope global eth0\n"
            "    inet6 fd00::2/64 scope global\n"
        },
    )
    facts = parse_facts(out)
    assert facts["hostname"] == "lab1" and facts["cpus"] == 2 and facts["user"] == "fk"
    assert facts["os"] == {
        "id": "debian",
        "version": "12",
        "name": "",
        "pretty_name": "Debian GNU/Linux 12 (bookworm)",
        "family": "debian",
        "codename": "",
    }
    assert facts["memory"]["total_bytes"] == 2048000 * 1024
    assert facts["addresses"] == ["198.18.0.2", "fd00::2"] and facts["default_ipv4"] == "198.18.0.2"


def test_facts_come_from_one_round_trip_on_a_real_shell() -> None:
    facts, res = gather_facts(LocalConnection("me"))
    assert res.ok and facts["kernel"] and facts["cpus"] >= 1 and facts["memory"]["total_bytes"] > 0
    assert FACTS_SCRIPT.startswith(FACTS_MARKER)
