"""The function a Dask worker runs for one shard: fleetkit's own HostPool and adhoc step.

No second execution engine: the shard opens a HostPool over its hosts' ConnectionSpecs
(key paths resolved on this machine) and runs `command_step` on each, exactly as a
local `fleetkit exec` does, on a thread of its own. Only the Dask task thread talks to
the scheduler (sync calls from other threads of a worker were seen to hang under
load): it sends results to the run's Queue in small batches as they complete and
polls the stop Event. A shard claims itself first (a Dask Event): if the scheduler
starts it a second time, after the worker that ran it died, it refuses and touches no
host, so non-idempotent work is never silently re-run. A stop Event set by the client
(Ctrl-C) closes the pool: no further host starts.

Every call to the scheduler from a shard is bounded (SCHEDULER_CALL_S): Dask's own
sync calls have no deadline, and on the loaded lab a shard's Queue put was seen
waiting forever (its worker's event loop and hundreds of host threads fighting over
the GIL), holding the shard's connections and threads, which starved the next shards
of that worker in turn. A call that misses the deadline raises SchedulerLinkLost: the
shard closes its pool and the client reports its unfinished hosts worker-lost.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fleetkit.connection.factory import ConnectionFactory
from fleetkit.distributed.dask_api import dask
from fleetkit.distributed.job import (
    DONE,
    REFUSED,
    RESULTS,
    STARTED,
    Message,
    SchedulerLinkLost,
    ShardJob,
    StepTuple,
    step_tuple,
)
from fleetkit.distributed.worker_safety import stop_thread_profiler
from fleetkit.executor.adhoc import command_step
from fleetkit.executor.pool import HostPool, default_forks
from fleetkit.results import StepResult

FLUSH_S = 0.05  # results wait at most this long on the worker before being sent
STOP_POLL_S = 0.5
SCHEDULER_CALL_S = 30.0  # a shard's call to the scheduler fails after this long


def scheduler_call(client: Any, method: str, **kwargs: Any) -> Any:
    """One call to the scheduler's handler `method`, failing with SchedulerLinkLost when
    it has not answered within SCHEDULER_CALL_S (or the link broke)."""
    try:
        return client.sync(
            getattr(client.scheduler, method), callback_timeout=SCHEDULER_CALL_S, **kwargs
        )
    except (OSError, TimeoutError) as err:
        raise SchedulerLinkLost(
            f"the Dask scheduler did not answer {method} within {SCHEDULER_CALL_S:g}s: {err!r}"
        ) from err


def event_is_set(client: Any, name: str) -> bool:
    """Whether the scheduler's Event name is set (a bounded distributed.Event.is_set)."""
    return bool(scheduler_call(client, "event_is_set", name=name))


class Sender:
    """Batches result tuples onto the run's queue (one scheduler message per batch).

    add() only appends under a lock, so host threads never wait for the scheduler;
    put() and flush() are called from the Dask task thread alone.
    """

    def __init__(self, client: Any, queue: str, index: int) -> None:
        self._client = client
        self._queue = queue
        self._index = index
        self._buffer: list[StepTuple] = []
        self._lock = threading.Lock()
        self.sent = 0

    def put(self, kind: str, payload: Any) -> None:
        message: Message = (kind, self._index, payload)
        scheduler_call(self._client, "queue_put", name=self._queue, data=message)

    def add(self, step: StepResult) -> None:
        with self._lock:
            self._buffer.append(step_tuple(step))

    def flush(self) -> None:
        with self._lock:
            batch, self._buffer = tuple(self._buffer), []
        if batch:
            self.sent += len(batch)
            self.put(RESULTS, batch)


def claim(name: str, client: Any) -> bool:
    """True the first time this is asked for name on the scheduler; False after.

    A Dask Event under a Lock: `is_set` answers without an error. (A Variable's
    `get(timeout=0)` did too, but the scheduler logged a TimeoutError traceback at
    ERROR for every first start.)
    """
    distributed = dask()
    lock = distributed.Lock(f"{name}-lock")
    if not lock.acquire(timeout=SCHEDULER_CALL_S):
        raise SchedulerLinkLost(f"the claim lock {name} was not granted in {SCHEDULER_CALL_S:g}s")
    try:
        if event_is_set(client, name):
            return False
        scheduler_call(client, "event_set", name=name)
        return True
    finally:
        lock.release()


def run_shard(job: ShardJob) -> int:
    """Run the job's command on its hosts; returns the number of results sent."""
    distributed = dask()
    worker = distributed.get_worker()
    client = distributed.get_client()
    sender = Sender(client, job.queue_name, job.index)
    if not claim(job.claim_name, client):
        sender.put(REFUSED, f"shard {job.index} started again on {worker.address}: not re-run")
        return 0
    sender.put(STARTED, (worker.address, str(worker.name)))
    stop_thread_profiler(worker)  # before the first SSH thread (see worker_safety)
    finished = threading.Event()
    failure: list[BaseException] = []
    factory = ConnectionFactory(dict(job.specs))
    pool = HostPool(factory, job.forks or default_forks(len(job.hosts)))

    def work() -> None:  # the hosts, on fleetkit's pool; no Dask call from this thread
        try:
            pool.map(
                job.hosts,
                job.command,
                lambda h, c: command_step(
                    h, c, job.command, timeout=job.timeout, become=job.become
                ),
                sender.add,
            )
        except BaseException as err:  # reported by the task thread below
            failure.append(err)
        finally:
            finished.set()

    runner = threading.Thread(target=work, name="fk-shard-hosts", daemon=True)
    runner.start()
    # Only this (Dask's task) thread talks to the scheduler: batches out, the stop Event in.
    last_poll = time.monotonic()
    try:
        while not finished.wait(FLUSH_S):
            sender.flush()
            now = time.monotonic()
            if now - last_poll >= STOP_POLL_S:
                last_poll = now
                if event_is_set(client, job.stop_name):
                    pool.close()
                    finished.wait(STOP_POLL_S)
                    return sender.sent
    finally:
        pool.close()
    runner.join()
    if failure:
        raise failure[0]
    sender.flush()
    sender.put(DONE, sender.sent)
    return sender.sent
