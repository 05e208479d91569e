"""Frozen values for a dashboard read back from JSON and for the series it shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

GRID_COLUMNS = 24


@dataclass(frozen=True)
class GridPos:
    """A panel's place on Grafana's 24-column grid (h in grid rows)."""

    x: int
    y: int
    w: int
    h: int

    def overlaps(self, other: GridPos) -> bool:
        """True when the two rectangles share at least one grid cell."""
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


@dataclass(frozen=True)
class Target:
    """One PromQL query of a panel: instant for stats and tables, range for graphs."""

    ref_id: str
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class Step:
    """A threshold step: values from `value` up take `color` (None: the base step)."""

    color: str
    value: float | None


@dataclass(frozen=True)
class Panel:
    """What render and the checks need from a panel: kind, place, queries, display."""

    id: int
    type: str
    title: str
    grid: GridPos
    targets: tuple[Target, ...] = ()
    unit: str = ""
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    thresholds: tuple[Step, ...] = ()
    show_thresholds: bool = False
    mappings: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # value -> text, color
    column_units: Mapping[str, str] = field(default_factory=dict)  # table column -> unit
    column_mappings: Mapping[str, Mapping[str, tuple[str, str]]] = field(default_factory=dict)
    renames: Mapping[str, str] = field(default_factory=dict)  # table column -> header
    hidden: frozenset[str] = frozenset()  # table columns left out
    column_order: Mapping[str, int] = field(default_factory=dict)  # table column -> position
    sort_by: str | None = None  # table column header to sort on
    sort_desc: bool = False


@dataclass(frozen=True)
class Variable:
    """A template variable: its name, type and query (label_values(...) for hosts)."""

    name: str
    type: str
    query: str = ""
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    regex: str = ""


@dataclass(frozen=True)
class Dashboard:
    """A dashboard as a list of panels (rows flattened) and its template variables."""

    uid: str
    title: str
    schema_version: int
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...]
    has_inputs: bool = False

    def variable(self, name: str) -> Variable | None:
        """The variable called name, or None."""
        return next((v for v in self.variables if v.name == name), None)


@dataclass(frozen=True)
class Series:
    """One Prometheus series: its labels and (unix time, value) points."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]

    @property
    def last(self) -> float | None:
        """The newest value, or None for an empty series."""
        return self.points[-1][1] if self.points else None


@dataclass(frozen=True)
class TargetResult:
    """A target's series, or the error Prometheus answered with."""

    target: Target
    series: tuple[Series, ...] = ()
    error: str | None = None
