"""Repository-wide pytest hooks: mark tests by layer and print each layer's time."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

LAYERS = ("unit", "integration", "e2e")


def _order(item: pytest.Item) -> tuple[int, int]:
    parts = Path(str(item.fspath)).parts
    layer = next((i for i, name in enumerate(LAYERS) if name in parts), len(LAYERS))
    return (1 if item.get_closest_marker("destructive") else 0, layer)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by layer (tests/<layer>/); run unit, integration, e2e, then destructive.

    Destructive tests rebuild or take down the one lab the session shares, so
    they run after every test that relies on its state (a swarm, a deployed
    service); the sort is stable, so file order holds within a group.
    """
    for item in items:
        parts = Path(str(item.fspath)).parts
        for layer in LAYERS:
            if layer in parts and not item.get_closest_marker(layer):
                item.add_marker(getattr(pytest.mark, layer))
    items.sort(key=_order)


def _layer(report: pytest.TestReport) -> str:
    parts = Path(report.fspath).parts
    return next((layer for layer in LAYERS if layer in parts), "other")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Seconds spent per layer (setup + call + teardown), so CI time is visible."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for key in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(key, []):
            if isinstance(report, pytest.TestReport):
                totals[_layer(report)] += report.duration
                if report.when == "call":
                    counts[_layer(report)] += 1
    if not totals:
        return
    terminalreporter.write_sep("-", "time per test layer")
    for layer in (*LAYERS, "other"):
        if layer in totals:
            terminalreporter.write_line(
                f"{layer:<12} {counts[layer]:>4} tests  {totals[layer]:8.1f} s"
            )
