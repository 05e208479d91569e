"""A wall-clock bound for in-process reliability tests (pytest-timeout is not installed).

`within(seconds)` raises TimeoutError from SIGALRM if the block runs longer, so a
regression that blocks (a FIFO read) or loops in Python fails the test instead of
hanging CI. Work stuck inside one C call is only interrupted when that call returns:
tests of such cases run fleetkit in a subprocess with a timeout instead.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail with TimeoutError when the block takes longer than seconds (main thread only)."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
