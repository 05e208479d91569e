"""`fleetkit top`: rows from snapshots, worst-first order, the table, the key loop."""

from __future__ import annotations

import io
import time
from types import MappingProxyType

import pytest
from rich.console import Console

from fleetkit.monitoring.snapshot import (
    Container,
    Deployment,
    Filesystem,
    FleetSnapshot,
    HostSnapshot,
    K8sSnapshot,
    SwarmService,
    SwarmSnapshot,
)
from fleetkit.top.app import print_once, run_top
from fleetkit.top.keys import KeyReader
from fleetkit.top.rows import (
    FleetView,
    HostRow,
    Level,
    ServiceRow,
    fleet_view,
    host_row,
    services_worst_first,
    worst_first,
)
from fleetkit.top.source import SnapshotViews
from fleetkit.top.table import render_view

pytestmark = pytest.mark.unit

GIB = 2**30


def up(name: str, **kw: float | None) -> HostRow:
    return HostRow(name, up=True, load1=0.2, cpus=2, **kw)  # type: ignore[arg-type]


def text_of(view: FleetView, max_hosts: int | None = None) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(render_view(view, max_hosts=max_hosts))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def snapshot_host(name: str, *, idle: float, total: float, **kw: object) -> HostSnapshot:
    cpu = MappingProxyType({"idle": idle, "user": total - idle})
    return HostSnapshot(host=name, up=True, cpus=2, cpu_seconds=cpu, **kw)  # type: ignore[arg-type]


def test_hosts_sort_down_then_critical_then_warning_then_fine() -> None:
    rows = [
        up("fine", cpu_busy=0.10),
        up("warm", memory_used=0.85),
        HostRow("gone", up=False, error="connection refused"),
        up("full", disk_used=0.97),
        up("busier", cpu_busy=0.50),
    ]
    assert [r.host for r in worst_first(rows)] == ["gone", "full", "warm", "busier", "fine"]


def test_a_host_with_stopped_containers_or_high_load_is_a_warning() -> None:
    stopped = HostRow("a", up=True, containers_running=2, containers_total=3)
    loaded = HostRow("b", up=True, load1=3.0, cpus=2)
    assert stopped.level is Level.WARNING and stopped.containers_down == 1
    assert loaded.level is Level.WARNING
    assert HostRow("c", up=True, load1=5.0, cpus=2).level is Level.CRITICAL


def test_services_missing_all_replicas_come_before_those_missing_some() -> None:
    services = [ServiceRow("ok", 3, 3), ServiceRow("short", 3, 2), ServiceRow("dead", 2, 0)]
    ordered = services_worst_first(services)
    assert [s.name for s in ordered] == ["dead", "short", "ok"]
    assert [s.level for s in ordered] == [Level.CRITICAL, Level.WARNING, Level.OK]


def test_host_row_reads_memory_fullest_disk_and_containers_from_a_snapshot() -> None:
    host = HostSnapshot(
        host="web1",
        up=True,
        load=(1.5, 1.0, 0.5),
        cpus=4,
        memory_total_bytes=8 * GIB,
        memory_available_bytes=2 * GIB,
        filesystems=(
            Filesystem("/", "ext4", "/dev/sda1", 100, 60),
            Filesystem("/var", "ext4", "/dev/sda2", 100, 5),
        ),
        containers=(
            Container("1", "web", "img", "running", 0),
            Container("2", "job", "img", "exited", 0),
        ),
    )
    row = host_row(host)
    assert row.memory_used == pytest.approx(0.75)
    assert row.disk_mount == "/var" and row.disk_used == pytest.approx(0.95)
    assert (row.containers_running, row.containers_total) == (1, 2)
    assert row.load_per_cpu == pytest.approx(0.375)
    assert row.cpu_busy is None  # one sample only


def test_cpu_busy_comes_from_the_change_between_two_snapshots() -> None:
    before = FleetSnapshot(hosts=(snapshot_host("a", idle=100, total=200),), cycle=1)
    after = FleetSnapshot(hosts=(snapshot_host("a", idle=130, total=240),), cycle=2)
    snapshots = iter([before, after])
    views = SnapshotViews(lambda: next(snapshots))
    assert views().hosts[0].cpu_busy is None
    assert views().hosts[0].cpu_busy == pytest.approx(0.25)  # 10 busy of 40 seconds


def test_fleet_view_lists_swarm_services_and_k8s_deployments() -> None:
    snap = FleetSnapshot(
        hosts=(HostSnapshot(host="a", up=False, error="timed out"),),
        swarm=SwarmSnapshot("a", services=(SwarmService("web", "replicated", 3, 1),)),
        k8s=K8sSnapshot("a", deployments=(Deployment("default", "api", 2, 2),)),
        cycle=7,
    )
    view = fleet_view(snap)
    assert view.down == 1 and view.cycle == 7
    assert [(s.name, s.kind) for s in view.services] == [("web", "swarm"), ("default/api", "k8s")]


def test_table_shows_hosts_worst_first_with_why_a_host_is_down() -> None:
    view = FleetView(
        hosts=worst_first(
            [up("calm", cpu_busy=0.05), HostRow("lost", up=False, error="no route\nmore")]
        ),
        services=(ServiceRow("web", 3, 2),),
    )
    text = text_of(view)
    assert text.index("lost") < text.index("calm")
    assert "DOWN" in text and "no route" in text and "more" not in text
    assert "2/3" in text and "1 missing" in text
    assert "1 down" in text


def test_table_cut_to_the_terminal_keeps_the_worst_hosts() -> None:
    rows = worst_first([up(f"h{i}", cpu_busy=i / 10) for i in range(6)])
    text = text_of(FleetView(hosts=rows), max_hosts=2)
    assert "h5" in text and "h4" in text and "h0" not in text
    assert "4 more hosts" in text


def test_key_reader_is_inert_without_a_terminal() -> None:
    with KeyReader(io.StringIO()) as keys:
        assert not keys.active
        assert keys.read(0.01) == ""


class FakeKeys(KeyReader):
    """Presses `key` on the n-th read."""

    def __init__(self, key: str, after: int, error: type[BaseException] | None = None) -> None:
        super().__init__(io.StringIO())
        self.key, self.after, self.error, self.reads = key, after, error, 0

    def read(self, timeout: float) -> str:
        time.sleep(timeout)
        self.reads += 1
        if self.reads >= self.after:
            if self.error:
                raise self.error
            return self.key
        return ""


def counting_source(calls: list[int]) -> SnapshotViews:
    def cycle() -> FleetSnapshot:
        calls.append(1)
        return FleetSnapshot(hosts=(snapshot_host("a", idle=1, total=2),), cycle=len(calls))

    return SnapshotViews(cycle)


def test_top_refreshes_until_q_is_pressed() -> None:
    calls: list[int] = []
    console = Console(file=io.StringIO(), width=120)
    code = run_top(counting_source(calls), console, FakeKeys("q", after=6), interval=0.15)
    assert code == 0 and len(calls) >= 2


def test_top_quits_quietly_on_ctrl_c() -> None:
    calls: list[int] = []
    console = Console(file=io.StringIO(), width=120)
    keys = FakeKeys("", after=2, error=KeyboardInterrupt)
    assert run_top(counting_source(calls), console, keys, interval=10) == 0


def test_once_prints_the_second_cycle() -> None:
    calls: list[int] = []
    console = Console(file=io.StringIO(), width=120)
    view = print_once(counting_source(calls), console, settle=0)
    assert len(calls) == 2 and view.cycle == 2
    assert "cycle 2" in console.file.getvalue()  # type: ignore[attr-defined]
