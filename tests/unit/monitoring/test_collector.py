"""The custom Collector: the contract's metric names and labels, from the last snapshot."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client.parser import text_string_to_metric_families

from fleetkit.monitoring.collector import FleetCollector, make_registry
from fleetkit.monitoring.exporter import OPENMETRICS_ACCEPT, MetricsCache
from fleetkit.monitoring.snapshot import FleetSnapshot

from .helpers import sample_fleet

# The design's metrics contract: name -> label names (dashboards and alerts rely on it).
CONTRACT: dict[str, set[str]] = {
    "fleetkit_host_up": {"host"},
    "fleetkit_host_info": {"host", "groups", "os", "kernel"},
    "fleetkit_host_collect_duration_seconds": {"host"},
    "fleetkit_host_last_collect_timestamp_seconds": {"host"},
    "fleetkit_host_load1": {"host"},
    "fleetkit_host_load5": {"host"},
    "fleetkit_host_load15": {"host"},
    "fleetkit_host_cpu_seconds_total": {"host", "mode"},
    "fleetkit_host_memory_total_bytes": {"host"},
    "fleetkit_host_memory_available_bytes": {"host"},
    "fleetkit_host_filesystem_size_bytes": {"host", "mountpoint", "fstype", "device"},
    "fleetkit_host_filesystem_avail_bytes": {"host", "mountpoint", "fstype", "device"},
    "fleetkit_host_network_receive_bytes_total": {"host", "device"},
    "fleetkit_host_network_transmit_bytes_total": {"host", "device"},
    "fleetkit_host_boot_time_seconds": {"host"},
    "fleetkit_container_running": {"host", "name", "image"},
    "fleetkit_container_restarts_total": {"host", "name"},
    "fleetkit_container_health_state": {"host", "name"},
    "fleetkit_container_cpu_seconds_total": {"host", "name"},
    "fleetkit_container_memory_usage_bytes": {"host", "name"},
    "fleetkit_swarm_node_ready": {"node", "role", "availability"},
    "fleetkit_swarm_service_replicas_desired": {"service"},
    "fleetkit_swarm_service_replicas_running": {"service"},
    "fleetkit_k8s_deployment_replicas_desired": {"namespace", "deployment"},
    "fleetkit_k8s_deployment_replicas_available": {"namespace", "deployment"},
    "fleetkit_k8s_node_ready": {"node", "roles"},  # added: node readiness
    "fleetkit_exporter_cycle_duration_seconds": set(),
    "fleetkit_exporter_cycles_total": set(),
    "fleetkit_exporter_series_truncated": {"host"},  # added: the per-host series cap
}


def samples(snap: FleetSnapshot | None) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Scrape text parsed back: sample name -> [(labels, value)]."""
    holder = [snap]
    text = MetricsCache(lambda: holder[0]).text()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def test_every_contract_metric_is_there_with_exactly_its_labels() -> None:
    got = samples(sample_fleet())
    assert set(got) == set(CONTRACT)
    for name, series in got.items():
        for labels, _ in series:
            assert set(labels) == CONTRACT[name], name


def test_values_come_from_the_snapshot() -> None:
    got = samples(sample_fleet())
    assert ({"host": "h1"}, 1.0) in got["fleetkit_host_up"]
    assert ({"host": "h2"}, 0.0) in got["fleetkit_host_up"]
    assert got["fleetkit_host_load1"] == [({"host": "h1"}, 0.5)]
    assert got["fleetkit_host_memory_total_bytes"] == [({"host": "h1"}, float(8 << 30))]
    fs = {lb["mountpoint"]: v for lb, v in got["fleetkit_host_filesystem_avail_bytes"]}
    assert fs == {"/": float(40 << 30), "/srv/my disk": float(1 << 18)}
    health = {lb["name"]: v for lb, v in got["fleetkit_container_health_state"]}
    assert health == {"web.1": 1.0, "db": -1.0}
    running = {lb["name"]: (lb["image"], v) for lb, v in got["fleetkit_container_running"]}
    assert running == {"web.1": ("lab/web:v1", 1.0), "db": ("postgres:16", 0.0)}
    assert got["fleetkit_swarm_service_replicas_running"] == [({"service": "web"}, 2.0)]
    assert got["fleetkit_exporter_cycles_total"] == [({}, 7.0)]
    info = {lb["host"]: lb for lb, _ in got["fleetkit_host_info"]}
    assert info["h1"]["groups"] == "managers,web"


