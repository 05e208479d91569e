"""What `top` shows: one row per host and per service, ranked worst-first.

Rows are plain values built from monitoring snapshots; CPU busy needs two
snapshots (its counters are cumulative), so the first refresh shows it empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum

from fleetkit.monitoring.snapshot import FleetSnapshot, HostSnapshot

WARN = 0.80
CRITICAL = 0.90
IDLE_MODES = ("idle",)


class Level(IntEnum):
    """How bad a row is; rows sort by level first, highest first."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    DOWN = 3


def level_of(ratio: float | None, warn: float = WARN, critical: float = CRITICAL) -> Level:
    """The level of a usage ratio (0..1): warning from `warn`, critical from `critical`."""
    if ratio is None:
        return Level.OK
    return Level.CRITICAL if ratio >= critical else Level.WARNING if ratio >= warn else Level.OK


@dataclass(frozen=True)
class HostRow:
    """One host: reachable or not, and its load, CPU, memory, fullest disk, containers."""

    host: str
    up: bool
    error: str = ""
    load1: float | None = None
    cpus: int | None = None
    cpu_busy: float | None = None  # 0..1 since the previous refresh
    memory_used: float | None = None  # 0..1 of total (MemAvailable counted free)
    memory_total: int | None = None
    disk_used: float | None = None  # 0..1, the fullest filesystem
    disk_mount: str = ""
    containers_running: int | None = None
    containers_total: int | None = None

    @property
    def load_per_cpu(self) -> float | None:
        """1-minute load divided by the CPU count (None when either is unknown)."""
        if self.load1 is None or not self.cpus:
            return None
        return self.load1 / self.cpus

    @property
    def containers_down(self) -> int:
        """Containers that exist but do not run."""
        if self.containers_total is None or self.containers_running is None:
            return 0
        return self.containers_total - self.containers_running

    @property
    def level(self) -> Level:
        """DOWN when unreachable, else the worst of CPU, memory, disk, load and containers."""
        if not self.up:
            return Level.DOWN
        levels = [
            level_of(self.cpu_busy),
            level_of(self.memory_used),
            level_of(self.disk_used),
            level_of(self.load_per_cpu, 1.0, 2.0),
            Level.WARNING if self.containers_down else Level.OK,
        ]
        return max(levels)

    @property
    def score(self) -> float:
        """The highest usage ratio, to rank hosts of the same level."""
        ratios = [self.cpu_busy, self.memory_used, self.disk_used]
        return max((r for r in ratios if r is not None), default=0.0)


@dataclass(frozen=True)
class ServiceRow:
    """One swarm service or Kubernetes deployment: replicas wanted and running."""

    name: str
    desired: int
    running: int
    kind: str = "swarm"

    @property
    def missing(self) -> int:
        return max(0, self.desired - self.running)

    @property
    def level(self) -> Level:
        """CRITICAL when none of the wanted replicas run, WARNING when some are missing."""
        if not self.missing:
            return Level.OK
        return Level.CRITICAL if self.running == 0 else Level.WARNING


@dataclass(frozen=True)
class FleetView:
    """One refresh: hosts and services worst-first, and when and how fast it was collected."""

    hosts: tuple[HostRow, ...]
    services: tuple[ServiceRow, ...] = ()
    cycle: int = 0
    duration_s: float = 0.0
    timestamp: float = field(default_factory=time.time)

    @property
    def down(self) -> int:
        return sum(1 for h in self.hosts if not h.up)


def worst_first(hosts: list[HostRow]) -> tuple[HostRow, ...]:
    """Down hosts, then critical, then warning, then fine; higher usage first within each."""
    return tuple(sorted(hosts, key=lambda h: (-h.level, -h.score, h.host)))


def services_worst_first(services: list[ServiceRow]) -> tuple[ServiceRow, ...]:
    """Services missing the most replicas first, then by name."""
    return tuple(sorted(services, key=lambda s: (-s.level, -s.missing, s.kind, s.name)))


def host_row(host: HostSnapshot, previous: HostSnapshot | None = None) -> HostRow:
    """A row from a host's snapshot; CPU busy from the counters' change since previous."""
    if not host.up:
        return HostRow(host.host, up=False, error=host.error)
    memory_used = None
    if host.memory_total_bytes and host.memory_available_bytes is not None:
        memory_used = 1 - host.memory_available_bytes / host.memory_total_bytes
    fullest = max(host.filesystems, key=lambda fs: fs.fill_ratio, default=None)
    containers = host.containers
    return HostRow(
        host=host.host,
        up=True,
        load1=host.load[0] if host.load else None,
        cpus=host.cpus,
        cpu_busy=cpu_busy(previous, host),
        memory_used=memory_used,
        memory_total=host.memory_total_bytes,
        disk_used=fullest.fill_ratio if fullest else None,
        disk_mount=fullest.mountpoint if fullest else "",
        containers_running=sum(c.running for c in containers) if containers is not None else None,
        containers_total=len(containers) if containers is not None else None,
    )


def cpu_busy(before: HostSnapshot | None, after: HostSnapshot) -> float | None:
    """Fraction of CPU time not idle between two snapshots (None without two samples)."""
    if before is None or not before.up or not before.cpu_seconds or not after.cpu_seconds:
        return None
    total = sum(after.cpu_seconds.values()) - sum(before.cpu_seconds.values())
    idle = sum(after.cpu_seconds.get(m, 0.0) - before.cpu_seconds.get(m, 0.0) for m in IDLE_MODES)
    if total <= 0:
        return None
    return min(1.0, max(0.0, 1 - idle / total))


def fleet_view(snapshot: FleetSnapshot, previous: FleetSnapshot | None = None) -> FleetView:
    """The rows of one snapshot, worst-first (previous: the snapshot of the last refresh)."""
    before = {h.host: h for h in previous.hosts} if previous else {}
    services = []
    if snapshot.swarm:
        services += [ServiceRow(s.name, s.desired, s.running) for s in snapshot.swarm.services]
    if snapshot.k8s:
        services += [
            ServiceRow(f"{d.namespace}/{d.name}", d.desired, d.available, kind="k8s")
            for d in snapshot.k8s.deployments
        ]
    return FleetView(
        hosts=worst_first([host_row(h, before.get(h.host)) for h in snapshot.hosts]),
        services=services_worst_first(services),
        cycle=snapshot.cycle,
        duration_s=snapshot.cycle_duration_s,
        timestamp=snapshot.timestamp or time.time(),
    )
