"""What panels show: legend names, units, thresholds, value mappings, merged tables."""

from __future__ import annotations

import math

import pytest

from fleetkit.dashboards.frames import display, items, legend_name, merge_table
from fleetkit.dashboards.model import GridPos, Panel, Series, Step, Target, TargetResult
from fleetkit.dashboards.units import format_value, step_color

pytestmark = pytest.mark.unit

GRID = GridPos(0, 0, 12, 8)
STEPS = (Step("green", None), Step("yellow", 80), Step("red", 90))


def result(ref: str, *rows: tuple[dict[str, str], float], legend: str = "") -> TargetResult:
    target = Target(ref, "x", legend, instant=True)
    return TargetResult(target, tuple(Series(labels, ((0.0, v),)) for labels, v in rows))


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.5 * 2**30, "bytes", "1.50 GiB"),
        (512, "bytes", "512 B"),
        (2048, "binBps", "2 KiB/s"),
        (93784, "s", "1.09 day"),
        (0.004, "s", "4 ms"),
        (42, "percent", "42%"),
        (41.666, "percent", "41.7%"),
        (0.25, "percentunit", "25%"),
        (12345, "none", "12.3 K"),
        (None, "s", "No data"),
        (math.nan, "", "NaN"),
    ],
)
def test_values_are_formatted_in_their_unit(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_threshold_color_is_the_highest_step_reached() -> None:
    assert [step_color(v, STEPS) for v in (10, 80, 89.9, 95)] == [
        "green",
        "yellow",
        "yellow",
        "red",
    ]
    assert step_color(None, STEPS) == "green"


def test_legend_templates_fill_in_labels_or_fall_back_to_all_labels() -> None:
    labels = {"__name__": "m", "host": "lab1", "mountpoint": "/"}
    assert legend_name("{{host}} {{ mountpoint }}", labels) == "lab1 /"
    assert legend_name("__auto", labels) == 'm{host="lab1", mountpoint="/"}'
    assert legend_name("", {}) == "value"


def test_stat_items_take_the_unit_thresholds_and_mappings() -> None:
    panel = Panel(1, "stat", "t", GRID, unit="percent", thresholds=STEPS)
    (item,) = items(panel, [result("A", ({"host": "a"}, 95.0), legend="{{host}}")])
    assert (item.name, item.text, item.color) == ("a", "95%", "red")
    mapped = Panel(2, "stat", "t", GRID, mappings={"1": ("UP", "green")})
    assert display(mapped, "x", 1.0).text == "UP"


def test_tables_merge_targets_on_shared_labels_like_grafana() -> None:
    panel = Panel(
        1,
        "table",
        "Hosts",
        GRID,
        renames={"host": "Host", "Value #A": "State", "Value #C": "Uptime"},
        hidden=frozenset({"Value #B"}),
        column_units={"Value #C": "s"},
        column_mappings={"Value #A": {"1": ("UP", "green"), "0": ("DOWN", "red")}},
        sort_by="State",
    )
    table = merge_table(
        panel,
        [
            result("A", ({"host": "a"}, 1), ({"host": "b"}, 0)),
            result("B", ({"host": "a", "os": "Debian"}, 1)),
            result("C", ({"host": "a"}, 7200), ({"host": "b"}, 60)),
        ],
    )
    assert table.headers == ("Host", "os", "State", "Uptime")
    assert [[c.text for c in row] for row in table.rows] == [
        ["b", "", "DOWN", "1 min"],
        ["a", "Debian", "UP", "2 hour"],
    ]
    assert table.rows[0][2].color == "red"


def test_a_single_target_table_names_its_column_value() -> None:
    panel = Panel(1, "table", "t", GRID, renames={"Value": "Ready"})
    table = merge_table(panel, [result("A", ({"node": "n1"}, 1))])
    assert table.headers == ("node", "Ready")


def test_table_columns_follow_the_organize_order() -> None:
    panel = Panel(1, "table", "t", GRID, column_order={"node": 0, "role": 1, "Value": 2})
    table = merge_table(panel, [result("A", ({"role": "worker", "node": "n1", "zone": "a"}, 1))])
    assert table.headers == ("node", "role", "Value", "zone")
