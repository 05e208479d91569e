"""Riding out a swarm that is settling: reads retried while raft has no answer yet.

A manager that has just come back (its dockerd restarted or was frozen while the
others elected a new leader) answers swarm reads with `rpc error: code =
DeadlineExceeded` (after ~20 s) until its raft log catches up, and every manager
answers `The swarm does not have a leader` during an election. Both clear by
themselves within seconds on a healthy swarm; found on the lab, where the first
`node ls` on a leader resumed after ~90 s frozen failed so (tests/e2e/test_swarm.py).

Only reads are retried: a write that timed out may have been applied, and its
version check would then refuse the retry anyway. The budget is the host
variable `swarm_settle_timeout` (seconds, default 60; 0 turns retries off) for
tasks. Status fails over to the next manager instead, and tries the round of
managers again for 60 s when none could answer and one said it is settling
(cluster_source); the exporter never waits (its engines keep timeout 0).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fleetkit.errors import OrchestratorError

SETTLE_TIMEOUT_S = 60.0
PAUSE_S = 2.0

READS = frozenset(
    {"info", "swarm inspect", "node ls", "node inspect", "service ls", "service inspect", "task ls"}
)
SETTLING = (
    "code = DeadlineExceeded",
    "code = Unavailable",
    "does not have a leader",
)

Notice = Callable[[str], None]


def is_settling(what: str, message: str) -> bool:
    """Whether an engine error on this call is a swarm that has not settled yet."""
    return what in READS and settling(message)


def settling(message: str) -> bool:
    """Whether a message carries an engine's "not settled yet" answer."""
    return any(sign in message for sign in SETTLING)


@dataclass(frozen=True)
class Settle:
    """How long reads are retried, and the clock, sleep and notice they use."""

    timeout_s: float = 0.0
    pause_s: float = PAUSE_S
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)
    notice: Notice | None = None

    def retry(self, start: float, reason: str) -> bool:
        """After a settling answer to a try begun at `start` (clock time): False when one
        more would pass the budget, else the notice ("<reason>; retrying [Ns of Ms]"),
        the pause, and True."""
        waited = self.clock() - start
        if waited + self.pause_s > self.timeout_s:
            return False
        if self.notice is not None:
            self.notice(f"{reason}; retrying [{waited:.0f}s of {self.timeout_s:g}s]")
        self.sleep(self.pause_s)
        return True


def settle_timeout(value: object) -> float:
    """The `swarm_settle_timeout` host variable as seconds (the default when unset)."""
    if value is None or value == "":
        return SETTLE_TIMEOUT_S
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise OrchestratorError(
            f"swarm_settle_timeout must be a number of seconds >= 0 (0: no retries), not {value!r}"
        )
    return seconds
