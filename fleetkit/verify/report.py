"""Console lines for verify: each host's line names the test it is about.

exec's lines need no task name (there is one command); a verify run has many
tests per host, so the human line leads its message with the test's node id.
JSON lines already carry it in `task` and are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fleetkit.report.base import Reporter
from fleetkit.results import RunResult, StepResult


class TestNamingReporter:
    """A reporter that prefixes each result's message with its task before passing it on."""

    __test__ = False  # not a pytest test class

    def __init__(self, inner: Reporter) -> None:
        self._inner = inner

    def play_start(self, play: str, hosts: Sequence[str]) -> None:
        self._inner.play_start(play, hosts)

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None:
        self._inner.task_start(play, task, hosts)

    def host_result(self, result: StepResult) -> None:
        msg = f"{result.task}: {result.msg}" if result.msg else result.task
        self._inner.host_result(replace(result, msg=msg))

    def warning(self, message: str) -> None:
        self._inner.warning(message)

    def summary(self, run: RunResult) -> None:
        self._inner.summary(run)
