"""What `fleetkit health` writes: a short human report or JSON lines, and metrics
for node_exporter's textfile collector (written atomically) or a Pushgateway.

Imported only by the health command (it imports prometheus_client).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, push_to_gateway
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fleetkit.atomic import write_atomic
from fleetkit.errors import MonitoringError
from fleetkit.monitoring.health import HealthReport

log = logging.getLogger("fleetkit.monitoring")

PUSH_JOB = "fleetkit_health"


def human_lines(report: HealthReport) -> Iterator[str]:
    """One line per host (its failed checks spelled out) and a summary line."""
    width = max((len(h) for h in report.hosts), default=4)
    by_host: dict[str, list[str]] = {h: [] for h in report.hosts}
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.host] = counts.get(r.host, 0) + 1
        if not r.ok:
            line = f"{r.check}: {r.msg}" if r.msg else r.check
            by_host.setdefault(r.host, []).append(line)
    for host, failures in by_host.items():
        if not failures:
            yield f"{host:<{width}}  ok ({counts.get(host, 0)} checks)"
            continue
        label = "UNREACHABLE" if failures[0].startswith("reachable") else "FAILED"
        yield f"{host:<{width}}  {label}"
        for line in failures:
            yield f"{'':<{width}}    {line}"
    failed = len(report.failed)
    yield (
        f"health: {len(report.results)} checks on {len(report.hosts)} hosts,"
        f" {failed} failed, {len(report.unreachable)} unreachable"
        f" ({report.duration_s:.1f}s) -> exit {report.exit_code()}"
    )


def json_lines(report: HealthReport) -> Iterator[str]:
    """{"event": "check", ...} per verdict, then {"event": "summary", ...}."""
    for r in report.results:
        yield json.dumps(
            {
                "event": "check",
                "host": r.host,
                "check": r.check,
                "ok": r.ok,
                "msg": r.msg,
                "value": r.value,
                "threshold": r.threshold,
            }
        )
    yield json.dumps(
        {
            "event": "summary",
            "hosts": len(report.hosts),
            "checks": len(report.results),
            "failed": [{"host": r.host, "check": r.check} for r in report.failed],
            "unreachable": list(report.unreachable),
            "exit_code": report.exit_code(),
            "duration_s": round(report.duration_s, 3),
        }
    )


class HealthCollector(Collector):
    """fleetkit_health_check_ok{host, check} and the run's timestamp, from one report."""

    def __init__(self, report: HealthReport) -> None:
        self._report = report

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            "fleetkit_health_check_ok",
            "1 if the health check passed in the last `fleetkit health` run, 0 if not.",
            labels=["host", "check"],
        )
        for r in self._report.results:
            ok.add_metric([r.host, r.check], 1.0 if r.ok else 0.0)
        last = GaugeMetricFamily(
            "fleetkit_health_last_run_timestamp_seconds",
            "Unix time the last `fleetkit health` run finished.",
        )
        last.add_metric([], self._report.timestamp)
        yield ok
        yield last


def _registry(report: HealthReport) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector(report))
    return registry


def metrics_text(report: HealthReport) -> bytes:
    """The report as Prometheus text exposition."""
    return generate_latest(_registry(report))


def write_textfile(path: Path, data: bytes) -> bool:
    """Write data to path atomically; the temp file ends in .tmp, not *.prom, so
    node_exporter never reads it half-written. A full disk or read-only folder is a
    logged warning and False: the health verdicts and exit code stand."""
    try:
        write_atomic(path, data, suffix=".tmp")
    except OSError as err:
        log.warning("cannot write the textfile %s: %s", path, err.strerror or err)
        return False
    return True


def push(url: str, report: HealthReport, *, timeout: float = 10.0) -> None:
    """PUT the report's metrics to a Pushgateway, grouping key job=fleetkit_health
    (replacing the previous run's, so checks that no longer exist disappear)."""
    try:
        push_to_gateway(url, job=PUSH_JOB, registry=_registry(report), timeout=timeout)
    except OSError as err:
        raise MonitoringError(f"cannot push to {url}: {err}") from None
