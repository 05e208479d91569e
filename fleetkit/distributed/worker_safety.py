"""Keep a Dask worker clear of CPython 3.11's sys._current_frames() deadlock.

On CPython before 3.12, `sys._current_frames()` holds the runtime's thread-list lock
while it builds frame objects; a garbage collection that starts there can run Python
code (a gc callback, a finaliser) that lets another thread take the GIL, and a thread
that then starts or ends (it needs that same lock while holding the GIL) deadlocks the
whole process (CPython gh-106883, dask/distributed#8616). Dask's worker calls it every
10 ms on its event loop, for its statistical profiler. A shard opens hundreds of SSH
connections, each with a paramiko thread of its own, so threads start all the time: a
500-host `exec --cluster` on the lab froze its worker for good (py-spy: the event loop
in a gc callback inside `_PyThread_CurrentFrames`, a paramiko `Thread.start` waiting
for the thread-list lock, every other thread waiting for the GIL).

So a shard stops its worker's profiler before it opens any connection (Python < 3.12
only; the worker's dashboard then shows no new profile samples). Starting workers with
DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False does the same from the outset.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

PROFILER_CALLBACKS = ("profile", "profile-cycle")
"""The worker's periodic callbacks that sample every thread's frames, and roll them up."""
STOP_WAIT_S = 5.0


def deadlock_prone(version: tuple[int, ...] = tuple(sys.version_info[:2])) -> bool:
    """Whether this interpreter has gh-106883 (fixed by 3.12's GC changes)."""
    return version < (3, 12)


def stop_thread_profiler(worker: Any, *, prone: bool | None = None) -> bool:
    """Stop worker's thread profiler (on its event loop, waited for); True if one ran.

    A no-op on an interpreter without the deadlock (prone=False) and on a worker
    started without the profiler.
    """
    if not (deadlock_prone() if prone is None else prone):
        return False
    callbacks = [
        pc
        for name in PROFILER_CALLBACKS
        if (pc := worker.periodic_callbacks.get(name)) is not None and pc.is_running()
    ]
    if not callbacks:
        return False
    stopped = threading.Event()

    def stop() -> None:
        for pc in callbacks:
            pc.stop()
        stopped.set()

    worker.loop.add_callback(stop)  # tornado's thread-safe entry to the event loop
    stopped.wait(STOP_WAIT_S)
    return True


def profiler_running(dask_worker: Any) -> bool:
    """Whether dask_worker's thread profiler runs (`client.run(profiler_running)`)."""
    return any(
        pc.is_running()
        for name, pc in dask_worker.periodic_callbacks.items()
        if name in PROFILER_CALLBACKS
    )
