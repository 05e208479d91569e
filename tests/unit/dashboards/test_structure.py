"""The shipped dashboards: up to date, well formed, and only contract metrics."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleetkit.dashboards.__main__ import render_json, stale
from fleetkit.dashboards.catalog import catalog
from fleetkit.dashboards.load import load_dashboard, parse_dashboard
from fleetkit.dashboards.model import GRID_COLUMNS, Dashboard
from fleetkit.dashboards.query import TimeRange, substitute, template_values
from fleetkit.errors import DashboardError
from fleetkit.testing.promql import metric_names

pytestmark = pytest.mark.unit

DASHBOARDS = Path(__file__).resolve().parents[3] / "grafana" / "dashboards"
NAMES = sorted(catalog())

# design.md, "Metrics contract": the only names dashboards may query.
CONTRACT_TEXT = """
    fleetkit_host_up fleetkit_host_info fleetkit_host_collect_duration_seconds
    fleetkit_host_last_collect_timestamp_seconds fleetkit_host_load1 fleetkit_host_load5
    fleetkit_host_load15 fleetkit_host_cpu_seconds_total fleetkit_host_memory_total_bytes
    fleetkit_host_memory_available_bytes fleetkit_host_filesystem_size_bytes
    fleetkit_host_filesystem_avail_bytes fleetkit_host_network_receive_bytes_total
    fleetkit_host_network_transmit_bytes_total fleetkit_host_boot_time_seconds
    fleetkit_container_running fleetkit_container_restarts_total
    fleetkit_container_health_state fleetkit_container_cpu_seconds_total
    fleetkit_container_memory_usage_bytes fleetkit_swarm_node_ready
    fleetkit_swarm_service_replicas_desired fleetkit_swarm_service_replicas_running
    fleetkit_k8s_deployment_replicas_desired fleetkit_k8s_deployment_replicas_available
    fleetkit_exporter_cycle_duration_seconds fleetkit_exporter_cycles_total
    fleetkit_health_check_ok fleetkit_health_last_run_timestamp_seconds
    fleetkit_run_tasks_total fleetkit_run_duration_seconds
    fleetkit_run_last_success_timestamp_seconds fleetkit_run_hosts
