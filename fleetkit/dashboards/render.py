"""Draw a dashboard's panels into one PNG laid out like Grafana's grid (matplotlib, Agg).

matplotlib is imported inside the functions only, and used through its object
API (Figure + FigureCanvasAgg): no pyplot, no global backend switch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from fleetkit.dashboards.draw import BACKGROUND, BORDER, DIM, PANEL, TEXT, Box, Canvas, draw_panel
from fleetkit.dashboards.model import GRID_COLUMNS, Dashboard, Panel, TargetResult

COLUMN_PX = 80
ROW_PX = 36
HEADER_PX = 56
GAP_PX = 8
TITLE_PX = 24
DPI = 100

Results = Mapping[int, Sequence[TargetResult]]


def figure_size(dashboard: Dashboard) -> tuple[int, int]:
    """Width and height in pixels of the picture of a dashboard."""
    rows = max((p.grid.y + p.grid.h for p in dashboard.panels), default=1)
    return GRID_COLUMNS * COLUMN_PX + GAP_PX, HEADER_PX + rows * ROW_PX + GAP_PX


def render_png(
    dashboard: Dashboard,
    results: Results,
    out: Path,
    *,
    subtitle: str = "",
    span: tuple[float, float] | None = None,
) -> Path:
    """Draw every panel of dashboard with its results (by panel id) into out (PNG).

    span is the (start, end) unix time range graphs show; by default their data's.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = figure_size(dashboard)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(fig)
    canvas = Canvas(fig, width, height, span)
    canvas.text(Box(GAP_PX, 10, width, 24), dashboard.title, size=15, bold=True)
    if subtitle:
        canvas.text(Box(GAP_PX, 34, width, 16), subtitle, size=9, tone=DIM)
    for panel in dashboard.panels:
        _panel(canvas, panel, results.get(panel.id, ()))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", facecolor=BACKGROUND)
    return out


def _panel(canvas: Canvas, panel: Panel, results: Sequence[TargetResult]) -> None:
    """A card with the panel's title, and its content drawn inside."""
    g = panel.grid
    box = Box(
        GAP_PX + g.x * COLUMN_PX,
        HEADER_PX + g.y * ROW_PX,
        g.w * COLUMN_PX - GAP_PX,
        g.h * ROW_PX - GAP_PX,
    )
    if panel.type == "row":
        canvas.text(box, panel.title, size=11, bold=True)
        return
    card = canvas.axes(box, frame=BORDER, background=PANEL)
    card.text(
        8 / box.w,
        1 - 13 / box.h,
        panel.title,
        color=TEXT,
        fontsize=9,
        fontweight="bold",
        va="center",
        transform=card.transAxes,
    )
    inner = Box(box.left + 8, box.top + TITLE_PX, box.w - 16, box.h - TITLE_PX - 6)
    draw_panel(canvas, panel, results, inner)
