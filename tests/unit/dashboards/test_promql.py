"""Metric names read out of PromQL, used to hold dashboards to the metrics contract."""

from __future__ import annotations

import pytest

from fleetkit.testing.promql import metric_names

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('rate(x_total{job="a", mode!~"idle|b"}[5m])', {"x_total"}),
        ("sum by (host, mode) (a) / on(host) group_left(os, kernel) b", {"a", "b"}),
        ("time() - max(c) or vector(0)", {"c"}),
        ('a unless on(host) b{groups!~"(.*,)?(x)(,.*)?"}', {"a", "b"}),
        ("d offset 1h * 1e3 + 0x1F", {"d"}),
        ('label_replace(e, "dst", "$1", "src", "(.*)")', {"e"}),
        ("label_values(fleetkit_host_up, host)", {"fleetkit_host_up"}),
        ('label_values(fleetkit_host_info{groups=~"a"}, groups)', {"fleetkit_host_info"}),
        ("label_values(host)", set()),
        ("sort_desc(topk(15, increase(f[$__range])))", {"f"}),
    ],
)
def test_metric_names_skip_functions_labels_keywords_and_numbers(
    expr: str, names: set[str]
) -> None:
    assert metric_names(expr) == names