"""
CONTRACT = frozenset(CONTRACT_TEXT.split())

# What the issue asks each dashboard to show, as the metrics that show it.
REQUIRED = {
    "fleet-overview.json": {
        "fleetkit_host_up", "fleetkit_host_load1", "fleetkit_host_cpu_seconds_total",
        "fleetkit_host_memory_available_bytes", "fleetkit_host_filesystem_avail_bytes",
        "fleetkit_host_network_receive_bytes_total", "fleetkit_host_boot_time_seconds",
        "fleetkit_host_last_collect_timestamp_seconds",
    },
    "containers-services.json": {
        "fleetkit_swarm_service_replicas_desired", "fleetkit_swarm_service_replicas_running",
        "fleetkit_swarm_node_ready", "fleetkit_container_running",
        "fleetkit_container_restarts_total", "fleetkit_container_health_state",
        "fleetkit_container_cpu_seconds_total", "fleetkit_container_memory_usage_bytes",
        "fleetkit_k8s_deployment_replicas_desired", "fleetkit_k8s_deployment_replicas_available",
    },
    "runs-health.json": {
        "fleetkit_run_tasks_total", "fleetkit_run_duration_seconds",
        "fleetkit_run_last_success_timestamp_seconds", "fleetkit_health_check_ok",
        "fleetkit_exporter_cycle_duration_seconds",
    },
}  # fmt: skip


def raw(name: str) -> dict[str, Any]:
    data = json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def loaded(name: str) -> Dashboard:
    return load_dashboard(DASHBOARDS / name)


def test_committed_json_is_what_the_catalog_builds() -> None:
    assert stale(DASHBOARDS) == [], "run: python -m fleetkit.dashboards"


def test_stale_check_notices_an_edited_file(tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / name).write_text(render_json(name), encoding="utf-8")
    (tmp_path / NAMES[0]).write_text("{}", encoding="utf-8")
    assert stale(tmp_path) == [NAMES[0]]


@pytest.mark.parametrize("name", NAMES)
def test_dashboard_parses_with_stable_uid_and_current_schema(name: str) -> None:
    board = loaded(name)
    assert board.uid == "fleetkit-" + name.removesuffix(".json")
    assert board.schema_version >= 39
    assert not board.has_inputs and "__inputs" not in raw(name)


def test_uids_and_titles_differ_between_dashboards() -> None:
    boards = [loaded(n) for n in NAMES]
    assert len({b.uid for b in boards}) == len({b.title for b in boards}) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_panel_ids_are_unique(name: str) -> None:
    ids = [p.id for p in loaded(name).panels]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NAMES)
def test_datasource_is_a_prometheus_variable_used_everywhere(name: str) -> None:
    board = loaded(name)
    variable = board.variable("datasource")
    assert variable is not None and (variable.type, variable.query) == ("datasource", "prometheus")
    for panel in raw(name)["panels"]:
        refs = [panel.get("datasource")] if panel["type"] != "row" else []
        refs += [t.get("datasource") for t in panel.get("targets", [])]
        assert all(r == {"type": "prometheus", "uid": "${datasource}"} for r in refs), panel


@pytest.mark.parametrize("name", NAMES)
def test_host_and_group_variables_come_from_the_exporter(name: str) -> None:
    board = loaded(name)
    host, group = board.variable("host"), board.variable("group")
    assert host is not None and group is not None
    assert host.query == "label_values(fleetkit_host_up, host)"
    assert host.multi and host.include_all
    assert group.query == "label_values(fleetkit_host_info, groups)"
    assert group.all_value == ".*" and group.regex == "/([^,]+)/g"


@pytest.mark.parametrize("name", NAMES)
def test_every_panel_has_a_query(name: str) -> None:
    for panel in loaded(name).panels:
        if panel.type != "row":
            assert panel.targets and all(t.expr.strip() for t in panel.targets), panel.title


@pytest.mark.parametrize("name", NAMES)
def test_panels_fit_the_grid_without_overlapping(name: str) -> None:
    panels = loaded(name).panels
    for panel in panels:
        g = panel.grid
        assert g.w > 0 and g.h > 0 and g.x >= 0 and g.y >= 0, panel.title
        assert g.x + g.w <= GRID_COLUMNS, panel.title
    for a, b in itertools.combinations(panels, 2):
        assert not a.grid.overlaps(b.grid), (a.title, b.title)


@pytest.mark.parametrize("name", NAMES)
def test_only_contract_metric_names_are_queried(name: str) -> None:
    board = loaded(name)
    used = set().union(*(metric_names(t.expr) for p in board.panels for t in p.targets))
    used |= set().union(*(metric_names(v.query) for v in board.variables if v.type == "query"))
    assert used <= CONTRACT, used - CONTRACT
    assert REQUIRED[name] <= used, REQUIRED[name] - used


@pytest.mark.parametrize("name", NAMES)
def test_rates_use_the_rate_interval_or_the_range(name: str) -> None:
    for panel in loaded(name).panels:
        for target in panel.targets:
            for window in re.findall(r"\[([^\]]*)\]", target.expr):
                assert window in ("$__rate_interval", "$__range"), (panel.title, window)


@pytest.mark.parametrize("name", NAMES)
def test_panels_have_units_and_thresholds(name: str) -> None:
    for panel in loaded(name).panels:
        if panel.type in ("timeseries", "stat", "bargauge"):
            assert panel.unit, panel.title
            assert panel.thresholds and panel.thresholds[0].value is None, panel.title


def test_group_filter_matches_a_group_inside_the_groups_label() -> None:
    pattern = "(.*,)?(workers)(,.*)?"
    for groups in ("workers", "managers,workers", "workers,web", ",a,workers,"):
        assert re.fullmatch(pattern, groups)
    for groups in ("", "workers2", "managers"):
        assert not re.fullmatch(pattern, groups)


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool is not installed")
@pytest.mark.parametrize("name", NAMES)
def test_every_query_parses_with_promtool(name: str, tmp_path: Path) -> None:
    """Offline: each substituted expression as a recording rule, checked by promtool."""
    board = loaded(name)
    values = template_values(board, TimeRange(end=0, seconds=900), {"host": ["lab1", "lab2"]})
    rules = [
        {"record": f"panel_{p.id}_{t.ref_id}", "expr": substitute(t.expr, values)}
        for p in board.panels
        for t in p.targets
    ]
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "check", "rules": rules}]}))
    proc = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_file_that_is_not_a_dashboard_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"title": "no panels"}')
    with pytest.raises(DashboardError, match=r"x\.json: not a Grafana dashboard"):
        load_dashboard(path)
    path.write_text("{oops")
    with pytest.raises(DashboardError, match=r"x\.json:1: not JSON"):
        load_dashboard(path)


def test_grafana_exports_and_collapsed_rows_load() -> None:
    inner = {"id": 2, "type": "stat", "title": "in", "gridPos": {"x": 0, "y": 1, "w": 4, "h": 2}}
    row = {"id": 1, "type": "row", "title": "r", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1},
           "collapsed": True, "panels": [inner]}  # fmt: skip
    board = parse_dashboard({"dashboard": {"uid": "u", "panels": [row]}})
    assert [p.id for p in board.panels] == [1, 2]


def test_provisioning_points_grafana_at_prometheus_and_the_dashboards_folder() -> None:
    import yaml

    root = DASHBOARDS.parent / "provisioning"
    datasources = yaml.safe_load((root / "datasources" / "prometheus.yaml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "${PROMETHEUS_URL}"
    providers = yaml.safe_load((root / "dashboards" / "fleetkit.yaml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/fleetkit"
    readme = (DASHBOARDS.parent / "README.md").read_text()
    assert "/var/lib/grafana/dashboards/fleetkit" in readme and "PROMETHEUS_URL" in readme
