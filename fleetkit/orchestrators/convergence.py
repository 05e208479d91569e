"""Waiting for a cluster to converge: poll with backoff, report progress, give up on time.

`wait_for` calls a probe until it says done or failed or the timeout passes.
The poll interval starts short (a small change converges in well under a
second) and grows geometrically to a cap, so a long rollout costs few API
calls; the report counts polls and the API calls they made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class WaitPolicy:
    """Timeout and poll intervals (seconds): first, multiplied by backoff up to the cap."""

    timeout_s: float = 300.0
    first_interval_s: float = 0.25
    max_interval_s: float = 2.0
    backoff: float = 1.6

    def intervals(self) -> Callable[[], float]:
        """A generator of successive poll intervals."""
        current = [self.first_interval_s]

        def step() -> float:
            value = current[0]
            current[0] = min(self.max_interval_s, value * self.backoff)
            return value

        return step


@dataclass(frozen=True)
class Observation:
    """One poll's verdict: still waiting, done, or failed; counts and a short message."""

    state: Literal["waiting", "done", "failed"]
    done: int = 0
    wanted: int = 0
    message: str = ""


@dataclass(frozen=True)
class Progress:
    """What a progress display shows while waiting."""

    label: str
    elapsed_s: float
    done: int
    wanted: int
    message: str
    polls: int
    finished: bool = False


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class WaitReport:
    """How a wait ended: converged or not (and why), how long, how many polls and API calls."""

    converged: bool
    reason: str
    elapsed_s: float
    polls: int
    api_calls: int
    timed_out: bool = False

    def summary(self) -> str:
        return f"{self.elapsed_s:.1f}s, {self.polls} polls, {self.api_calls} API calls"


def wait_for(
    probe: Callable[[], Observation],
    policy: WaitPolicy,
    *,
    label: str = "",
    progress: ProgressCallback | None = None,
    api_calls: Callable[[], int] = lambda: 0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitReport:
    """Poll probe until done/failed or the timeout; never raises for a slow cluster."""
    start = clock()
    calls_before = api_calls()
    deadline = start + policy.timeout_s
    next_interval = policy.intervals()
    polls = 0
    while True:
        obs = probe()
        polls += 1
        now = clock()
        elapsed = now - start
        finished = obs.state != "waiting" or now >= deadline
        if progress is not None:
            progress(Progress(label, elapsed, obs.done, obs.wanted, obs.message, polls, finished))
        if obs.state == "done":
            return WaitReport(True, obs.message, elapsed, polls, api_calls() - calls_before)
        if obs.state == "failed":
            return WaitReport(False, obs.message, elapsed, polls, api_calls() - calls_before)
        if now >= deadline:
            reason = f"not converged after {policy.timeout_s:g}s: {obs.message}"
            return WaitReport(
                False, reason, elapsed, polls, api_calls() - calls_before, timed_out=True
            )
        sleep(max(0.0, min(next_interval(), deadline - now)))
