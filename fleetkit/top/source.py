"""Where `top` gets its rows: the exporter's collection, one cycle per refresh."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fleetkit.monitoring.snapshot import FleetSnapshot
from fleetkit.top.rows import FleetView, fleet_view


class SnapshotViews:
    """A view per call from a new snapshot, compared with the previous one (CPU busy)."""

    def __init__(self, cycle: Callable[[], FleetSnapshot]) -> None:
        self._cycle = cycle
        self._previous: FleetSnapshot | None = None

    def __call__(self) -> FleetView:
        snapshot = self._cycle()
        view = fleet_view(snapshot, self._previous)
        self._previous = snapshot
        return view


@contextmanager
def fleet_views(
    inventory: str, limit: str | None, *, interval: float, timeout: float
) -> Iterator[SnapshotViews]:
    """Views of the selected hosts of inventory, over connections held until the end."""
    from fleetkit.monitoring.exporter import ExporterOptions, open_collection

    options = ExporterOptions(inventory=inventory, limit=limit, interval=interval, timeout=timeout)
    with open_collection(options) as collection:
        yield SnapshotViews(collection.cycle)
