"""The Dask task of one playbook shard: claim it, run it in a child process, relay events.

As for exec (fleetkit.distributed.worker_task): the shard claims itself first, so a
second start after its worker died touches no host; only this (Dask's task) thread
talks to the scheduler, sending the child's events to the run's Queue in batches
(at most FLUSH_S old), passing on each play's go (the run's gate Event for it) and
polling the run's stop Event. The plays themselves run in
fleetkit.distributed.shard_child, started in the client's working directory: a
worker without that folder, or without the playbook in it, reports the shard
UNUSABLE and nothing runs. Stop (the client's Ctrl-C) is SIGINT to the child. The
task secedes from the worker's thread pool once claimed: it only relays, and a shard
waiting at a play's gate must not keep another shard of the same worker from
starting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from fleetkit.distributed.dask_api import dask
from fleetkit.distributed.job import DONE, REFUSED, STARTED, SchedulerLinkLost
from fleetkit.distributed.run_job import EVENTS, UNUSABLE, PlaybookShardJob, ShardEvent
from fleetkit.distributed.shard_child import ChildJob, read_frame, write_frame
from fleetkit.distributed.worker_safety import stop_thread_profiler
from fleetkit.distributed.worker_task import FLUSH_S, STOP_POLL_S, Sender, claim, event_is_set

STOP_GRACE_S = 15.0  # after SIGINT, the child has this long to end before it is killed


class ShardProcess:
    """A running shard_child: its events as they come, and how it ended."""

    def __init__(self, job: PlaybookShardJob) -> None:
        read_end, write_end = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fleetkit.distributed.shard_child", str(write_end)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                cwd=job.cwd,
                pass_fds=(write_end,),
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self._events: IO[bytes] = os.fdopen(read_end, "rb")
        self._buffer: list[ShardEvent] = []
        self._lock = threading.Lock()
        self.waiting: int | None = None
        """The play the child waits to start, until go() lets it."""
        self.outcome: tuple[str, Any] | None = None
        self.finished = threading.Event()
        self._reader = threading.Thread(target=self._read, name="fk-shard-events", daemon=True)
        self._reader.start()
        stdin = self.proc.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died at once: its exit says why
            write_frame(stdin, ChildJob.of(job))
        # stdin stays open for "go" frames; its end of file tells the child this worker is gone

    def _read(self) -> None:
        try:
            while True:
                kind, value = read_frame(self._events)
                if kind == "event":
                    with self._lock:
                        self._buffer.append(value)
                elif kind == "wait":
                    self.waiting = int(value)
                else:
                    self.outcome = (kind, value)
        except Exception:  # EOFError at the end; a torn frame if the child was killed
            pass
        finally:
            self.finished.set()

    def take(self) -> tuple[ShardEvent, ...]:
        with self._lock:
            batch, self._buffer = tuple(self._buffer), []
        return batch

    def go(self, play: int) -> None:
        """Let the child start play."""
        self.waiting = None
        stdin = self.proc.stdin
        assert stdin is not None
        with contextlib.suppress(OSError):  # it is gone: its exit says why
            write_frame(stdin, ("go", play))

    def interrupt(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGINT)

    def close(self) -> None:
        """Release the child: end its stdin, wait for it (killed after STOP_GRACE_S)."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(STOP_GRACE_S)
        self._events.close()


def run_playbook_shard(job: PlaybookShardJob) -> int:
    """Run the shard's plays; returns the number of events sent."""
    distributed = dask()
    worker = distributed.get_worker()
    client = distributed.get_client()
    sender = Sender(client, job.queue_name, job.index)
    where = worker.address if worker.name in (None, "") else str(worker.name)
    if not claim(job.claim_name, client):
        sender.put(REFUSED, f"shard {job.index} started again on {worker.address}: not re-run")
        return 0
    sender.put(STARTED, (worker.address, str(worker.name)))
    stop_thread_profiler(worker)  # the relay's threads start and end here (worker_safety)
    distributed.secede()
    try:
        child = ShardProcess(job)
    except OSError as err:
        why = err.strerror or str(err)
        sender.put(UNUSABLE, f"not run: worker {where} cannot start in {job.cwd}: {why}")
        return 0
    try:
        sent = _relay(job, child, sender, lambda name: event_is_set(client, name))
    except Exception as err:  # a call to the scheduler failed: this worker is cut off
        raise SchedulerLinkLost(f"shard {job.index} on {where}: {err}") from err
    finally:
        child.close()
    outcome = child.outcome
    if outcome is None:
        raise RuntimeError(f"the shard's process ended with exit code {child.proc.returncode}")
    kind, value = outcome
    if kind == "unusable":
        sender.put(UNUSABLE, f"not run: {value} (worker {where})")
    else:
        sender.put(DONE, (sent, bool(value)))
    return sent


def _relay(
    job: PlaybookShardJob, child: ShardProcess, sender: Sender, is_set: Callable[[str], bool]
) -> int:
    """Send the child's events until it ends, let it start each play once the run's gate
    for it is open, and SIGINT it once the run's stop Event is set (is_set: whether the
    scheduler's Event of that name is set)."""
    sent = polls = 0
    asked = False
    while not child.finished.wait(FLUSH_S):
        sent += _send(sender, child.take())
        play = child.waiting
        if play is not None and is_set(job.gate_name(play)):
            child.go(play)
        polls += 1
        if not asked and polls * FLUSH_S >= STOP_POLL_S:
            polls = 0
            if is_set(job.stop_name):
                child.interrupt()
                asked = True
    return sent + _send(sender, child.take())


def _send(sender: Sender, batch: tuple[ShardEvent, ...]) -> int:
    if batch:
        sender.put(EVENTS, batch)
    return len(batch)
