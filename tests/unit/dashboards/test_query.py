"""Template variables as Grafana substitutes them, and the Prometheus HTTP client."""

from __future__ import annotations

import io
import json
import urllib.error
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from fleetkit.dashboards.load import load_dashboard
from fleetkit.dashboards.model import Target
from fleetkit.dashboards.query import (
    Prometheus,
    TimeRange,
    fetch_panels,
    format_duration,
    parse_duration,
    regex_of,
    substitute,
    template_values,
)
from fleetkit.errors import PrometheusError

pytestmark = pytest.mark.unit

OVERVIEW = Path(__file__).resolve().parents[3] / "grafana" / "dashboards" / "fleet-overview.json"


def test_every_variable_syntax_is_substituted() -> None:
    values = {"host": "(a|b)", "group": ".*", "__rate_interval": "1m"}
    expr = (
        'rate(x{host=~"$host", g=~"${group}", h=~"[[host]]", f=~"${host:regex}"}[$__rate_interval])'
    )
    assert substitute(expr, values) == (
        'rate(x{host=~"(a|b)", g=~".*", h=~"(a|b)", f=~"(a|b)"}[1m])'
    )


def test_an_unknown_variable_is_an_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"\$nope"):
        substitute("x{a=~'$nope'}", {})


def test_host_values_become_an_escaped_regex() -> None:
    assert regex_of(["lab1"]) == "lab1"
    assert regex_of(["web.1", "db(2)"]) == r"(web\\.1|db\\(2\\))"
    assert regex_of([]) == ".*"


def test_range_builtins_follow_the_window() -> None:
    window = TimeRange(end=1000.0, seconds=900, rate_interval="2m")
    builtins = window.builtins()
    assert builtins["__range"] == "15m" and builtins["__range_s"] == "900"
    assert builtins["__rate_interval"] == "2m"
    assert builtins["__interval"] == "4s" and window.step == 4.0
    assert window.start == 100.0


def test_durations_parse_and_format() -> None:
    assert parse_duration("15m") == 900 and parse_duration("1h") == 3600
    assert format_duration(7200) == "2h" and format_duration(90) == "90s"
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_template_values_use_all_for_unset_variables() -> None:
    board = load_dashboard(OVERVIEW)
    values = template_values(board, TimeRange(end=0, seconds=3600), {"host": ["lab1", "lab2"]})
    assert values["host"] == "(lab1|lab2)"
    assert values["group"] == ".*"  # the group variable's allValue
    assert values["datasource"] == "prometheus"


class FakePrometheus(Prometheus):
    """Answers from a table of path -> data, and records what was asked."""

    def __init__(self, answers: Mapping[str, Any]) -> None:
        super().__init__("http://prometheus.invalid")
        self.answers = answers
        self.asked: list[tuple[str, dict[str, str]]] = []

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        self.asked.append((path, dict(params)))
        if "bad" in params.get("query", ""):
            raise PrometheusError("bad_data: parse error")
        return self.answers["label" if "/label/" in path else path.rsplit("/", 1)[-1]]


VECTOR = {"resultType": "vector", "result": [{"metric": {"host": "lab1"}, "value": [10, "1"]}]}
MATRIX = {
    "resultType": "matrix",
    "result": [{"metric": {"host": "lab1"}, "values": [[10, "1"], [20, "2.5"]]}],
}


def test_fetch_queries_every_target_with_hosts_from_label_values() -> None:
    prom = FakePrometheus({"query": VECTOR, "query_range": MATRIX, "label": ["lab1", "lab2"]})
    board = load_dashboard(OVERVIEW)
    results = fetch_panels(board, prom, TimeRange(end=1000.0, seconds=900))
    assert set(results) == {p.id for p in board.panels if p.targets}
    assert prom.asked[0] == ("/api/v1/label/host/values", {"match[]": "fleetkit_host_up"})
    queries = [params["query"] for _, params in prom.asked[1:]]
    assert all("$" not in q for q in queries)
    assert all('host=~"(lab1|lab2)"' in q for q in queries if "host=~" in q)
    ranged = [params for path, params in prom.asked if path.endswith("query_range")]
    assert ranged and all(p["step"] == "4.0" and p["start"] == "100.000" for p in ranged)
    series = [s for rs in results.values() for r in rs for s in r.series]
    assert series and all(s.labels == {"host": "lab1"} for s in series)


def test_a_refused_query_becomes_the_targets_error() -> None:
    prom = FakePrometheus({})
    result = prom.run(Target("A", "bad("), {}, TimeRange(end=0, seconds=60))
    assert result.error == "bad_data: parse error" and result.series == ()


def test_answers_of_every_result_type_become_series(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(
        [
            {"status": "success", "data": {"resultType": "scalar", "result": [5, "3"]}},
            {"status": "success", "data": MATRIX},
        ]
    )

    def urlopen(url: str, timeout: float) -> io.BytesIO:
        return io.BytesIO(json.dumps(next(answers)).encode())

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    prom = Prometheus("http://127.0.0.1:9")
    (scalar,) = prom.query("1 + 2")
    assert scalar.points == ((5.0, 3.0),) and scalar.labels == {}
    (ranged,) = prom.query_range("x", 0, 20, 10)
    assert ranged.points == ((10.0, 1.0), (20.0, 2.5)) and ranged.last == 2.5


def test_prometheus_error_bodies_and_refusals_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = b'{"status":"error","errorType":"bad_data","error":"unexpected <by>"}'

    def bad_request(url: str, timeout: float) -> io.BytesIO:
        raise urllib.error.HTTPError(url, 400, "Bad Request", {}, io.BytesIO(body))  # type: ignore[arg-type]

    monkeypatch.setattr("urllib.request.urlopen", bad_request)
    with pytest.raises(PrometheusError, match="bad_data: unexpected <by>"):
        Prometheus("http://127.0.0.1:9").query("sum by")

    def refused(url: str, timeout: float) -> io.BytesIO:
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr("urllib.request.urlopen", refused)
    with pytest.raises(PrometheusError, match=r"cannot reach Prometheus at http://127\.0\.0\.1:9:"):
        Prometheus("http://127.0.0.1:9/").query("up")
