"""JSON lines on stdout, exactly as the design's output contract: one object per line.

Events: task_start, host_result, summary (plus play_start and warning, which
consumers may ignore). Secret (no_log) results arrive already redacted; vaulted
values are masked here (fleetkit.report.redact).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO, Any

from fleetkit.report.redact import redact_data
from fleetkit.results import RunResult, StepResult


class JsonLinesReporter:
    """Writes one JSON object per event and flushes, so consumers can stream."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout

    def _emit(self, obj: dict[str, Any]) -> None:
        line = json.dumps(redact_data(obj), ensure_ascii=False, default=str)
        self._stream.write(line + "\n")
        self._stream.flush()

    def play_start(self, play: str, hosts: Sequence[str]) -> None:
        self._emit({"event": "play_start", "play": play, "hosts": list(hosts)})

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None:
        self._emit({"event": "task_start", "play": play, "task": task, "hosts": list(hosts)})

    def host_result(self, result: StepResult) -> None:
        event: dict[str, Any] = {
            "event": "host_result",
            "host": result.host,
            "task": result.task,
            "status": result.status.value,
            "rc": result.rc,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "msg": result.msg,
            "duration_s": round(result.duration_s, 6),
        }
        if result.truncated:  # an added key, only on results whose output was cut
            event["truncated"] = True
        self._emit(event)

    def warning(self, message: str) -> None:
        self._emit({"event": "warning", "msg": message})

    def summary(self, run: RunResult) -> None:
        event: dict[str, Any] = {
            "event": "summary",
            "hosts": run.counts(),
            "duration_s": round(run.duration_s, 6),
            "retry_file": run.retry_file,
        }
        if run.interrupted:  # added keys, only on an interrupted run's summary
            event["interrupted"] = True
            event["unfinished"] = list(run.unfinished)
        self._emit(event)
