"""The `top` loop: collect in the background, redraw, quit on q or Ctrl-C."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from rich.console import Console

from fleetkit.top.keys import KeyReader
from fleetkit.top.rows import FleetView
from fleetkit.top.table import render_view

Source = Callable[[], FleetView]
QUIT_KEYS = frozenset("qQ")
POLL_S = 0.1
HINT = "q: quit"


def run_top(source: Source, console: Console, keys: KeyReader, *, interval: float) -> int:
    """Redraw a view from source every interval seconds until q or Ctrl-C (returns 0).

    Collection runs in a worker thread, so keys are read while a cycle is under way;
    a source error (bad inventory, ...) ends the loop and propagates.
    """
    from rich.live import Live

    screen = console.is_terminal
    with (
        ThreadPoolExecutor(1, thread_name_prefix="fleetkit-top") as worker,
        Live(
            "collecting...", console=console, auto_refresh=False, screen=screen, transient=False
        ) as live,
    ):
        pending: Future[FleetView] | None = worker.submit(source)
        next_at = 0.0
        try:
            while True:
                if pending is not None and pending.done():
                    view = pending.result()
                    hint = HINT if keys.active else "Ctrl-C: quit"
                    live.update(render_view(view, max_hosts=_room(console, view), hint=hint))
                    live.refresh()
                    pending, next_at = None, time.monotonic() + interval
                if pending is None and time.monotonic() >= next_at:
                    pending = worker.submit(source)
                if QUIT_KEYS & set(keys.read(POLL_S)):
                    return 0
        except KeyboardInterrupt:
            return 0


def _room(console: Console, view: FleetView) -> int | None:
    """Host rows that fit the terminal under the header and above the services."""
    if not console.is_terminal:
        return None
    services = len(view.services) + 2 if view.services else 0
    return max(1, console.height - 4 - services)


def print_once(source: Source, console: Console, *, settle: float = 1.0) -> FleetView:
    """Two cycles `settle` seconds apart (CPU busy needs two), the second one printed."""
    source()
    time.sleep(settle)
    view = source()
    console.print(render_view(view))
    return view
