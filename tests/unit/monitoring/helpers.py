"""Helpers for the monitoring unit tests: fixture files and fake probe answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from fleetkit.connection.base import CommandResult
from fleetkit.monitoring.snapshot import (
    CPU_MODES,
    Container,
    Deployment,
    Filesystem,
    FleetSnapshot,
    HostSnapshot,
    K8sNode,
    K8sSnapshot,
    NetDevice,
    SwarmNode,
    SwarmService,
    SwarmSnapshot,
)
from fleetkit.testing.fake_connection import FakeCall

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(relative: str) -> str:
    """The text of a captured fixture file."""
    return (FIXTURES / relative).read_text(encoding="utf-8")


def probe_answer(
    *, docker: str = "!absent\n", swarm: str | None = None
) -> Callable[[FakeCall], CommandResult]:
    """A handler that answers the probe like the captured Debian host, plus a docker
    section and, when the script asks for it, a swarm section."""
    base = fixture_text("debian12-vm/probe.txt")
    head, _, _ = base.partition("@@fk@@ docker\n")

    def handle(call: FakeCall) -> CommandResult:
        out = ""
        if "@@fk@@ proc" in call.command:
            out += head + "@@fk@@ docker\n" + docker
        if "swarm_$what" in call.command:
            out += swarm if swarm is not None else "@@fk@@ swarm_node\n!absent\n"
        if "@@fk@@ end" in call.command:
            out += "@@fk@@ end\n"
        return CommandResult(0, out, "", 0.001)

    return handle


def swarm_answer() -> str:
    """The swarm sections a healthy manager prints."""
    return (
        "@@fk@@ swarm_node\n"
        + fixture_text("swarm/node_ls.jsonl")
        + "@@fk@@ swarm_service\n"
        + fixture_text("swarm/service_ls.jsonl")
    )


def sample_fleet(n_hosts: int = 2, *, containers: bool = True) -> FleetSnapshot:
    """A complete snapshot: n up hosts (the last one down when n > 1), swarm and k8s."""
    hosts = []
    for i in range(n_hosts):
        name = f"h{i + 1}"
        if n_hosts > 1 and i == n_hosts - 1:
            hosts.append(
                HostSnapshot(
                    host=name,
                    up=False,
                    groups=("workers",),
                    error="refused",
                    last_success=1_700_000_000.0,
                    os="Debian GNU/Linux 12 (bookworm)",
                    kernel="6.1.0",
                )
            )
            continue
        hosts.append(
            HostSnapshot(
                host=name,
                up=True,
                groups=("managers", "web"),
                collect_duration_s=0.02,
                last_success=1_700_000_100.0,
                os="Debian GNU/Linux 12 (bookworm)",
                kernel="6.1.0",
                load=(0.5, 0.25, 0.125),
                cpus=4,
                cpu_seconds=MappingProxyType({m: 10.0 * (j + 1) for j, m in enumerate(CPU_MODES)}),
                memory_total_bytes=8 << 30,
                memory_available_bytes=6 << 30,
                filesystems=(
                    Filesystem("/", "ext4", "/dev/sda1", 100 << 30, 40 << 30),
                    Filesystem("/srv/my disk", "tmpfs", "fk", 1 << 20, 1 << 18),
                ),
                network=(NetDevice("eth0", 1000, 2000),),
                boot_time_seconds=1_690_000_000.0,
                containers=(
                    Container("a1", "web.1", "lab/web:v1", "running", 0, "healthy", 1.5, 1 << 20),
                    Container("a2", "db", "postgres:16", "exited", 3, "none", None, None),
                )
                if containers
                else (),
            )
        )
    return FleetSnapshot(
        hosts=tuple(hosts),
        swarm=SwarmSnapshot(
            "h1",
            nodes=(SwarmNode("h1", "manager", "active", True),),
            services=(SwarmService("web", "replicated", 3, 2),),
        ),
        k8s=K8sSnapshot(
            "h1",
            deployments=(Deployment("default", "api", 2, 2),),
            nodes=(K8sNode("k1", "control-plane,master", True), K8sNode("k2", "<none>", False)),
        ),
        cycle=7,
        cycle_duration_s=0.5,
        timestamp=1_700_000_101.0,
    )
