"""Repository-wide pytest hooks: mark tests by layer and print each layer's time."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

LAYERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/<layer>/ carries that layer's marker."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for layer in LAYERS:
            if layer in parts and not item.get_closest_marker(layer):
                item.add_marker(getattr(pytest.mark, layer))


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
