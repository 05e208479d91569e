"""Frozen snapshots of what one collection cycle saw: per host, per swarm, per cluster.

A cycle builds a new FleetSnapshot and swaps it in whole; /metrics and health
checks only ever read a complete one, so a scrape never sees half a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

EMPTY_FLOATS: Mapping[str, float] = MappingProxyType({})

# The aggregate CPU modes of /proc/stat we export (guest time is already in user/nice).
CPU_MODES: tuple[str, ...] = (
    "user",
    "nice",
    "system",
    "idle",
    "iowait",
    "irq",
    "softirq",
    "steal",
)


@dataclass(frozen=True)
class Filesystem:
    """One mounted filesystem with its size and the space an unprivileged user may use."""

    mountpoint: str
    fstype: str
    device: str
    size_bytes: int
    avail_bytes: int

    @property
    def fill_ratio(self) -> float:
        """Fraction of the filesystem not available to users (0.0 empty .. 1.0 full)."""
        if self.size_bytes <= 0:
            return 0.0
        return max(0.0, min(1.0, 1.0 - self.avail_bytes / self.size_bytes))


@dataclass(frozen=True)
class NetDevice:
    """Byte counters of one network interface since boot."""

    device: str
    receive_bytes: int
    transmit_bytes: int


HEALTH_VALUES: Mapping[str, int] = MappingProxyType(
    {"healthy": 1, "unhealthy": 0, "starting": 0, "none": -1}
)


@dataclass(frozen=True)
class Container:
    """One Docker container on a host, running or not."""

    id: str
    name: str
    image: str
    state: str  # docker's State.Status: running, exited, restarting, created, paused, dead
    restarts: int
    health: str = "none"  # healthy | unhealthy | starting | none (no health check)
    cpu_seconds: float | None = None
    memory_bytes: int | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def health_value(self) -> int:
        """The contract's encoding: 1 healthy, 0 unhealthy or starting, -1 no check."""
        return HEALTH_VALUES.get(self.health, -1)


@dataclass(frozen=True)
class HostSnapshot:
    """Everything one probe of one host returned; fields are None when not parsed.

    `up` is False when the host could not be reached (or its probe timed out);
    `os` and `kernel` are then carried over from its last good probe.
    `containers` is None when Docker is absent or could not be read.
    """

    host: str
    up: bool
    groups: tuple[str, ...] = ()
    error: str = ""
    collect_duration_s: float = 0.0
    last_success: float | None = None  # wall clock of the last good probe, if any
    os: str = ""
    kernel: str = ""
    load: tuple[float, float, float] | None = None
    cpus: int | None = None
    cpu_seconds: Mapping[str, float] = field(default_factory=lambda: EMPTY_FLOATS)
    memory_total_bytes: int | None = None
    memory_available_bytes: int | None = None
    filesystems: tuple[Filesystem, ...] = ()
    network: tuple[NetDevice, ...] = ()
    boot_time_seconds: float | None = None
    containers: tuple[Container, ...] | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SwarmNode:
    """A swarm node as `docker node ls` shows it."""

    node: str
    role: str  # manager | worker
    availability: str  # active | pause | drain
    ready: bool


@dataclass(frozen=True)
class SwarmService:
    """A swarm service's wanted and running task counts."""

    name: str
    mode: str
    desired: int
    running: int


@dataclass(frozen=True)
class SwarmSnapshot:
    """The swarm as one manager (`source`) saw it."""

    source: str
    nodes: tuple[SwarmNode, ...] = ()
    services: tuple[SwarmService, ...] = ()


@dataclass(frozen=True)
class Deployment:
    """A Kubernetes deployment's wanted and available replicas."""

    namespace: str
    name: str
    desired: int
    available: int


@dataclass(frozen=True)
class K8sNode:
    """A Kubernetes node: its Ready condition and roles (node-role.kubernetes.io/* labels)."""

    node: str
    roles: str  # comma-joined, sorted; "<none>" as kubectl shows a node without roles
    ready: bool


@dataclass(frozen=True)
class K8sSnapshot:
    """The cluster's deployments and nodes as one server (`source`) saw them."""

    source: str
    deployments: tuple[Deployment, ...] = ()
    nodes: tuple[K8sNode, ...] = ()


@dataclass(frozen=True)
class FleetSnapshot:
    """One complete cycle: every host, plus the swarm and cluster when there are any."""

    hosts: tuple[HostSnapshot, ...]
    swarm: SwarmSnapshot | None = None
    k8s: K8sSnapshot | None = None
    cycle: int = 0  # cycles completed so far, this one included (0: none yet)
    cycle_duration_s: float = 0.0
    timestamp: float = 0.0  # wall clock when the cycle ended

    def host(self, name: str) -> HostSnapshot:
        """The snapshot of host `name` (KeyError if it was not collected)."""
        for h in self.hosts:
            if h.host == name:
                return h
        raise KeyError(name)
