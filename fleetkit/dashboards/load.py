"""Read a Grafana dashboard JSON file into frozen panels, targets and variables.

Only what rendering and the checks need is kept; unknown keys are ignored, so
dashboards exported from Grafana load as well as the ones built here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from fleetkit.dashboards.model import (
    Dashboard,
    GridPos,
    Panel,
    Step,
    Target,
    Variable,
)
from fleetkit.errors import DashboardError

Json = Mapping[str, Any]


def load_dashboard(path: Path | str) -> Dashboard:
    """Parse the dashboard file at path (raises DashboardError with the path)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DashboardError(f"cannot read dashboard {path}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise DashboardError(f"{path}:{err.lineno}: not JSON: {err.msg}") from err
    try:
        return parse_dashboard(data)
    except DashboardError as err:
        raise DashboardError(f"{path}: {err.message}") from err


def parse_dashboard(data: Any) -> Dashboard:
    """A Dashboard from decoded JSON (a Grafana export may wrap it in "dashboard")."""
    if isinstance(data, Mapping) and isinstance(data.get("dashboard"), Mapping):
        data = data["dashboard"]
    if not isinstance(data, Mapping) or not isinstance(data.get("panels"), list):
        raise DashboardError("not a Grafana dashboard (no 'panels' list)")
    panels = tuple(_panel(p) for p in _flatten(data["panels"]))
    templating = data.get("templating") or {}
    variables = tuple(_variable(v) for v in templating.get("list") or [] if isinstance(v, Mapping))
    return Dashboard(
        uid=str(data.get("uid") or ""),
        title=str(data.get("title") or ""),
        schema_version=int(data.get("schemaVersion") or 0),
        panels=panels,
        variables=variables,
        has_inputs="__inputs" in data,
    )


def _flatten(panels: list[Any]) -> Iterator[Json]:
    """Panels in order, the ones inside collapsed rows right after their row."""
    for panel in panels:
        if not isinstance(panel, Mapping):
            raise DashboardError(f"panel {panel!r} is not an object")
        yield panel
        if panel.get("type") == "row":
            yield from _flatten(list(panel.get("panels") or []))


def _panel(data: Json) -> Panel:
    title = str(data.get("title") or "")
    grid = data.get("gridPos")
    if not isinstance(grid, Mapping):
        raise DashboardError(f"panel {title!r} has no gridPos")
    if "id" not in data:
        raise DashboardError(f"panel {title!r} has no id")
    field_config = data.get("fieldConfig") or {}
    defaults: Json = field_config.get("defaults") or {}
    custom: Json = defaults.get("custom") or {}
    style = (custom.get("thresholdsStyle") or {}).get("mode", "off")
    units, column_mappings = _overrides(field_config.get("overrides") or [])
    renames, hidden, order = _organize(data.get("transformations") or [])
    sort = ((data.get("options") or {}).get("sortBy") or [{}])[0]
    return Panel(
        id=int(data["id"]),
        type=str(data.get("type") or ""),
        title=title,
        grid=GridPos(
            x=int(grid.get("x", 0)),
            y=int(grid.get("y", 0)),
            w=int(grid.get("w", 0)),
            h=int(grid.get("h", 0)),
        ),
        targets=tuple(_target(t) for t in data.get("targets") or [] if isinstance(t, Mapping)),
        unit=str(defaults.get("unit") or ""),
        decimals=_opt_int(defaults.get("decimals")),
        min=_opt_float(defaults.get("min")),
        max=_opt_float(defaults.get("max")),
        thresholds=_steps(defaults.get("thresholds") or {}),
        show_thresholds=style not in ("off", None),
        mappings=_mappings(defaults.get("mappings") or []),
        column_units=units,
        column_mappings=column_mappings,
        renames=renames,
        hidden=hidden,
        column_order=order,
        sort_by=sort.get("displayName") or None,
        sort_desc=bool(sort.get("desc")),
    )


def _target(data: Json) -> Target:
    instant = bool(data.get("instant")) and not data.get("range", False)
    return Target(
        ref_id=str(data.get("refId") or "A"),
        expr=str(data.get("expr") or ""),
        legend=str(data.get("legendFormat") or ""),
        instant=instant or data.get("format") == "table",
    )


def _variable(data: Json) -> Variable:
    query = data.get("query")
    if isinstance(query, Mapping):
        query = query.get("query", "")
    all_value = data.get("allValue")
    return Variable(
        name=str(data.get("name") or ""),
        type=str(data.get("type") or ""),
        query=str(query or ""),
        multi=bool(data.get("multi")),
        include_all=bool(data.get("includeAll")),
        all_value=str(all_value) if all_value else None,
        regex=str(data.get("regex") or ""),
    )


def _steps(thresholds: Json) -> tuple[Step, ...]:
    steps = []
    for step in thresholds.get("steps") or []:
        value = step.get("value")
        steps.append(Step(color=str(step.get("color") or "green"), value=_opt_float(value)))
    return tuple(steps)


def _mappings(mappings: list[Any]) -> dict[str, tuple[str, str]]:
    """Value mappings of type "value": raw value -> (text, color)."""
    out: dict[str, tuple[str, str]] = {}
    for mapping in mappings:
        if not isinstance(mapping, Mapping) or mapping.get("type") != "value":
            continue
        for raw, result in (mapping.get("options") or {}).items():
            out[str(raw)] = (str(result.get("text", raw)), str(result.get("color", "")))
    return out


def _overrides(
    overrides: list[Any],
) -> tuple[dict[str, str], dict[str, Mapping[str, tuple[str, str]]]]:
    """Per-column unit and value mappings from byName overrides (used by tables)."""
    units: dict[str, str] = {}
    mappings: dict[str, Mapping[str, tuple[str, str]]] = {}
    for override in overrides:
        matcher = override.get("matcher") or {}
        if matcher.get("id") != "byName":
            continue
        name = str(matcher.get("options"))
        for prop in override.get("properties") or []:
            if prop.get("id") == "unit":
                units[name] = str(prop.get("value"))
            elif prop.get("id") == "mappings":
                mappings[name] = _mappings(prop.get("value") or [])
    return units, mappings


def _organize(
    transformations: list[Any],
) -> tuple[dict[str, str], frozenset[str], dict[str, int]]:
    """Renamed, hidden and ordered columns from an "organize" transformation."""
    renames: dict[str, str] = {}
    hidden: set[str] = set()
    order: dict[str, int] = {}
    for transformation in transformations:
        if transformation.get("id") != "organize":
            continue
        options = transformation.get("options") or {}
        renames.update({str(k): str(v) for k, v in (options.get("renameByName") or {}).items()})
        hidden.update(str(k) for k, v in (options.get("excludeByName") or {}).items() if v)
        order.update({str(k): int(v) for k, v in (options.get("indexByName") or {}).items()})
    return renames, frozenset(hidden), order


def _opt_float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)
