"""Synthetic results for a dashboard: plausible series without a Prometheus (tests, previews).

Labels come from the target's legend ({{host}} {{mountpoint}}) or its `by (...)`
clause; values follow the panel's unit (percent 0..100, bytes in MiB..GiB ...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from fleetkit.dashboards.model import Dashboard, Panel, Series, Target, TargetResult
from fleetkit.dashboards.query import TimeRange

_LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_BY = re.compile(r"\bby\s*\(([^)]*)\)")
_AGGREGATE = re.compile(r"^(sum|min|max|count|avg)\(|^time\(\) - max\(")
_SCALE = {"percent": 100.0, "bytes": 2.0**30, "binBps": 2.0**20, "s": 120.0, "cpm": 30.0}
_SAMPLE = {"status": "ok", "role": "manager", "availability": "active", "mode": "idle"}


def fake_results(
    dashboard: Dashboard, window: TimeRange, hosts: Sequence[str] = ("lab1", "lab2", "lab3")
) -> dict[int, tuple[TargetResult, ...]]:
    """Results for every panel with targets: one series per host for each target."""
    return {
        panel.id: tuple(_result(panel, t, window, hosts) for t in panel.targets)
        for panel in dashboard.panels
        if panel.targets
    }


def _result(panel: Panel, target: Target, window: TimeRange, hosts: Sequence[str]) -> TargetResult:
    names = _LEGEND_LABEL.findall(target.legend)
    by = _BY.search(target.expr)
    if not names and by:
        names = [n.strip() for n in by.group(1).split(",") if n.strip()]
    if not names and "host=~" in target.expr:
        names = ["host"]
    if _AGGREGATE.match(target.expr):
        return TargetResult(target, (_series({}, 1, panel, target, window),))
    series = []
    for index, host in enumerate(hosts):
        labels = {
            name: _SAMPLE.get(name, host if name == "host" else f"{name}{index}") for name in names
        }
        series.append(_series(labels, index + 1, panel, target, window))
    return TargetResult(target, tuple(series))


def _series(
    labels: dict[str, str], seed: int, panel: Panel, target: Target, window: TimeRange
) -> Series:
    scale = _SCALE.get(panel.unit, 4.0)
    if panel.mappings or (target.instant and not panel.unit):
        scale = 1.0

    def value(t: float) -> float:
        wave = 0.5 + 0.35 * math.sin(t / 300 + seed) * (seed % 3 + 1) / 3
        return round(scale * wave * seed / 3, 3) if scale > 1 else float(seed % 2)

    if target.instant:
        return Series(labels, ((window.end, value(window.end)),))
    count = int(window.seconds // window.step) + 1
    times = [window.start + i * window.step for i in range(count)]
    return Series(labels, tuple((t, value(t)) for t in times))
