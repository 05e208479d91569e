"""`fleetkit dashboard render DASHBOARD.json --prometheus URL -o FILE.png`: a dashboard as a PNG."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fleetkit.errors import UsageError

if TYPE_CHECKING:
    from fleetkit.dashboards.model import TargetResult


@click.group("dashboard")
def dashboard() -> None:
    """Grafana dashboards without Grafana: render them from a Prometheus."""


@dashboard.command("render")
@click.argument("dashboard_path", metavar="DASHBOARD.json", type=click.Path(dir_okay=False))
@click.option("--prometheus", "url", required=True, metavar="URL", help="Prometheus base URL.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="FILE.png")
@click.option("--range", "range_", default="15m", show_default=True, help="Window to draw.")
@click.option("--rate-interval", default="1m", show_default=True, help="Value of $__rate_interval.")
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=V1,V2",
    help="Template variable values (default: All), e.g. --var host=web1,web2.",
)
def render(
    dashboard_path: str,
    url: str,
    output: str,
    range_: str,
    rate_interval: str,
    variables: tuple[str, ...],
) -> int:
    """Query every panel of DASHBOARD.json over the last --range and draw one PNG.

    \b
    Example: fleetkit dashboard render grafana/dashboards/fleet-overview.json \\
               --prometheus http://127.0.0.1:9090 -o fleet.png
    Exit codes: 0 drawn, 1 a panel's query failed (still drawn) or no Prometheus, 2 bad input.
    """
    from fleetkit.dashboards.load import load_dashboard
    from fleetkit.dashboards.query import Prometheus, TimeRange, fetch_panels, parse_duration
    from fleetkit.dashboards.render import render_png

    try:
        seconds = parse_duration(range_)
        parse_duration(rate_interval)
    except ValueError as err:
        raise UsageError(str(err)) from err
    options = _options(variables)
    board = load_dashboard(dashboard_path)
    window = TimeRange(end=time.time(), seconds=seconds, rate_interval=rate_interval)
    results = fetch_panels(board, Prometheus(url), window, options)
    subtitle = f"{url}  last {range_}  rendered {time.strftime('%Y-%m-%d %H:%M:%S')}"
    span = (window.start, window.end)
    out = render_png(board, results, Path(output), subtitle=subtitle, span=span)
    failed = 0
    for panel in board.panels:
        for result in results.get(panel.id, ()):
            if result.error:
                failed += 1
                click.echo(f"panel {panel.id} {panel.title!r}: {result.error}", err=True)
    empty = [p.title for p in board.panels if p.id in results and _empty(results[p.id])]
    click.echo(f"{out}  ({len(results)} panels, {len(empty)} without data, {failed} errors)")
    if empty:
        click.echo(f"  without data: {', '.join(empty)}")
    return 1 if failed else 0


def _options(variables: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in variables:
        name, sep, values = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--var {item!r}: expected NAME=VALUE[,VALUE...]")
        out[name] = [v for v in values.split(",") if v]
    return out


def _empty(results: Sequence[TargetResult]) -> bool:
    return not any(r.series for r in results)
