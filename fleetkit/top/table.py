"""The rows of a FleetView as rich renderables: a header, hosts, services."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from fleetkit.dashboards.units import format_value
from fleetkit.top.rows import FleetView, HostRow, Level, ServiceRow, level_of

STYLE: Mapping[Level, str] = MappingProxyType(
    {
        Level.OK: "green",
        Level.WARNING: "yellow",
        Level.CRITICAL: "bold red",
        Level.DOWN: "bold white on red",
    }
)


def _dash() -> Text:
    return Text("-", style="dim")


def render_view(view: FleetView, *, max_hosts: int | None = None, hint: str = "") -> RenderableType:
    """Header, host table (cut to max_hosts, the worst kept) and services table."""
    parts: list[RenderableType] = [header(view, hint)]
    shown = view.hosts if max_hosts is None else view.hosts[: max(1, max_hosts)]
    parts.append(hosts_table(shown))
    if len(shown) < len(view.hosts):
        rest = view.hosts[len(shown) :]
        worst = max(h.level for h in rest)
        parts.append(Text(f"... {len(rest)} more hosts (worst: {worst.name.lower()})", style="dim"))
    if view.services:
        parts.append(services_table(view.services))
    return Group(*parts)


def header(view: FleetView, hint: str = "") -> Text:
    """One line: host counts, cycle number and duration, time, and the key hint."""
    up = len(view.hosts) - view.down
    text = Text("fleetkit top  ", style="bold")
    text.append(f"{len(view.hosts)} hosts: ")
    text.append(f"{up} up", style="green")
    if view.down:
        text.append(f", {view.down} down", style="bold red")
    clock = time.strftime("%H:%M:%S", time.localtime(view.timestamp))
    text.append(f"   cycle {view.cycle} in {view.duration_s:.2f}s at {clock}", style="dim")
    if hint:
        text.append(f"   {hint}", style="dim")
    return text


def hosts_table(hosts: tuple[HostRow, ...]) -> Table:
    """One row per host in the given order; why a host is down goes in the last column."""
    table = Table(header_style="bold", pad_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column("HOST", no_wrap=True, min_width=6)
    table.add_column("STATE", no_wrap=True, min_width=5)
    table.add_column("LOAD/CPUS", justify="right", no_wrap=True, min_width=9)
    table.add_column("CPU", justify="right", no_wrap=True, min_width=6)
    table.add_column("MEMORY", justify="right", no_wrap=True, min_width=6)
    table.add_column("DISK", justify="right", no_wrap=True, min_width=6)
    table.add_column("CONTAINERS", justify="right", no_wrap=True, min_width=10)
    table.add_column("NOTE", overflow="ellipsis", no_wrap=True, max_width=70)
    for row in hosts:
        table.add_row(*_cells(row))
    return table


def _cells(row: HostRow) -> list[Text]:
    name = Text(row.host, style="bold")
    if not row.up:
        state = Text("DOWN", style=STYLE[Level.DOWN])
        note = Text(row.error.splitlines()[0] if row.error else "unreachable", style="red")
        return [name, state, _dash(), _dash(), _dash(), _dash(), _dash(), note]
    state = Text("up", style=STYLE[row.level])
    load = _dash()
    if row.load1 is not None:
        per_cpu = row.load_per_cpu
        load = Text(f"{row.load1:.2f}" + (f"/{row.cpus}" if row.cpus else ""))
        load.stylize(STYLE[level_of(per_cpu, 1.0, 2.0)] if per_cpu is not None else "")
    notes = []
    if row.memory_total:
        notes.append(f"mem {format_value(row.memory_total, 'bytes')}")
    if row.disk_mount:
        notes.append(f"fullest {row.disk_mount}")
    containers = _dash()
    if row.containers_total is not None:
        style = "yellow" if row.containers_down else ""
        containers = Text(f"{row.containers_running}/{row.containers_total}", style=style)
        if row.containers_down:
            notes.append(f"{row.containers_down} container(s) not running")
    note = Text(", ".join(notes), style="dim")
    memory, disk, cpu = _ratio(row.memory_used), _ratio(row.disk_used), _ratio(row.cpu_busy)
    return [name, state, load, cpu, memory, disk, containers, note]


def _ratio(value: float | None) -> Text:
    if value is None:
        return _dash()
    return Text(f"{value * 100:.1f}%", style=STYLE[level_of(value)])


def services_table(services: tuple[ServiceRow, ...]) -> Table:
    """Swarm services and Kubernetes deployments: running/desired, the short ones first."""
    table = Table(header_style="bold", pad_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column("SERVICE", no_wrap=True)
    table.add_column("KIND", no_wrap=True)
    table.add_column("RUNNING/DESIRED", justify="right", no_wrap=True)
    table.add_column("STATE", no_wrap=True)
    for s in services:
        state = "ok" if s.level is Level.OK else f"{s.missing} missing"
        style = STYLE[s.level]
        table.add_row(
            Text(s.name, style="bold"),
            Text(s.kind, style="dim"),
            Text(f"{s.running}/{s.desired}", style=style),
            Text(state, style=style),
        )
    return table
