"""Small constructors for Grafana dashboard JSON (schemaVersion 39, Grafana 10.4+).

Each function returns plain dicts exactly as Grafana exports them; `Layout`
places panels on the 24-column grid and numbers them, so ids and positions
never need to be written by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleetkit.dashboards.model import GRID_COLUMNS

SCHEMA_VERSION = 39
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}

Json = dict[str, Any]
StepSpec = tuple[str, float | None]  # (color, from value); the first has value None
MappingSpec = Mapping[str, tuple[str, str]]  # raw value -> (text, color)


def target(expr: str, legend: str = "", *, instant: bool = False, table: bool = False) -> Json:
    """One PromQL target; refIds are given by the panel (A, B, ...)."""
    out: Json = {
        "datasource": dict(DATASOURCE),
        "editorMode": "code",
        "expr": expr,
        "instant": instant or table,
        "legendFormat": legend or "__auto",
        "range": not (instant or table),
    }
    if table:
        out["format"] = "table"
    return out


def thresholds(*steps: StepSpec) -> Json:
    """Absolute threshold steps, e.g. thresholds(("green", None), ("red", 90))."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def value_mappings(mapping: MappingSpec) -> list[Json]:
    """One "value" mapping: raw value -> display text and color."""
    options = {
        raw: {"color": color, "index": index, "text": text}
        for index, (raw, (text, color)) in enumerate(mapping.items())
    }
    return [{"options": options, "type": "value"}]


def _panel(kind: str, title: str, description: str, targets: Sequence[Json]) -> Json:
    refs = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return {
        "datasource": dict(DATASOURCE),
        "description": description,
        "targets": [{**t, "refId": refs[i]} for i, t in enumerate(targets)],
        "title": title,
        "type": kind,
    }


def _defaults(
    unit: str,
    steps: Sequence[StepSpec],
    *,
    min_: float | None = None,
    max_: float | None = None,
    decimals: int | None = None,
    mappings: MappingSpec | None = None,
    color_mode: str = "thresholds",
) -> Json:
    out: Json = {
        "color": {"mode": color_mode},
        "mappings": value_mappings(mappings) if mappings else [],
        "thresholds": thresholds(*steps),
        "unit": unit,
    }
    for key, value in (("min", min_), ("max", max_), ("decimals", decimals)):
        if value is not None:
            out[key] = value
    return out


def timeseries(
    title: str,
    targets: Sequence[Json],
    *,
    unit: str,
    description: str = "",
    steps: Sequence[StepSpec] = (("green", None),),
    min_: float | None = None,
    max_: float | None = None,
    stack: bool = False,
) -> Json:
    """A graph; threshold lines are drawn when more than the base step is given."""
    panel = _panel("timeseries", title, description, targets)
    defaults = _defaults(unit, steps, min_=min_, max_=max_, color_mode="palette-classic")
    defaults["custom"] = {
        "axisSoftMin": 0,
        "drawStyle": "line",
        "fillOpacity": 15 if stack else 5,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
        "thresholdsStyle": {"mode": "dashed" if len(steps) > 1 else "off"},
    }
    panel["fieldConfig"] = {"defaults": defaults, "overrides": []}
    panel["options"] = {
        "legend": {
            "calcs": ["lastNotNull", "max"],
            "displayMode": "table",
            "placement": "right",
            "showLegend": True,
            "sortBy": "Last *",
            "sortDesc": True,
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel


def stat(
    title: str,
    targets: Sequence[Json],
    *,
    unit: str,
    steps: Sequence[StepSpec],
    description: str = "",
    decimals: int | None = None,
    mappings: MappingSpec | None = None,
) -> Json:
    """Big numbers, one per series, colored by thresholds (value mappings optional)."""
    panel = _panel("stat", title, description, targets)
    defaults = _defaults(unit, steps, decimals=decimals, mappings=mappings)
    panel["fieldConfig"] = {"defaults": defaults, "overrides": []}
    panel["options"] = {
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showPercentChange": False,
        "textMode": "auto",
        "wideLayout": True,
    }
    return panel


def bargauge(
    title: str,
    targets: Sequence[Json],
    *,
    unit: str,
    steps: Sequence[StepSpec],
    description: str = "",
    min_: float | None = 0,
    max_: float | None = None,
) -> Json:
    """Horizontal bars, one per series, in query order (sort_desc puts the worst on top)."""
    panel = _panel("bargauge", title, description, targets)
    defaults = _defaults(unit, steps, min_=min_, max_=max_)
    panel["fieldConfig"] = {"defaults": defaults, "overrides": []}
    panel["options"] = {
        "displayMode": "gradient",
        "maxVizHeight": 300,
        "minVizHeight": 16,
        "minVizWidth": 8,
        "namePlacement": "left",
        "orientation": "horizontal",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showUnfilled": True,
        "sizing": "auto",
        "valueMode": "color",
    }
    return panel


def table(
    title: str,
    targets: Sequence[Json],
    *,
    description: str = "",
    renames: Mapping[str, str] | None = None,
    hidden: Sequence[str] = ("Time", "__name__"),
    column_units: Mapping[str, str] | None = None,
    column_mappings: Mapping[str, MappingSpec] | None = None,
    sort_by: str | None = None,
) -> Json:
    """Instant table targets merged on their labels ("Value #A", "Value #B" columns);
    columns show in the order of `renames`, the others after them."""
    panel = _panel("table", title, description, [{**t, "format": "table"} for t in targets])
    overrides: list[Json] = []
    for column, unit in (column_units or {}).items():
        overrides.append(_override(column, "unit", unit))
    for column, mapping in (column_mappings or {}).items():
        overrides.append(_override(column, "mappings", value_mappings(mapping)))
        overrides.append(
            _override(column, "custom.cellOptions", {"type": "color-background", "mode": "basic"})
        )
    defaults = _defaults("", (("text", None),))
    defaults["custom"] = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False}
    panel["fieldConfig"] = {"defaults": defaults, "overrides": overrides}
    panel["options"] = {
        "cellHeight": "sm",
        "footer": {"countRows": False, "fields": "", "reducer": ["sum"], "show": False},
        "showHeader": True,
        "sortBy": [{"desc": False, "displayName": sort_by}] if sort_by else [],
    }
    panel["transformations"] = [
        {"id": "merge", "options": {}},
        {
            "id": "organize",
            "options": {
                "excludeByName": dict.fromkeys(hidden, True),
                "indexByName": {name: i for i, name in enumerate(renames or {})},
                "renameByName": dict(renames or {}),
            },
        },
    ]
    return panel


def _override(column: str, prop: str, value: Any) -> Json:
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [{"id": prop, "value": value}],
    }


