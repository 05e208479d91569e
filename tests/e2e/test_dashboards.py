"""Every panel of the shipped dashboards against a real Prometheus fed by the real exporter.

On the session's lab: `fleetkit exporter` (a subprocess, every 2 s) scraped by
Debian's prometheus (loopback, temporary config and storage, every 2 s). Each
panel's queries, with the template variables substituted as Grafana would,
must parse, and must return data unless the panel is listed below with the
reason it may be empty in the lab. Set FLEETKIT_RENDER_DIR to keep the PNGs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest
from tests.support import FLEETKIT, free_loopback_port

from fleetkit.dashboards.catalog import catalog
from fleetkit.dashboards.load import load_dashboard
from fleetkit.dashboards.model import Panel, TargetResult
from fleetkit.dashboards.query import Prometheus, TimeRange, fetch_panels
from fleetkit.dashboards.render import render_png
from fleetkit.lab import LabState
from fleetkit.testing.promql import metric_names

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from fleetkit.monitoring.snapshot import FleetSnapshot

pytestmark = pytest.mark.e2e

DASHBOARDS = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SCRAPE_S = 2
WAIT_S = 90.0
MIN_SCRAPES = 5  # enough samples for rate() over 1m and increase() over the range


@dataclass(frozen=True)
class LabFacts:
    """What the lab can show: Docker or not, and the metric names the exporter serves."""

    docker: bool
    exported: frozenset[str]


# Panels that may legitimately be empty in the lab: (dashboard, title) -> why, given the lab.
Reason = Callable[[LabFacts], str | None]
K8S = "no Kubernetes cluster in the lab"
NO_RUN = "no playbook run pushed fleetkit_run_* metrics to this Prometheus"
NO_HEALTH = "`fleetkit health` did not push to this Prometheus"


def needs_docker(metric: str, why: str) -> Reason:
    """Empty allowed on a lab without --docker, or when the exporter serves no `metric`."""

    def reason(facts: LabFacts) -> str | None:
        if not facts.docker:
            return "lab without --docker: no containers, no swarm"
        return None if metric in facts.exported else why

    return reason


def always(reason: str) -> Reason:
    return lambda _facts: reason


no_swarm = needs_docker("fleetkit_swarm_node_ready", "swarm not bootstrapped in this session")
no_service = needs_docker(
    "fleetkit_swarm_service_replicas_desired", "no swarm service deployed in this session"
)
no_container = needs_docker("fleetkit_container_running", "no container on the lab hosts")
no_container_cpu = needs_docker(
    "fleetkit_container_cpu_seconds_total", "the exporter read no container CPU counters"
)
no_container_memory = needs_docker(
    "fleetkit_container_memory_usage_bytes", "the exporter read no container memory"
)


MAY_BE_EMPTY: dict[tuple[str, str], Reason] = {
    ("containers-services.json", "Service replicas running / desired"): no_service,
    ("containers-services.json", "Service replicas: desired vs running"): no_service,
    ("containers-services.json", "Nodes ready"): no_swarm,
    ("containers-services.json", "Swarm nodes"): no_swarm,
    ("containers-services.json", "Containers running per host"): no_container,
    ("containers-services.json", "Restarts over the range (top 15)"): no_container,
    ("containers-services.json", "Container health"): no_container,
    ("containers-services.json", "Container CPU"): no_container_cpu,
    ("containers-services.json", "Container memory"): no_container_memory,
    ("containers-services.json", "Deployments available / desired"): always(K8S),
    ("containers-services.json", "Deployment replicas: desired vs available"): always(K8S),
    ("runs-health.json", "Failed tasks (last run)"): always(NO_RUN),
    ("runs-health.json", "Tasks by status (last run)"): always(NO_RUN),
    ("runs-health.json", "Hosts by status (last run)"): always(NO_RUN),
    ("runs-health.json", "Run duration"): always(NO_RUN),
    ("runs-health.json", "Time since last successful run"): always(NO_RUN),
    ("runs-health.json", "Since last health run"): always(NO_HEALTH),
    ("runs-health.json", "Health checks by host and check (failing first)"): always(NO_HEALTH),
}


def http_text(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def wait_for(
    what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what}: exited with {proc.returncode}\n{log.read_text()[-3000:]}")
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what}: not ready after {WAIT_S:.0f}s\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def exporter(
    lab: LabState, swarm_service: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`fleetkit exporter` on the lab inventory, on a free loopback port; yields its address."""
    assert lab.inventory is not None, "the lab wrote no inventory"
    address = f"127.0.0.1:{free_loopback_port()}"
    log = tmp_path_factory.mktemp("exporter") / "exporter.log"
    args = ["exporter", "-i", str(lab.inventory), "--listen", address, "--interval", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen([*FLEETKIT, *args], stdout=out, stderr=out)
    try:
        metrics = f"http://{address}/metrics"
        wait_for("exporter", lambda: "fleetkit_host_up{" in (http_text(metrics) or ""), proc, log)
        yield address
    finally:
        stop(proc)


@contextmanager
def running_prometheus(target: str, work: Path) -> Iterator[str]:
    """Debian's prometheus scraping target every 2 s; yields its base URL once fed."""
    if not os.path.exists(PROMETHEUS):
        pytest.skip("prometheus is not installed (Debian package `prometheus`)")
    config = work / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: {SCRAPE_S}s\n  scrape_timeout: {SCRAPE_S}s\n"
        f"  evaluation_interval: {SCRAPE_S}s\n"
        "scrape_configs:\n  - job_name: fleetkit\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    url = f"http://127.0.0.1:{free_loopback_port()}"
    log = work / "prometheus.log"
    args = [
        PROMETHEUS,
        f"--config.file={config}",
        f"--storage.tsdb.path={work / 'data'}",
        f"--web.listen-address={url.removeprefix('http://')}",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=out)
    try:
        wait_for("prometheus", lambda: http_text(f"{url}/-/ready") is not None, proc, log)
        prom = Prometheus(url)

        def fed() -> bool:
            scrapes = prom.query("count_over_time(fleetkit_exporter_cycles_total[5m])")
            return bool(scrapes) and (scrapes[0].last or 0) >= MIN_SCRAPES

        wait_for("prometheus scrapes", fed, proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def prometheus(exporter: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus fed by the exporter running on the lab."""
    with running_prometheus(exporter, tmp_path_factory.mktemp("prometheus")) as url:
        yield url


@pytest.fixture(scope="module")
def synthetic_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus fed by the exporter's own collector over a made-up fleet (no lab):
    containers, a swarm with a short service, a k8s cluster, run and health metrics."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app

    from fleetkit.monitoring.collector import make_registry

    registry = make_registry(made_up_fleet)
    registry.register(RunAndHealthCollector())

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """No access log on stderr."""

    server = make_server("127.0.0.1", 0, make_wsgi_app(registry), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = f"127.0.0.1:{server.server_port}"
        with running_prometheus(target, tmp_path_factory.mktemp("synthetic")) as url:
            yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def made_up_fleet() -> FleetSnapshot:
    """Three hosts with containers (one stopped), a swarm short of a replica, k8s."""
    from fleetkit.monitoring.snapshot import (
        Container,
        Deployment,
        Filesystem,
        FleetSnapshot,
        HostSnapshot,
        K8sSnapshot,
        NetDevice,
        SwarmNode,
        SwarmService,
        SwarmSnapshot,
    )

    now = time.time()
    hosts = tuple(
        HostSnapshot(
            host=f"lab{i}",
            up=i != 3,
            groups=("managers",) if i == 1 else ("workers", "web"),
            collect_duration_s=0.05 * i,
            last_success=now - i,
            os="Debian GNU/Linux 12 (bookworm)",
            kernel="6.1.0",
            load=(0.5 * i, 0.4, 0.3),
            cpus=2,
            cpu_seconds=MappingProxyType({"idle": now * 1.5, "user": now * 0.4, "system": 9.0}),
            memory_total_bytes=4 * 2**30,
            memory_available_bytes=2**30 * i,
            filesystems=(Filesystem("/", "ext4", "/dev/vda1", 10 * 2**30, 2**30 * i),),
            network=(NetDevice("eth0", int(now * 1000), int(now * 500)),),
            boot_time_seconds=now - 86400,
            containers=(
                Container(
                    "a", f"web.{i}", "registry/web:1", "running", 1, "healthy", now / 1e4, 2**26
                ),
                Container("b", "job", "registry/job:1", "exited", 0),
            ),
        )
        for i in (1, 2, 3)
    )
    swarm = SwarmSnapshot(
        "lab1",
        nodes=tuple(
            SwarmNode(f"lab{i}", "manager" if i == 1 else "worker", "active", True)
            for i in (1, 2, 3)
        ),
        services=(SwarmService("web", "replicated", 3, 2),),
    )
    k8s = K8sSnapshot("lab1", deployments=(Deployment("default", "api", 2, 2),))
    return FleetSnapshot(hosts, swarm, k8s, cycle=int(now), cycle_duration_s=0.2, timestamp=now)


class RunAndHealthCollector:
    """What `fleetkit run --metrics-textfile` and `fleetkit health` publish (the contract)."""

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        now = time.time()
        tasks = CounterMetricFamily(
            "fleetkit_run_tasks", "Tasks by status.", labels=["playbook", "status"]
        )
        hosts = GaugeMetricFamily(
            "fleetkit_run_hosts", "Hosts by status.", labels=["playbook", "status"]
        )
        duration = GaugeMetricFamily(
            "fleetkit_run_duration_seconds", "Run time.", labels=["playbook"]
        )
        success = GaugeMetricFamily(
            "fleetkit_run_last_success_timestamp_seconds", "Last success.", labels=["playbook"]
        )
        for status, count in (("ok", 12), ("changed", 3), ("failed", 1)):
            tasks.add_metric(["deploy.yml", status], count)
            hosts.add_metric(["deploy.yml", status], count // 3)
        duration.add_metric(["deploy.yml"], 42.0)
        success.add_metric(["deploy.yml"], now - 3600)
        check = GaugeMetricFamily("fleetkit_health_check_ok", "Check.", labels=["host", "check"])
        check.add_metric(["lab1", "http"], 1)
        check.add_metric(["lab2", "http"], 0)
        last = GaugeMetricFamily("fleetkit_health_last_run_timestamp_seconds", "Last health run.")
        last.add_metric([], now - 60)
        yield from (tasks, hosts, duration, success, check, last)


@pytest.fixture(scope="module")
def facts(lab: LabState, exporter: str) -> LabFacts:
    text = http_text(f"http://{exporter}/metrics") or ""
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1].isalpha()}
    return LabFacts(docker=lab.docker, exported=frozenset(names))


def has_data(results: tuple[TargetResult, ...]) -> bool:
    return any(r.series for r in results)


@pytest.mark.parametrize("name", sorted(catalog()))
def test_every_panel_query_parses_and_returns_the_labs_data(
    name: str, prometheus: str, facts: LabFacts, lab: LabState, tmp_path: Path
) -> None:
    board = load_dashboard(DASHBOARDS / name)
    window = TimeRange(end=time.time(), seconds=300, rate_interval="1m")
    results = fetch_panels(board, Prometheus(prometheus), window)
    lines, problems = [], []
    for panel in (p for p in board.panels if p.targets):
        errors = [f"{r.target.ref_id}: {r.error}" for r in results[panel.id] if r.error]
        reason_of = MAY_BE_EMPTY.get((name, panel.title))
        reason = reason_of(facts) if reason_of else None
        if errors:
            problems.append(f"{panel.title!r}: query refused: {errors}")
            status = "ERROR"
        elif has_data(results[panel.id]):
            status = "data"
        elif reason:
            status = f"empty ({reason})"
        else:
            status = "EMPTY"
            problems.append(f"{panel.title!r}: no series ({_metrics(panel)})")
        lines.append(f"  {panel.title:<50} {status}")
    hosts = ", ".join(h.name for h in lab.hosts)
    summary = f"{name} on the lab ({hosts}; docker: {facts.docker}):\n" + "\n".join(lines)
    print("\n" + summary)
    if os.environ.get("FLEETKIT_RENDER_DIR"):  # kept for the closing note
        (render_dir(tmp_path) / name.replace(".json", ".panels.txt")).write_text(summary + "\n")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(catalog()))
def test_every_panel_returns_data_when_its_metrics_exist(
    name: str, synthetic_prometheus: str, tmp_path: Path
) -> None:
    """No panel may be empty when the fleet has what it shows (no lab: a made-up fleet)."""
    board = load_dashboard(DASHBOARDS / name)
    window = TimeRange(end=time.time(), seconds=300, rate_interval="1m")
    results = fetch_panels(board, Prometheus(synthetic_prometheus), window)
    problems = [
        f"{panel.title!r}: {[r.error for r in results[panel.id] if r.error] or 'no series'}"
        f" ({_metrics(panel)})"
        for panel in board.panels
        if panel.targets
        and not (has_data(results[panel.id]) and all(not r.error for r in results[panel.id]))
    ]
    assert not problems, "\n".join(problems)
    out = render_dir(tmp_path) / f"synthetic-{name.replace('.json', '.png')}"
    render_png(board, results, out, subtitle="made-up fleet", span=(window.start, window.end))
    assert out.stat().st_size > 50_000


def test_the_group_variable_narrows_panels_to_the_groups_hosts(
    prometheus: str, lab: LabState
) -> None:
    from fleetkit.inventory.load import load_inventory

    assert lab.inventory is not None
    managers = load_inventory(lab.inventory).group_hosts("managers")
    board = load_dashboard(DASHBOARDS / "fleet-overview.json")
    window = TimeRange(end=time.time(), seconds=300)
    results = fetch_panels(board, Prometheus(prometheus), window, {"group": ["managers"]})
    (table,) = [p for p in board.panels if p.title == "Hosts"]
    shown = {s.labels["host"] for r in results[table.id] for s in r.series}
    assert shown == set(managers)


def test_the_host_variable_lists_every_lab_host(prometheus: str, lab: LabState) -> None:
    hosts = Prometheus(prometheus).label_values("host", "fleetkit_host_up")
    assert hosts == sorted(h.name for h in lab.hosts)


def test_every_dashboard_renders_from_the_lab(prometheus: str, tmp_path: Path) -> None:
    for name in sorted(catalog()):
        out = render_dir(tmp_path) / name.replace(".json", ".png")
        args = ["dashboard", "render", str(DASHBOARDS / name), "--prometheus", prometheus]
        proc = subprocess.run(
            [*FLEETKIT, *args, "-o", str(out), "--range", "5m"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert out.stat().st_size > 50_000
        assert str(out) in proc.stdout and "0 errors" in proc.stdout


def render_dir(default: Path) -> Path:
    """Where the pictures go: $FLEETKIT_RENDER_DIR (kept, e.g. for the README) or default."""
    keep = os.environ.get("FLEETKIT_RENDER_DIR")
    return Path(keep) if keep else default


def _metrics(panel: Panel) -> str:
    return ", ".join(sorted(set().union(*(metric_names(t.expr) for t in panel.targets))))
