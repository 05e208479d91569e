"""prometheus/: configs and alert rules pass promtool, and the rules' unit tests pass."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PROM = ROOT / "prometheus"
RULES = PROM / "rules" / "fleetkit.rules.yml"
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian package: prometheus)"
)

ALERTS = {
    "HostDown",
    "CollectionStale",
    "HighLoad",
    "MemoryLow",
    "DiskFull",
    "DiskWillFillIn24h",
    "ContainerRestarting",
    "ContainerUnhealthy",
    "SwarmReplicasMissing",
    "K8sReplicasMissing",
    "HealthCheckFailing",
    "RunFailed",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=PROM, capture_output=True, text=True, timeout=120, check=False
    )


def rules() -> list[dict[str, object]]:
    data = yaml.safe_load(RULES.read_text())
    return [r for g in data["groups"] for r in g["rules"]]


def test_every_alert_of_the_issue_exists_with_severity_and_annotations() -> None:
    got = {str(r["alert"]): r for r in rules()}
    assert set(got) == ALERTS
    for name, rule in got.items():
        labels = rule["labels"]
        annotations = rule["annotations"]
        assert isinstance(labels, dict) and labels["severity"] in ("warning", "critical"), name
        assert isinstance(annotations, dict)
        assert {"summary", "description"} <= set(annotations), name


def test_rules_use_only_contract_metric_names() -> None:
    contract = re.compile(
        r"^fleetkit_(host_(up|info|collect_duration_seconds|last_collect_timestamp_seconds"
        r"|load(1|5|15)|cpu_seconds_total|memory_(total|available)_bytes"
        r"|filesystem_(size|avail)_bytes|network_(receive|transmit)_bytes_total"
        r"|boot_time_seconds)|container_(running|restarts_total|health_state|cpu_seconds_total"
        r"|memory_usage_bytes)|swarm_(node_ready|service_replicas_(desired|running))"
        r"|k8s_deployment_replicas_(desired|available)|exporter_(cycle_duration_seconds"
        r"|cycles_total)|health_(check_ok|last_run_timestamp_seconds)"
        r"|run_(tasks_total|duration_seconds|last_success_timestamp_seconds|hosts))$"
    )
    for rule in rules():
        for name in re.findall(r"\bfleetkit_[a-z0-9_]+", str(rule["expr"])):
            assert contract.match(name), f"{rule['alert']}: {name} is not in the contract"


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    tests = yaml.safe_load((PROM / "rules" / "fleetkit.rules.test.yml").read_text())["tests"]
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in tests:
        for case in test.get("alert_rule_test", []):
            (firing if case["exp_alerts"] else quiet).add(case["alertname"])
    assert firing == ALERTS
    assert quiet == ALERTS


def test_file_sd_targets_are_target_groups() -> None:
    groups = yaml.safe_load((PROM / "file_sd" / "fleetkit-exporters.yml").read_text())
    assert all(g["targets"] and all(":" in t for t in g["targets"]) for g in groups)


@needs_promtool
def test_promtool_check_rules() -> None:
    out = promtool("check", "rules", "rules/fleetkit.rules.yml")
    assert out.returncode == 0, out.stdout + out.stderr


@needs_promtool
@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-sharded.yml"])
def test_promtool_check_config(config: str) -> None:
    out = promtool("check", "config", config)
    assert out.returncode == 0, out.stdout + out.stderr


@needs_promtool
def test_promtool_test_rules() -> None:
    out = promtool("test", "rules", "rules/fleetkit.rules.test.yml")
    assert out.returncode == 0, out.stdout + out.stderr
