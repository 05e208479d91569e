"""Template variables substituted as Grafana would, and a small Prometheus HTTP client.

Only urllib: no new dependency. `$host` becomes a regex of every host
Prometheus knows (label_values(fleetkit_host_up, host)), `$group` its "All"
value, `$__rate_interval` a fixed window, `$__range`/`$__interval` follow the
rendered range.
"""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetkit.dashboards.model import Dashboard, Series, Target, TargetResult
from fleetkit.errors import PrometheusError

_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)")
_REGEX_SPECIAL = re.compile(r"[\^$.|?*+()\[\]{}']")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$")
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
MAX_POINTS = 240


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration like "15m" or "90s" (ValueError otherwise)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 1h)")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def format_duration(seconds: float) -> str:
    """The shortest exact Prometheus duration for a whole number of seconds."""
    whole = max(1, round(seconds))
    for unit in ("w", "d", "h", "m"):
        size = int(_SECONDS[unit])
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def regex_of(values: Iterable[str]) -> str:
    """Values as one alternation, regex-escaped for a PromQL string (Grafana's format)."""
    escaped = [
        _REGEX_SPECIAL.sub(lambda m: "\\\\" + m.group(0), v.replace("\\", "\\" * 4)) for v in values
    ]
    if not escaped:
        return ".*"
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


@dataclass(frozen=True)
class TimeRange:
    """The rendered window: [end - seconds, end], points every `step` seconds."""

    end: float
    seconds: float
    rate_interval: str = "1m"

    @property
    def start(self) -> float:
        return self.end - self.seconds

    @property
    def step(self) -> float:
        """Grafana's $__interval: about MAX_POINTS points, never under one second."""
        return float(max(1, math.ceil(self.seconds / MAX_POINTS)))

    def builtins(self) -> dict[str, str]:
        """Grafana's global variables for this range."""
        return {
            "__rate_interval": self.rate_interval,
            "__interval": format_duration(self.step),
            "__interval_ms": str(int(self.step * 1000)),
            "__range": format_duration(self.seconds),
            "__range_s": str(int(self.seconds)),
            "__range_ms": str(int(self.seconds * 1000)),
        }


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """expr with $var, ${var}, ${var:fmt} and [[var]] replaced (KeyError if unknown)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3) or match.group(4)
        if name not in values:
            raise KeyError(f"unknown template variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def template_values(
    dashboard: Dashboard,
    window: TimeRange,
    options: Mapping[str, Sequence[str]],
    *,
    datasource: str = "prometheus",
) -> dict[str, str]:
    """Every variable's value: the given options as a regex, "All" when none are given."""
    values = window.builtins()
    for variable in dashboard.variables:
        if variable.type == "datasource":
            values[variable.name] = datasource
        elif options.get(variable.name):
            values[variable.name] = regex_of(options[variable.name])
        else:
            values[variable.name] = variable.all_value or ".*"
    return values


class Prometheus:
    """Prometheus's HTTP API: instant and range queries, label values."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query(self, expr: str, at: float | None = None) -> tuple[Series, ...]:
        """Evaluate expr at one instant (now by default)."""
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        return _series(self._get("/api/v1/query", params))

    def query_range(self, expr: str, start: float, end: float, step: float) -> tuple[Series, ...]:
        """Evaluate expr over [start, end] every step seconds."""
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)}
        return _series(self._get("/api/v1/query_range", params))

    def label_values(self, label: str, metric: str) -> list[str]:
        """Values of label on the series of metric (Grafana's label_values(metric, label))."""
        path = f"/api/v1/label/{urllib.parse.quote(label)}/values"
        data = self._get(path, {"match[]": metric})
        return sorted(str(v) for v in data or [])

    def run(self, target: Target, values: Mapping[str, str], window: TimeRange) -> TargetResult:
        """One panel target: substituted, then queried; a refusal becomes its error."""
        try:
            expr = substitute(target.expr, values)
            if target.instant:
                series = self.query(expr, window.end)
            else:
                series = self.query_range(expr, window.start, window.end, window.step)
        except KeyError as err:
            return TargetResult(target, error=str(err.args[0]))
        except PrometheusError as err:
            return TargetResult(target, error=err.message)
        return TargetResult(target, series)

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as err:
            body = _error_body(err)
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {reason}") from err
        except json.JSONDecodeError as err:
            raise PrometheusError(f"{self.url}{path}: answer is not JSON") from err
        if body.get("status") != "success":
            raise PrometheusError(f"{body.get('errorType', 'error')}: {body.get('error', body)}")
        return body.get("data")


def _error_body(err: urllib.error.HTTPError) -> dict[str, Any]:
    """Prometheus explains a 400/422 in a JSON body; anything else is a plain HTTP error."""
    try:
        body = json.loads(err.read())
    except (json.JSONDecodeError, OSError):
        return {"status": "error", "errorType": f"HTTP {err.code}", "error": err.reason}
    return body if isinstance(body, dict) else {"status": "error", "error": str(body)}


def _series(data: Mapping[str, Any]) -> tuple[Series, ...]:
    """Series from a vector, matrix or scalar result."""
    kind = data.get("resultType")
    result: Any = data.get("result") or []
    if kind == "scalar":
        return (Series({}, ((float(result[0]), float(result[1])),)),)
    if kind == "vector":
        return tuple(
            Series(dict(r["metric"]), ((float(r["value"][0]), float(r["value"][1])),))
            for r in result
        )
    if kind == "matrix":
        return tuple(
            Series(dict(r["metric"]), tuple((float(t), float(v)) for t, v in r["values"]))
            for r in result
        )
    return ()


def variable_options(dashboard: Dashboard, prom: Prometheus) -> dict[str, list[str]]:
    """Values of the query variables without an "All" value, as Grafana would list them."""
    out: dict[str, list[str]] = {}
    for variable in dashboard.variables:
        match = _LABEL_VALUES.match(variable.query)
        if variable.type != "query" or variable.all_value or not match:
            continue
        out[variable.name] = prom.label_values(match.group(2), match.group(1))
    return out


def fetch_panels(
    dashboard: Dashboard,
    prom: Prometheus,
    window: TimeRange,
    options: Mapping[str, Sequence[str]] | None = None,
) -> dict[int, tuple[TargetResult, ...]]:
    """Every panel's targets queried over window; variables not in options mean "All"."""
    chosen: dict[str, Sequence[str]] = dict(variable_options(dashboard, prom))
    chosen.update(options or {})
    values = template_values(dashboard, window, chosen)
    return {
        panel.id: tuple(prom.run(t, values, window) for t in panel.targets)
        for panel in dashboard.panels
        if panel.targets
    }
