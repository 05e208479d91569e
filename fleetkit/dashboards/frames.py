"""Panel data shaped for display: legend names, stat values, bars, merged tables.

Pure functions over TargetResults, so what a panel shows is tested without
matplotlib; render.py only draws what these return.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fleetkit.dashboards.model import Panel, Series, TargetResult
from fleetkit.dashboards.units import format_value, step_color

_LEGEND = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def legend_name(template: str, labels: Mapping[str, str]) -> str:
    """A series' name: the legend template filled in, or its labels ({a="b"})."""
    if template and template != "__auto":
        return _LEGEND.sub(lambda m: labels.get(m.group(1), ""), template).strip()
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    name = labels.get("__name__", "")
    return f"{name}{{{inner}}}" if inner else name or "value"


@dataclass(frozen=True)
class Item:
    """One shown value: its name, raw value, display text and color."""

    name: str
    value: float | None
    text: str
    color: str


def display(panel: Panel, name: str, value: float | None, column: str | None = None) -> Item:
    """A value as the panel shows it: value mapping first, else unit and thresholds."""
    mappings = panel.column_mappings.get(column, {}) if column else panel.mappings
    if value is not None and not math.isnan(value):
        key = str(int(value)) if float(value).is_integer() else str(value)
        if key in mappings:
            text, color = mappings[key]
            return Item(name, value, text, color or "text")
    unit = panel.column_units.get(column, panel.unit) if column else panel.unit
    color = step_color(value, panel.thresholds) if not column else "text"
    return Item(name, value, format_value(value, unit, panel.decimals), color)


def items(panel: Panel, results: Sequence[TargetResult]) -> list[Item]:
    """Last value of every series of every target, in query order (stat, bar gauge)."""
    out = []
    for result in results:
        for series in result.series:
            name = legend_name(result.target.legend, series.labels)
            out.append(display(panel, name, series.last))
    return out


def named_series(results: Sequence[TargetResult]) -> list[tuple[str, Series]]:
    """Every series with its legend name (time series panels)."""
    return [(legend_name(r.target.legend, s.labels), s) for r in results for s in r.series]


@dataclass(frozen=True)
class Table:
    """A merged table: headers and rows of display items (one per column)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Item, ...], ...]


def merge_table(panel: Panel, results: Sequence[TargetResult]) -> Table:
    """Instant results joined on shared labels, like Grafana's "merge" transformation."""
    single = len(results) == 1
    rows: list[dict[str, str | float]] = []
    columns: list[str] = []
    values: list[str] = []
    for result in results:
        column = "Value" if single else f"Value #{result.target.ref_id}"
        values.append(column)
        for series in result.series:
            record: dict[str, str | float] = dict(series.labels)
            columns.extend(k for k in series.labels if k not in columns)
            if series.last is not None:
                record[column] = series.last
            _merge(rows, record, set(values))
    shown = [c for c in (*columns, *values) if c not in panel.hidden and c != "Time"]
    last = len(panel.column_order)
    shown.sort(key=lambda c: panel.column_order.get(c, last))  # stable: the rest keep order
    headers = tuple(panel.renames.get(c, c) for c in shown)
    table_rows = [tuple(_cell(panel, c, row.get(c)) for c in shown) for row in rows]
    if panel.sort_by in headers:
        index = headers.index(panel.sort_by)
        table_rows.sort(key=lambda r: _sort_key(r[index]), reverse=panel.sort_desc)
    return Table(headers, tuple(table_rows))


def _merge(
    rows: list[dict[str, str | float]], record: dict[str, str | float], values: set[str]
) -> None:
    for row in rows:
        shared = [k for k in record if k in row and k not in values]
        if shared and all(row[k] == record[k] for k in shared):
            row.update(record)
            return
    rows.append(record)


def _cell(panel: Panel, column: str, value: str | float | None) -> Item:
    if isinstance(value, str):
        return Item(column, None, value, "text")
    if value is None:
        return Item(column, None, "", "text")
    return display(panel, column, value, column)


def _sort_key(item: Item) -> tuple[int, float, str]:
    if item.value is None or math.isnan(item.value):
        return (1, 0.0, item.text)
    return (0, item.value, item.text)
