"""A prometheus_client custom Collector that turns the last FleetSnapshot into metrics.

It is registered on its own CollectorRegistry and builds every metric family
afresh from the snapshot on each collect(), so a container, filesystem or host
that is gone from the last cycle is gone from /metrics too (global Gauges would
keep their last value forever). Names and labels are the design's contract.
Import this module only where metrics are served: it imports prometheus_client.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from fleetkit.monitoring.snapshot import FleetSnapshot, HostSnapshot

CYCLE = " (from the exporter's last collection cycle)"

SnapshotSource = Callable[[], FleetSnapshot | None]
DEFAULT_MAX_SERIES_PER_HOST = 10_000


class SeriesBudget:
    """Series per host from its unbounded families (filesystems, network devices, CPU modes,
    containers): at most `limit`; what does not fit is counted as dropped, not served."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()

    def take(self, host: str, series: int) -> bool:
        if self.used[host] + series > self.limit:
            self.dropped[host] += series
            return False
        self.used[host] += series
        return True


def _g(name: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc + CYCLE, labels=list(labels))


def _c(name: str, doc: str, labels: Iterable[str] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc + CYCLE, labels=list(labels))


class FleetCollector(Collector):
    """collect() -> the metric families of the snapshot `source()` returns right now."""

    def __init__(
        self, source: SnapshotSource, *, max_series_per_host: int = DEFAULT_MAX_SERIES_PER_HOST
    ) -> None:
        self._source = source
        self._max_series = max_series_per_host

    def describe(self) -> Iterable[Metric]:
        """Nothing up front: the families depend on the snapshot (no collect at register)."""
        return []

    def collect(self) -> Iterator[Metric]:
        snap = self._source()
        if snap is None:
            yield from self._exporter(None)
            return
        budget = SeriesBudget(self._max_series)
        yield from self._hosts(snap.hosts, budget)
        yield from self._containers(snap.hosts, budget)
        yield from self._truncated(snap.hosts, budget)
        yield from self._swarm(snap)
        yield from self._k8s(snap)
        yield from self._exporter(snap)

    @staticmethod
    def _exporter(snap: FleetSnapshot | None) -> Iterator[Metric]:
        duration = GaugeMetricFamily(
            "fleetkit_exporter_cycle_duration_seconds",
            "Wall time of the last complete collection cycle over all hosts.",
        )
        cycles = CounterMetricFamily(
            "fleetkit_exporter_cycles",
            "Collection cycles completed since the exporter started.",
        )
        duration.add_metric([], snap.cycle_duration_s if snap else 0.0)
        cycles.add_metric([], snap.cycle if snap else 0)
        yield duration
        yield cycles

    @staticmethod
    def _truncated(hosts: Iterable[HostSnapshot], budget: SeriesBudget) -> Iterator[Metric]:
        dropped = GaugeMetricFamily(
            "fleetkit_exporter_series_truncated",
            "Series of the host left out of /metrics by the per-host series cap"
            " (--max-series-per-host); 0 when none (hosts that are up).",
            labels=["host"],
        )
        for h in hosts:
            if h.up:  # a down host serves only its up/info/duration/last-success series
                dropped.add_metric([h.host], budget.dropped[h.host])
        yield dropped

    @staticmethod
    def _hosts(hosts: Iterable[HostSnapshot], budget: SeriesBudget) -> Iterator[Metric]:
        up = _g("fleetkit_host_up", "1 if the host answered its probe, 0 if not.", ["host"])
        info = _g(
            "fleetkit_host_info",
            "Host identity: inventory groups (comma-separated), OS and kernel; always 1.",
            ["host", "groups", "os", "kernel"],
        )
        dur = _g(
            "fleetkit_host_collect_duration_seconds",
            "Seconds the host's probe took (connect included).",
            ["host"],
        )
        last = _g(
            "fleetkit_host_last_collect_timestamp_seconds",
            "Unix time of the host's last successful probe.",
            ["host"],
        )
        loads = [
            _g(f"fleetkit_host_load{n}", f"{n}-minute load average.", ["host"]) for n in (1, 5, 15)
        ]
        cpu = _c(
            "fleetkit_host_cpu_seconds",
            "CPU seconds spent in each mode, summed over all CPUs.",
            ["host", "mode"],
        )
        mem_total = _g("fleetkit_host_memory_total_bytes", "Total usable RAM.", ["host"])
        mem_avail = _g(
            "fleetkit_host_memory_available_bytes",
            "RAM available for new work without swapping (MemAvailable).",
            ["host"],
        )
        fs_labels = ["host", "mountpoint", "fstype", "device"]
        fs_size = _g("fleetkit_host_filesystem_size_bytes", "Filesystem size.", fs_labels)
        fs_avail = _g(
            "fleetkit_host_filesystem_avail_bytes",
            "Filesystem space available to unprivileged users.",
            fs_labels,
        )
        rx = _c(
            "fleetkit_host_network_receive_bytes",
            "Bytes received by the interface since boot.",
            ["host", "device"],
        )
        tx = _c(
            "fleetkit_host_network_transmit_bytes",
            "Bytes sent by the interface since boot.",
            ["host", "device"],
        )
        boot = _g("fleetkit_host_boot_time_seconds", "Unix time the host booted.", ["host"])
        for h in hosts:
            name = h.host
            up.add_metric([name], 1.0 if h.up else 0.0)
            dur.add_metric([name], h.collect_duration_s)
            if h.last_success is not None:
                last.add_metric([name], h.last_success)
            if h.os or h.kernel or h.up:
                info.add_metric([name, ",".join(h.groups), h.os, h.kernel], 1.0)
            if not h.up:
                continue
            if h.load is not None:
                for family, value in zip(loads, h.load, strict=True):
                    family.add_metric([name], value)
            for mode, seconds in h.cpu_seconds.items():
                if budget.take(name, 1):
                    cpu.add_metric([name, mode], seconds)
            if h.memory_total_bytes is not None:
                mem_total.add_metric([name], h.memory_total_bytes)
            if h.memory_available_bytes is not None:
                mem_avail.add_metric([name], h.memory_available_bytes)
            for fs in h.filesystems:
                if not budget.take(name, 2):
                    continue
                key = [name, fs.mountpoint, fs.fstype, fs.device]
                fs_size.add_metric(key, fs.size_bytes)
                fs_avail.add_metric(key, fs.avail_bytes)
            for dev in h.network:
                if not budget.take(name, 2):
                    continue
                rx.add_metric([name, dev.device], dev.receive_bytes)
                tx.add_metric([name, dev.device], dev.transmit_bytes)
            if h.boot_time_seconds is not None:
                boot.add_metric([name], h.boot_time_seconds)
        yield from (up, info, dur, last, *loads, cpu, mem_total, mem_avail, fs_size, fs_avail)
        yield from (rx, tx, boot)

    @staticmethod
    def _containers(hosts: Iterable[HostSnapshot], budget: SeriesBudget) -> Iterator[Metric]:
        running = _g(
            "fleetkit_container_running",
            "1 if the container is running, 0 if not.",
            ["host", "name", "image"],
        )
        restarts = _c(
            "fleetkit_container_restarts",
            "Times Docker restarted the container (its RestartCount).",
            ["host", "name"],
        )
        health = _g(
            "fleetkit_container_health_state",
            "1 healthy, 0 unhealthy or starting, -1 no health check.",
            ["host", "name"],
        )
        cpu = _c(
            "fleetkit_container_cpu_seconds",
            "CPU seconds used by the container (its cgroup).",
            ["host", "name"],
        )
        mem = _g(
            "fleetkit_container_memory_usage_bytes",
            "Memory used by the container, page cache that can be dropped excluded.",
            ["host", "name"],
        )
        for h in hosts:
            if not h.up or not h.containers:
                continue
            for c in h.containers:
                series = 3 + (c.cpu_seconds is not None) + (c.memory_bytes is not None)
                if not budget.take(h.host, series):
                    continue
                running.add_metric([h.host, c.name, c.image], 1.0 if c.running else 0.0)
                restarts.add_metric([h.host, c.name], c.restarts)
                health.add_metric([h.host, c.name], c.health_value)
                if c.cpu_seconds is not None:
                    cpu.add_metric([h.host, c.name], c.cpu_seconds)
                if c.memory_bytes is not None:
                    mem.add_metric([h.host, c.name], c.memory_bytes)
        yield from (running, restarts, health, cpu, mem)

    @staticmethod
    def _swarm(snap: FleetSnapshot) -> Iterator[Metric]:
        if snap.swarm is None:
            return
        ready = _g(
            "fleetkit_swarm_node_ready",
            "1 if the swarm node's status is Ready, 0 if not.",
            ["node", "role", "availability"],
        )
        desired = _g(
            "fleetkit_swarm_service_replicas_desired", "Tasks the service wants.", ["service"]
        )
        running = _g(
            "fleetkit_swarm_service_replicas_running", "Tasks of the service running.", ["service"]
        )
        for n in snap.swarm.nodes:
            ready.add_metric([n.node, n.role, n.availability], 1.0 if n.ready else 0.0)
        for s in snap.swarm.services:
            desired.add_metric([s.name], s.desired)
            running.add_metric([s.name], s.running)
        yield from (ready, desired, running)

    @staticmethod
    def _k8s(snap: FleetSnapshot) -> Iterator[Metric]:
        if snap.k8s is None:
            return
        labels = ["namespace", "deployment"]
        desired = _g(
            "fleetkit_k8s_deployment_replicas_desired", "Replicas the deployment wants.", labels
        )
        available = _g(
            "fleetkit_k8s_deployment_replicas_available",
            "Replicas of the deployment available.",
            labels,
        )
        for d in snap.k8s.deployments:
            desired.add_metric([d.namespace, d.name], d.desired)
            available.add_metric([d.namespace, d.name], d.available)
        ready = _g(
            "fleetkit_k8s_node_ready",
            "1 if the Kubernetes node's Ready condition is True, 0 if not.",
            ["node", "roles"],
        )
        for n in snap.k8s.nodes:
            ready.add_metric([n.node, n.roles], 1.0 if n.ready else 0.0)
        yield from (desired, available, ready)


def make_registry(
    source: SnapshotSource, *, max_series_per_host: int = DEFAULT_MAX_SERIES_PER_HOST
) -> CollectorRegistry:
    """A fresh registry holding only the fleet collector (no process/platform metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(source, max_series_per_host=max_series_per_host))
    return registry
