"""Panel contents drawn with matplotlib: graphs, big numbers, bars and tables.

Each drawer gets the panel, its results and a pixel box; what to show comes
from frames.py (pure), how it looks is decided here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from fleetkit.dashboards.frames import Item, items, merge_table, named_series
from fleetkit.dashboards.model import Panel, Series, TargetResult
from fleetkit.dashboards.units import format_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BACKGROUND = "#111217"
PANEL = "#181b1f"
BORDER = "#2c3235"
TEXT = "#ccccdc"
DIM = "#8e8e9e"
NAMED = {
    "green": "#73bf69",
    "yellow": "#fade2a",
    "orange": "#ff9830",
    "red": "#f2495c",
    "blue": "#5794f2",
    "purple": "#b877d9",
    "text": "#3d4148",
    "transparent": PANEL,
}
PALETTE = (
    "#73bf69",
    "#f2cc0c",
    "#8ab8ff",
    "#ff780a",
    "#f2495c",
    "#5794f2",
    "#b877d9",
    "#705da0",
    "#37872d",
    "#fade2a",
    "#447ebc",
    "#c4162a",
)
LINE_PX = 16


def color(name: str) -> str:
    """A Grafana color name (or #rrggbb) as matplotlib understands it."""
    return NAMED.get(name, name if name.startswith("#") else TEXT)


class Box(NamedTuple):
    """A rectangle in pixels, from the picture's top-left corner."""

    left: float
    top: float
    w: float
    h: float


class Canvas:
    """A figure addressed in pixels from the top-left, as Grafana's grid is."""

    def __init__(
        self, fig: Figure, width: int, height: int, span: tuple[float, float] | None = None
    ) -> None:
        self.fig, self.width, self.height = fig, width, height
        self.span = span  # the time range graphs show (None: the data's own)

    def axes(self, box: Box, *, frame: str | None = None, background: str = PANEL) -> Axes:
        """Axes over box with data coordinates 0..1 on both sides (frame: border color)."""
        rect = (
            box.left / self.width,
            1 - (box.top + box.h) / self.height,
            box.w / self.width,
            box.h / self.height,
        )
        ax = self.fig.add_axes(rect)
        ax.set_facecolor(background)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(frame is not None)
            spine.set_color(frame or background)
        return ax

    def text(
        self, box: Box, text: str, *, size: float = 9, bold: bool = False, tone: str = TEXT
    ) -> None:
        """One line of text at the left of box, vertically centered."""
        self.fig.text(
            box.left / self.width,
            1 - (box.top + box.h / 2) / self.height,
            text,
            color=tone,
            fontsize=size,
            fontweight="bold" if bold else "normal",
            va="center",
        )


def draw_panel(canvas: Canvas, panel: Panel, results: Sequence[TargetResult], box: Box) -> None:
    """The content of one panel, or why there is none (error, no data, unknown type)."""
    errors = [r.error for r in results if r.error]
    if errors:
        _message(canvas, box, "query error: " + errors[0][:200], color("red"))
    elif not any(r.series for r in results):
        _message(canvas, box, "No data", DIM)
    elif panel.type == "timeseries":
        _timeseries(canvas, panel, results, box)
    elif panel.type == "stat":
        _stat(canvas, panel, items(panel, results), box)
    elif panel.type == "bargauge":
        _bars(canvas, panel, items(panel, results), box)
    elif panel.type == "table":
        _table(canvas, panel, results, box)
    else:
        _message(canvas, box, f"panel type {panel.type!r} is not drawn", DIM)


def _message(canvas: Canvas, box: Box, text: str, tone: str) -> None:
    ax = canvas.axes(box)
    ax.text(0.5, 0.5, text, ha="center", va="center", color=tone, fontsize=9, wrap=True)


def _timeseries(canvas: Canvas, panel: Panel, results: Sequence[TargetResult], box: Box) -> None:
    """Lines over time, y axis in the panel's unit, threshold lines, legend with last values."""
    legend_w = box.w * 0.36 if box.w > 480 else 0.0
    plot = Box(box.left + 52, box.top + 2, box.w - legend_w - 60, box.h - 20)
    ax = canvas.axes(plot)
    for name, spine in ax.spines.items():
        spine.set_visible(name in ("bottom", "left"))
        spine.set_color(BORDER)
    ax.tick_params(colors=DIM, labelsize=7, length=2)
    ax.grid(color=BORDER, linewidth=0.5)
    shown = sorted(named_series(results), key=lambda ns: _desc(ns[1].last))
    for index, (name, series) in enumerate(shown):
        ax.plot(
            [t for t, _ in series.points],
            [v for _, v in series.points],
            color=PALETTE[index % len(PALETTE)],
            linewidth=1.2,
            label=name,
        )
    low, high = _y_range(panel, [v for _, s in shown for _, v in s.points])
    times = [t for _, s in shown for t, _ in s.points]
    _time_axis(ax, *(canvas.span or (min(times), max(times))))
    _value_axis(ax, panel, low, high)
    if panel.show_thresholds:
        for step in panel.thresholds:
            if step.value is not None and low < step.value < high:
                ax.axhline(step.value, color=color(step.color), linestyle="--", linewidth=0.8)
    if legend_w:
        legend = Box(box.left + box.w - legend_w + 4, box.top, legend_w - 4, box.h)
        _legend(canvas, panel, shown, legend)


def _time_axis(ax: Axes, start: float, end: float) -> None:
    """Clock times along x: seconds shown for short ranges, dates for long ones."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_xlim(start, max(end, start + 1))
    ax.xaxis.set_major_locator(MaxNLocator(6))
    clock = "%H:%M:%S" if end - start < 600 else "%H:%M" if end - start < 2 * 86400 else "%m-%d"
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: time.strftime(clock, time.localtime(v)))
    )


def _value_axis(ax: Axes, panel: Panel, low: float, high: float) -> None:
    """Values along y in the panel's unit, every tick with the same decimals."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_ylim(low, high)
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ticks = [t for t in ax.get_yticks() if low <= t <= high]
    decimals = _tick_decimals(ticks) if panel.unit in ("", "none", "short", "percent") else None
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, panel.unit, decimals)))


