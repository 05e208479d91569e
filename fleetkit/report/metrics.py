"""Run metrics (the design's metrics contract) for node_exporter's textfile or a Pushgateway.

    fleetkit_run_tasks_total{playbook, status}        steps of the run by status
    fleetkit_run_duration_seconds{playbook}           wall time of the run
    fleetkit_run_last_success_timestamp_seconds{playbook}
    fleetkit_run_hosts{playbook, status}              hosts by their worst status

Built on a private CollectorRegistry with prometheus_client's own exposition
helpers, imported only here (never on the way to the first SSH connection).
The textfile is written by fleetkit.atomic (random temp name, fsync, rename). A failed run keeps the
previous last-success timestamp: read back from the old textfile, and left
alone on the Pushgateway (pushadd replaces only the metrics it sends).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetkit.errors import FleetkitError
from fleetkit.results import STATUS_ORDER, HostStats, RunResult, Status

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

LAST_SUCCESS = "fleetkit_run_last_success_timestamp_seconds"
JOB = "fleetkit_run"


class MetricsError(FleetkitError):
    """Run metrics could not be written or pushed."""

    exit_code = 1


def host_status(stats: HostStats) -> Status:
    """A host's worst outcome: failed > unreachable > changed > ok > skipped."""
    if stats.failed:
        return Status.FAILED
    if stats.unreachable:
        return Status.UNREACHABLE
    if stats.changed:
        return Status.CHANGED
    if stats.ok:
        return Status.OK
    return Status.SKIPPED


class _RunCollector:
    """prometheus_client collector yielding one run's metric families."""

    def __init__(self, playbook: str, result: RunResult, last_success: float | None) -> None:
        self.playbook = playbook
        self.result = result
        self.last_success = last_success

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        tasks = CounterMetricFamily(
            "fleetkit_run_tasks",
            "Task results of the last run, by status.",
            labels=["playbook", "status"],
        )
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for step in self.result.steps:
            counts[step.status] += 1
        for status, n in counts.items():
            tasks.add_metric([self.playbook, status.value], n)
        yield tasks
        duration = GaugeMetricFamily(
            "fleetkit_run_duration_seconds", "Wall time of the last run.", labels=["playbook"]
        )
        duration.add_metric([self.playbook], self.result.duration_s)
        yield duration
        hosts = GaugeMetricFamily(
            "fleetkit_run_hosts",
            "Hosts of the last run by their worst status.",
            labels=["playbook", "status"],
        )
        per_host = dict.fromkeys(STATUS_ORDER, 0)
        for stats in self.result.stats().values():
            per_host[host_status(stats)] += 1
        for status, n in per_host.items():
            hosts.add_metric([self.playbook, status.value], n)
        yield hosts
        if self.last_success is not None:
            last = GaugeMetricFamily(
                LAST_SUCCESS,
                "When a run of this playbook last succeeded (unix time).",
                labels=["playbook"],
            )
            last.add_metric([self.playbook], self.last_success)
            yield last


def succeeded(result: RunResult) -> bool:
    return result.exit_code() == 0


def registry(playbook: str, result: RunResult, last_success: float | None) -> CollectorRegistry:
    """A private registry holding the run's metrics."""
    from prometheus_client import CollectorRegistry

    reg = CollectorRegistry(auto_describe=False)
    reg.register(_RunCollector(playbook, result, last_success))
    return reg


def previous_success(path: Path, playbook: str) -> float | None:
    """The last-success timestamp an existing textfile holds for playbook, if any."""
    if not path.is_file():
        return None
    from prometheus_client.parser import text_string_to_metric_families

    try:
        for family in text_string_to_metric_families(path.read_text()):
            if family.name != LAST_SUCCESS:
                continue
            for sample in family.samples:
                if sample.labels.get("playbook") == playbook:
                    return float(sample.value)
    except (ValueError, OSError):
        return None
    return None


def write_textfile(
    path: Path, playbook: str, result: RunResult, *, now: float | None = None
) -> None:
    """Write the run's metrics to path atomically (for node_exporter's textfile collector),
    through fleetkit.atomic (unpredictable temp name, file and folder fsynced)."""
    from prometheus_client import generate_latest

    from fleetkit.atomic import write_atomic

    stamp = (
        (now if now is not None else time.time())
        if succeeded(result)
        else previous_success(path, playbook)
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, generate_latest(registry(playbook, result, stamp)))
    except OSError as err:
        raise MetricsError(f"cannot write {path}: {err.strerror or err}") from None


def push_metrics(
    url: str, playbook: str, result: RunResult, *, now: float | None = None, timeout: float = 10.0
) -> None:
    """Push the run's metrics to a Pushgateway (job fleetkit_run, grouped by playbook)."""
    from prometheus_client import pushadd_to_gateway

    stamp = (now if now is not None else time.time()) if succeeded(result) else None
    try:
        pushadd_to_gateway(
            url,
            job=JOB,
            registry=registry(playbook, result, stamp),
            grouping_key={"playbook": playbook},
            timeout=timeout,
        )
    except OSError as err:
        raise MetricsError(f"cannot push to {url}: {err}") from None