class Layout:
    """Places panels row by row on the 24-column grid and gives them ids 1, 2, ..."""

    def __init__(self) -> None:
        self._panels: list[Json] = []
        self._y = 0

    def row(self, height: int, *cells: tuple[int, Json]) -> None:
        """Panels side by side, (width, panel) each, all `height` grid rows tall."""
        x = 0
        for width, panel in cells:
            if x + width > GRID_COLUMNS:
                raise ValueError(f"row of {panel['title']!r} is wider than {GRID_COLUMNS}")
            self._add(panel, {"h": height, "w": width, "x": x, "y": self._y})
            x += width
        self._y += height

    def header(self, title: str) -> None:
        """A (non-collapsed) row header across the grid."""
        row = {"collapsed": False, "panels": [], "title": title, "type": "row"}
        self._add(row, {"h": 1, "w": GRID_COLUMNS, "x": 0, "y": self._y})
        self._y += 1

    def _add(self, panel: Json, grid: Json) -> None:
        self._panels.append({**panel, "gridPos": grid, "id": len(self._panels) + 1})

    @property
    def panels(self) -> list[Json]:
        """The panels placed so far (copies)."""
        return [dict(p) for p in self._panels]


def datasource_variable() -> Json:
    """$datasource: any Prometheus data source, so file provisioning needs no __inputs."""
    return {
        "current": {},
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": "datasource",
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
        "type": "datasource",
    }


def query_variable(
    name: str, label: str, query: str, *, regex: str = "", all_value: str | None = None
) -> Json:
    """A multi-select Prometheus query variable, "All" selected by default."""
    return {
        "allValue": all_value,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "datasource": dict(DATASOURCE),
        "definition": query,
        "hide": 0,
        "includeAll": True,
        "label": label,
        "multi": True,
        "name": name,
        "options": [],
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor"},
        "refresh": 2,
        "regex": regex,
        "skipUrlSync": False,
        "sort": 1,
        "type": "query",
    }


def dashboard(
    uid: str,
    title: str,
    description: str,
    panels: list[Json],
    variables: list[Json],
    *,
    time_from: str = "now-1h",
    refresh: str = "30s",
) -> Json:
    """The dashboard document: tagged "fleetkit", linked to its siblings by that tag."""
    return {
        "annotations": {"list": []},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "links": [
            {
                "asDropdown": False,
                "icon": "external link",
                "includeVars": True,
                "keepTime": True,
                "tags": ["fleetkit"],
                "targetBlank": False,
                "title": "fleetkit",
                "type": "dashboards",
            }
        ],
        "panels": panels,
        "refresh": refresh,
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["fleetkit"],
        "templating": {"list": variables},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }
