"""The reporter interface: every output (console, JSON lines, metrics) listens to these.

Reporters receive events in order from the main thread; they never change
results, only show them. `Reporters` fans one event out to several.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fleetkit.results import RunResult, StepResult


class Reporter(Protocol):
    """What a run tells its audience, as it happens."""

    def play_start(self, play: str, hosts: Sequence[str]) -> None: ...

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None: ...

    def host_result(self, result: StepResult) -> None: ...

    def warning(self, message: str) -> None: ...

    def summary(self, run: RunResult) -> None: ...


class Reporters:
    """Several reporters behind one (results go to each, in order)."""

    def __init__(self, *reporters: Reporter) -> None:
        self._reporters = reporters

    def play_start(self, play: str, hosts: Sequence[str]) -> None:
        for r in self._reporters:
            r.play_start(play, hosts)

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None:
        for r in self._reporters:
            r.task_start(play, task, hosts)

    def host_result(self, result: StepResult) -> None:
        public = result.public()
        for r in self._reporters:
            r.host_result(public)

    def warning(self, message: str) -> None:
        for r in self._reporters:
            r.warning(message)

    def summary(self, run: RunResult) -> None:
        for r in self._reporters:
            r.summary(run)