def test_a_down_host_has_up_zero_info_and_last_success_only() -> None:
    got = samples(sample_fleet())
    for name, series in got.items():
        hosts = {lb.get("host") for lb, _ in series}
        if "h2" in hosts:
            assert name in {
                "fleetkit_host_up",
                "fleetkit_host_info",
                "fleetkit_host_collect_duration_seconds",
                "fleetkit_host_last_collect_timestamp_seconds",
            }, name
    last = {lb["host"]: v for lb, v in got["fleetkit_host_last_collect_timestamp_seconds"]}
    assert last["h2"] == 1_700_000_000.0


def test_a_vanished_container_leaves_metrics() -> None:
    first = sample_fleet()
    h1 = first.hosts[0]
    assert h1.containers is not None
    second = replace(
        first,
        hosts=(replace(h1, containers=h1.containers[:1]), *first.hosts[1:]),
        cycle=first.cycle + 1,
    )
    holder = [first]
    cache = MetricsCache(lambda: holder[0])
    assert 'name="db"' in cache.text()
    holder[0] = second
    text = cache.text()
    assert 'name="db"' not in text
    assert 'name="web.1"' in text


def test_no_swarm_or_k8s_means_no_such_families() -> None:
    snap = replace(sample_fleet(), swarm=None, k8s=None)
    names = set(samples(snap))
    assert not any(n.startswith(("fleetkit_swarm_", "fleetkit_k8s_")) for n in names)


def test_before_the_first_cycle_only_exporter_metrics_are_served() -> None:
    assert set(samples(None)) == {
        "fleetkit_exporter_cycle_duration_seconds",
        "fleetkit_exporter_cycles_total",
    }


def test_help_says_values_come_from_the_last_cycle() -> None:
    families = list(FleetCollector(sample_fleet).collect())
    assert families
    for family in families:
        if family.name.startswith(("fleetkit_host", "fleetkit_container", "fleetkit_swarm")):
            assert "last collection cycle" in family.documentation, family.name


def test_own_registry_has_no_process_metrics() -> None:
    registry = make_registry(lambda: None)
    names = {m.name for m in registry.collect()}
    assert names == {"fleetkit_exporter_cycle_duration_seconds", "fleetkit_exporter_cycles"}


def test_openmetrics_is_served_too() -> None:
    body, ctype = MetricsCache(sample_fleet).render(OPENMETRICS_ACCEPT)
    assert ctype.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_scrape_of_200_hosts_is_a_cached_lookup() -> None:
    """Rendered once per cycle (prewarm, off the scrape path); a scrape of the same
    snapshot returns those very bytes (no timing: see bench/bench_exporter.py)."""
    snap = sample_fleet(200)
    cache = MetricsCache(lambda: snap)
    cache.prewarm()
    bodies = [cache.render("")[0] for _ in range(10)]
    assert bodies[0].count(b"fleetkit_host_up{") == 200
    assert all(body is bodies[0] for body in bodies)


def test_prewarm_renders_only_the_formats_scrapers_asked_for() -> None:
    calls: list[int] = []
    holder = [sample_fleet()]

    def latest() -> FleetSnapshot:
        calls.append(1)
        return holder[0]

    cache = MetricsCache(latest)
    cache.prewarm()
    assert len(calls) == 1  # nobody asked yet: the text format
    cache.render(OPENMETRICS_ACCEPT)
    holder[0] = replace(holder[0], cycle=99)
    calls.clear()
    cache.prewarm()
    assert len(calls) == 2  # text and OpenMetrics
    body, _ = cache.render(OPENMETRICS_ACCEPT)
    assert b"fleetkit_exporter_cycles_total 99.0" in body
