"""Typed, frozen results: what happened on each host, as data (never exceptions).

A run produces StepResults (one per host per task), grouped into HostResults,
gathered in a RunResult. Reporters (console, JSON lines, metrics) read these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Status(StrEnum):
    """Outcome of one step on one host, as named in the JSON output contract."""

    OK = "ok"
    CHANGED = "changed"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


STATUS_ORDER: tuple[Status, ...] = (
    Status.OK,
    Status.CHANGED,
    Status.FAILED,
    Status.UNREACHABLE,
    Status.SKIPPED,
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})

# the one exit-code table (docs/contracts.md "Exit codes"): runs, health, the CLI
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130


def exit_code_for(*, failed: bool, unreachable: bool, interrupted: bool = False) -> int:
    """Interrupted wins, then a failure, then unreachable hosts; else 0."""
    if interrupted:
        return EXIT_INTERRUPTED
    if failed:
        return EXIT_FAILED
    if unreachable:
        return EXIT_UNREACHABLE
    return EXIT_OK


@dataclass(frozen=True)
class StepResult:
    """One task (or exec command) on one host."""

    host: str
    task: str
    status: Status
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    msg: str = ""
    duration_s: float = 0.0
    diff: str = ""
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    no_log: bool = False
    rescued: bool = False
    """A failure a block's rescue: took (counted as rescued, not failed, as Ansible does)."""
    ignored: bool = False
    """A failure ignore_errors let pass (its status is ok; counted as ignored too)."""
    truncated: bool = False
    """stdout or stderr passed the connection's output cap: only their first bytes are kept."""

    @property
    def ok(self) -> bool:
        return self.status in (Status.OK, Status.CHANGED, Status.SKIPPED)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    @property
    def unreachable(self) -> bool:
        return self.status is Status.UNREACHABLE

    def public(self) -> StepResult:
        """This result with output hidden when the task is marked secret (no_log)."""
        if not self.no_log:
            return self
        hidden = "(output hidden: no_log)"
        return StepResult(
            host=self.host,
            task=self.task,
            status=self.status,
            rc=self.rc,
            stdout="",
            stderr="",
            msg=hidden,
            duration_s=self.duration_s,
            diff="",
            data=_EMPTY,
            no_log=True,
            rescued=self.rescued,
            ignored=self.ignored,
            truncated=self.truncated,
        )


@dataclass(frozen=True)
class HostStats:
    """Counts per status for one host, as in the recap and the summary event."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    def add(self, status: Status, *, rescued: bool = False, ignored: bool = False) -> HostStats:
        """These counts with one more step: a rescued failure counts as rescued only."""
        counts = self.recap()
        counts["rescued" if rescued else status.value] += 1
        if ignored:
            counts["ignored"] += 1
        return HostStats(**counts)

    def as_dict(self) -> dict[str, int]:
        """The design's five counts (exec summaries and every consumer of them)."""
        return {
            "ok": self.ok,
            "changed": self.changed,
            "failed": self.failed,
            "unreachable": self.unreachable,
            "skipped": self.skipped,
        }

    def recap(self) -> dict[str, int]:
        """A playbook run's counts: the five plus rescued and ignored (added, as Ansible's)."""
        return {**self.as_dict(), "rescued": self.rescued, "ignored": self.ignored}


@dataclass(frozen=True)
class RunResult:
    """Everything a run did: every step, per-host counts, time, retry file."""

    steps: tuple[StepResult, ...]
    hosts: tuple[str, ...]
    duration_s: float
    retry_file: str | None = None
    interrupted: bool = False
    playbook: bool = False
    """A playbook run: its recap also counts rescued and ignored steps."""

    def counts(self) -> dict[str, dict[str, int]]:
        """Per-host counts as the recap and the summary event show them."""
        return {h: (s.recap() if self.playbook else s.as_dict()) for h, s in self.stats().items()}

    def stats(self) -> dict[str, HostStats]:
        out = {h: HostStats() for h in self.hosts}
        for step in self.steps:
            out[step.host] = out.get(step.host, HostStats()).add(
                step.status, rescued=step.rescued, ignored=step.ignored
            )
        return out

    @property
    def failed_hosts(self) -> tuple[str, ...]:
        return tuple(h for h, s in self.stats().items() if s.failed)

    @property
    def unreachable_hosts(self) -> tuple[str, ...]:
        return tuple(h for h, s in self.stats().items() if s.unreachable and not s.failed)

    @property
    def unfinished(self) -> tuple[str, ...]:
        """The hosts an interrupted run (Ctrl-C, SIGTERM) did not take to its end.

        For exec, the hosts with no result; for a playbook, every host neither failed
        nor unreachable (the run stopped before its last task, so no such host is known
        to be done; rerunning one that was is what idempotent tasks are for). Empty
        when the run was not interrupted.
        """
        if not self.interrupted:
            return ()
        stats = self.stats()
        if self.playbook:
            return tuple(h for h in self.hosts if not (stats[h].failed or stats[h].unreachable))
        reported = {s.host for s in self.steps}
        return tuple(h for h in self.hosts if h not in reported)

    def exit_code(self) -> int:
        """0 all ok; 1 a host failed; 3 hosts unreachable and none failed; 130 interrupted."""
        return exit_code_for(
            failed=bool(self.failed_hosts),
            unreachable=bool(self.unreachable_hosts),
            interrupted=self.interrupted,
        )
