"""End to end: a real Prometheus (Debian's) on a free loopback port scrapes an exporter
watching the lab; its HTTP API must show every lab host's metrics and load our rules."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support import FLEETKIT, HOST_METRICS, free_loopback_port

from fleetkit.inventory.load import load_inventory
from fleetkit.lab import LabState
from fleetkit.monitoring.cycle import open_pool

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "prometheus" / "rules" / "fleetkit.rules.yml"
PROMETHEUS = shutil.which("prometheus")


class Drain(threading.Thread):
    """Keeps a child's stderr flowing (and remembered) so it never blocks on a full pipe."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def exporter(lab: LabState, swarm_service: str) -> Iterator[str]:
    """`fleetkit exporter` on the lab, on a loopback port it picks; yields host:port."""
    assert lab.inventory is not None
    args = ["exporter", "-i", str(lab.inventory), "--listen", "127.0.0.1:0", "--interval", "1"]
    proc = subprocess.Popen(
        [*FLEETKIT, *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    drain = Drain(proc.stderr)
    drain.start()
    try:
        deadline = time.monotonic() + 30
        while (m := re.search(r"listening on http://(\S+?)/metrics", drain.text())) is None:
            assert proc.poll() is None and time.monotonic() < deadline, drain.text()
            time.sleep(0.05)
        yield m.group(1)
    finally:
        stop(proc)
        drain.join(5)
        proc.stderr.close()


@pytest.fixture(scope="module")
def prometheus(exporter: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's prometheus scraping the exporter every second; yields its base URL."""
    if PROMETHEUS is None:
        pytest.skip("prometheus not installed (Debian package: prometheus)")
    folder = tmp_path_factory.mktemp("prometheus")
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: ['{RULES}']\n"
        "scrape_configs:\n  - job_name: fleetkit\n    honor_labels: true\n"
        f"    static_configs:\n      - targets: ['{exporter}']\n"
    )
    port = free_loopback_port()
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    drain = Drain(proc.stderr)
    drain.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, drain.text()
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "prometheus not ready: " + drain.text()
            time.sleep(0.2)
        yield base
    finally:
        stop(proc)
        drain.join(5)
        proc.stderr.close()


def api(base: str, path: str, **params: str) -> Any:
    url = f"{base}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.loads(resp.read())
    assert body["status"] == "success", body
    return body["data"]


def query(base: str, promql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = api(base, "query", query=promql)["result"]
    return result


def wait_for(base: str, promql: str, ok: Any, timeout: float = 60) -> list[dict[str, Any]]:
    """Query until ok(result) holds; fail with the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = query(base, promql)
        if ok(result):
            return result
        assert time.monotonic() < deadline, f"{promql}: {result}"
        time.sleep(0.5)


def by_host(result: list[dict[str, Any]]) -> dict[str, float]:
    return {r["metric"].get("host", ""): float(r["value"][1]) for r in result}


def test_prometheus_sees_every_lab_host_up(lab: LabState, prometheus: str) -> None:
    names = {h.name for h in lab.hosts}
    result = wait_for(prometheus, "fleetkit_host_up", lambda r: set(by_host(r)) >= names)
    assert all(by_host(result)[n] == 1.0 for n in names)


def test_every_host_metric_is_queryable_for_every_host(lab: LabState, prometheus: str) -> None:
    names = {h.name for h in lab.hosts}
    for metric in HOST_METRICS:
        wait_for(prometheus, f"count by (host) ({metric})", lambda r: set(by_host(r)) >= names)
    memory = by_host(query(prometheus, "fleetkit_host_memory_total_bytes"))
    assert all(memory[n] > 0 for n in names)
    free = by_host(query(prometheus, 'fleetkit_host_filesystem_avail_bytes{mountpoint="/"}'))
    assert all(free[n] > 0 for n in names)


def test_cpu_rate_gives_the_cpu_count_the_high_load_alert_divides_by(
    lab: LabState, prometheus: str
) -> None:
    """HighLoad divides load1 by sum(rate(cpu seconds)): that must be the CPU count."""
    inv = load_inventory(str(lab.inventory))
    host = lab.hosts[0].name
    with open_pool(inv, (host,), timeout=10) as pool:
        cpus = int(pool.connection(host).run("nproc --all", timeout=30).stdout)
    wait_for(  # enough samples in the window for a steady rate
        prometheus, f'count_over_time(fleetkit_host_up{{host="{host}"}}[15s]) >= 10', bool
    )
    wait_for(
        prometheus,
        f'sum by (host) (rate(fleetkit_host_cpu_seconds_total{{host="{host}"}}[15s]))',
        lambda r: bool(r) and 0.7 * cpus <= by_host(r)[host] <= 1.3 * cpus,
        timeout=30,
    )


def test_the_alert_rules_are_loaded_and_evaluate(prometheus: str) -> None:
    def evaluated(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            r for g in groups for r in g["rules"] if r.get("lastEvaluation", "").startswith("2")
        ]

    deadline = time.monotonic() + 30
    while True:
        groups = api(prometheus, "rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if len(evaluated(groups)) == len(rules):
            break
        assert time.monotonic() < deadline, rules
        time.sleep(0.5)
    assert len(rules) == 12
    assert all(r["health"] == "ok" for r in rules), [r for r in rules if r["health"] != "ok"]
    firing = {r["name"] for r in rules if r["state"] == "firing"}
    assert "HostDown" not in firing


def remote(lab: LabState, host: str, command: str) -> str:
    inv = load_inventory(str(lab.inventory))
    with open_pool(inv, (host,), timeout=10) as pool:
        result = pool.connection(host).run(command, timeout=120)
    assert result.rc == 0, f"{host}: {command}: {result.stderr}"
    return result.stdout


@pytest.mark.destructive  # runs (and removes) a container on one lab host
def test_container_metrics_reach_prometheus(lab: LabState, prometheus: str) -> None:
    if not lab.docker or not lab.registry:
        pytest.skip("the lab runs without --docker: no containers")
    host = lab.hosts[-1].name
    name = f"fk-e2e-{uuid.uuid4().hex[:8]}"
    remote(lab, host, f"docker run -d --name {name} {lab.registry}/fleetkit/web:v1")
    try:
        for metric in (
            "fleetkit_container_running",
            "fleetkit_container_restarts_total",
            "fleetkit_container_health_state",
            "fleetkit_container_memory_usage_bytes",
        ):
            wait_for(prometheus, f'{metric}{{host="{host}",name="{name}"}}', bool)
        running = query(prometheus, f'fleetkit_container_running{{name="{name}"}}')
        assert float(running[0]["value"][1]) == 1.0
    finally:
        remote(lab, host, f"docker rm -f {name} >/dev/null 2>&1 || true")


def test_swarm_service_replicas_reach_prometheus(lab: LabState, prometheus: str) -> None:
    if not lab.docker:
        pytest.skip("the lab runs without --docker: no swarm")
    manager = lab.hosts[0].name
    state = remote(lab, manager, "docker info --format '{{.Swarm.LocalNodeState}}'").strip()
    if state != "active":
        pytest.skip("the lab's swarm is not initialised (the swarm tests bootstrap it)")
    services = set(remote(lab, manager, "docker service ls --format '{{.Name}}'").split())
    if not services:
        pytest.skip("no swarm service is deployed on the lab")
    result = wait_for(
        prometheus,
        "fleetkit_swarm_service_replicas_desired",
        lambda r: {x["metric"]["service"] for x in r} >= services,
    )
    assert {x["metric"]["service"] for x in result} == services
    nodes = wait_for(prometheus, "fleetkit_swarm_node_ready", bool)
    assert {x["metric"]["node"] for x in nodes} >= {lab.hosts[0].name}