def _legend(canvas: Canvas, panel: Panel, shown: Sequence[tuple[str, Series]], box: Box) -> None:
    ax = canvas.axes(box)
    room = max(1, int(box.h // LINE_PX))
    more = len(shown) - room + 1 if len(shown) > room else 0
    for index, (name, series) in enumerate(shown[: room - 1 if more else room]):
        y = 1 - (index + 0.5) * LINE_PX / box.h
        ax.plot([0, 0.04], [y, y], color=PALETTE[index % len(PALETTE)], linewidth=2)
        ax.text(0.06, y, _clip(name, 42), color=TEXT, fontsize=7, va="center")
        last = format_value(series.last, panel.unit, panel.decimals)
        ax.text(1, y, last, color=TEXT, fontsize=7, va="center", ha="right")
    if more:
        y = 1 - (room - 0.5) * LINE_PX / box.h
        ax.text(0.06, y, f"... {more} more", color=DIM, fontsize=7, va="center")


def _stat(canvas: Canvas, panel: Panel, values: list[Item], box: Box) -> None:
    """Big numbers on their threshold color, one cell per series, names under them."""
    from matplotlib.patches import FancyBboxPatch

    cols = max(1, min(len(values), int(box.w // 110)))
    rows = min(math.ceil(len(values) / cols), max(1, int(box.h // 44)))
    values = values[: rows * cols]
    ax = canvas.axes(box)
    cell_w, cell_h = 1 / cols, 1 / rows
    longest = max(3, *(len(v.text) for v in values))
    # points from pixels (100 dpi: 1 pt = 1.39 px); a bold glyph is ~0.65 em wide
    size = max(7.0, min(40.0, box.h / rows * 0.38 / 1.39, box.w / cols * 0.85 / longest / 0.9))
    named = len(values) > 1
    for index, item in enumerate(values):
        x, y = (index % cols) * cell_w, 1 - (index // cols + 1) * cell_h
        patch = FancyBboxPatch(
            (x + 0.006, y + 0.03),
            cell_w - 0.012,
            cell_h - 0.06,
            boxstyle="round,pad=0,rounding_size=0.02",
            facecolor=color(item.color),
            edgecolor="none",
            alpha=0.9,
        )
        ax.add_patch(patch)
        value_y = y + cell_h * (0.42 if named else 0.5)
        ax.text(
            x + cell_w / 2,
            value_y,
            item.text,
            ha="center",
            va="center",
            color="white",
            fontweight="bold",
            fontsize=size,
        )
        if named:
            ax.text(
                x + cell_w / 2,
                y + cell_h * 0.8,
                _clip(item.name, 22),
                ha="center",
                va="center",
                color="white",
                fontsize=7,
            )


def _bars(canvas: Canvas, panel: Panel, values: list[Item], box: Box) -> None:
    """Horizontal bars in query order, colored by thresholds, value at the right."""
    room = max(1, int(box.h // 18))
    values = values[:room]
    ax = canvas.axes(box)
    finite = [v.value for v in values if v.value is not None and math.isfinite(v.value)]
    high = panel.max if panel.max is not None else max([*finite, 1e-9])
    low = panel.min or 0.0
    line = 1 / max(len(values), min(room, 8))
    for index, item in enumerate(values):
        y = 1 - (index + 0.5) * line
        fraction = 0.0
        if item.value is not None and math.isfinite(item.value) and high > low:
            fraction = min(1.0, max(0.0, (item.value - low) / (high - low)))
        ax.text(0.0, y, _clip(item.name, 34), color=TEXT, fontsize=7, va="center")
        ax.barh(y, 0.52, left=0.34, height=line * 0.7, color=BORDER)
        ax.barh(y, 0.52 * fraction, left=0.34, height=line * 0.7, color=color(item.color))
        ax.text(
            1.0,
            y,
            item.text,
            color=color(item.color),
            fontsize=8,
            va="center",
            ha="right",
            fontweight="bold",
        )


def _table(canvas: Canvas, panel: Panel, results: Sequence[TargetResult], box: Box) -> None:
    """Merged rows as text, mapped cells on their color, "N more rows" when cut."""
    from matplotlib.patches import Rectangle

    table = merge_table(panel, results)
    room = max(1, int(box.h // LINE_PX) - 1)
    ax = canvas.axes(box)
    widths = [
        max(len(header), *(len(row[i].text) for row in table.rows)) + 2
        for i, header in enumerate(table.headers)
    ]
    total = sum(widths) or 1
    xs = [sum(widths[:i]) / total for i in range(len(widths))]
    step = LINE_PX / box.h
    for i, header in enumerate(table.headers):
        ax.text(
            xs[i] + 0.005,
            1 - step / 2,
            header,
            color=DIM,
            fontsize=7,
            fontweight="bold",
            va="center",
        )
    for r, row in enumerate(table.rows[:room]):
        y = 1 - (r + 1.5) * step
        for i, cell in enumerate(row):
            if cell.color != "text":
                cell_box = Rectangle(
                    (xs[i], y - step / 2),
                    widths[i] / total,
                    step * 0.9,
                    facecolor=color(cell.color),
                    edgecolor="none",
                )
                ax.add_patch(cell_box)
            ax.text(
                xs[i] + 0.005,
                y,
                _clip(cell.text, widths[i] + 2),
                color=TEXT,
                fontsize=7,
                va="center",
            )
    if len(table.rows) > room:
        ax.text(
            1,
            0,
            f"{len(table.rows) - room} more rows",
            color=DIM,
            fontsize=7,
            ha="right",
            va="bottom",
        )


def _y_range(panel: Panel, values: Sequence[float]) -> tuple[float, float]:
    """Grafana's soft minimum of 0 for non-negative data, a unit range for all-zero data."""
    finite = [v for v in values if math.isfinite(v)] or [0.0]
    low, high = min(finite), max(finite)
    low = panel.min if panel.min is not None else (0.0 if low >= 0 else low * 1.1)
    if panel.max is not None:
        high = panel.max
    elif high <= low:
        high = low + 1.0
    else:
        high = high + (high - low) * 0.08
    return low, high


def _tick_decimals(ticks: Sequence[float]) -> int:
    """Decimals that tell ticks apart, the same for every tick of an axis."""
    if len(ticks) < 2:
        return 0
    step = abs(ticks[1] - ticks[0])
    return 0 if step >= 1 or step == 0 else min(4, -math.floor(math.log10(step)))


def _desc(value: float | None) -> float:
    """Sort key putting the highest last value first, empty series last."""
    return -value if value is not None and math.isfinite(value) else math.inf


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
