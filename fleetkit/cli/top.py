"""`fleetkit top -i INV [-l LIMIT] [--interval S]`: a live terminal view of the fleet."""

from __future__ import annotations

import logging
import sys

import click

from fleetkit.cli.common import inventory_option, limit_option


@click.command("top")
@inventory_option
@limit_option
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="Refresh every SECONDS (one collection cycle each).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Per host: connect and probe within SECONDS or show it down.",
)
@click.option("--once", is_flag=True, help="Print one view (after two cycles) and exit.")
def top(inventory_path: str, limit: str | None, interval: float, timeout: float, once: bool) -> int:
    """One row per host (up/down, load, CPU, memory, disk, containers), worst first,
    and the swarm services' running/desired replicas. Quit with q or Ctrl-C.

    \b
    Example: fleetkit top -i inventory/prod -l webservers
    """
    from rich.console import Console

    from fleetkit.top.app import print_once, run_top
    from fleetkit.top.keys import KeyReader
    from fleetkit.top.source import fleet_views

    # Hosts going down are shown in the view; log lines would scribble over it.
    logging.getLogger("fleetkit").addHandler(logging.NullHandler())
    console = Console() if sys.stdout.isatty() else Console(width=160)
    with fleet_views(inventory_path, limit, interval=interval, timeout=timeout) as views:
        if once:
            print_once(views, console, settle=min(interval, 1.0))
            return 0
        with KeyReader(sys.stdin) as keys:
            return run_top(views, console, keys, interval=interval)
