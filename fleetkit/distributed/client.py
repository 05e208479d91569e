"""The Dask client side of `fleetkit exec --cluster`: shard, submit, stream, account. The
stream loop (stream_shards, over a ShardTracker) and the fault rules are shared with
`run --cluster` (fleetkit.distributed.run_client).

The CLI has already loaded and validated everything. Here the hosts are split into
shards (fleetkit.distributed.shard), one task per shard is submitted with
`retries=0` under its locality restriction, and each host's result is streamed back
through one Dask Queue per run. A Queue (rather than `as_completed` on per-host
futures) keeps one task per shard, so a shard shares one HostPool on its worker and
the scheduler holds N shard tasks, not 100,000 host tasks; results arrive in
batches as they complete, in order per shard, so a shard's DONE message comes
after all of its results.

Faults: a shard whose worker leaves the scheduler (killed, crashed, partitioned)
is concluded at once: its hosts without a result are reported `unreachable` with
msg WORKER_LOST and land in the retry file; late or repeated results are dropped,
so no host is reported twice, and the shard's claim makes a scheduler re-run touch
no host. A scheduler that goes away concludes every open shard with
SCHEDULER_LOST. Ctrl-C sets the run's stop Event (workers close their pools, which
ends running commands) and cancels every shard.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fleetkit.connection.spec import ConnectionSpec
from fleetkit.distributed.dask_api import dask
from fleetkit.distributed.job import (
    DONE,
    REFUSED,
    RESULTS,
    STARTED,
    SchedulerLinkLost,
    ShardJob,
    queue_name,
    step_from,
    stop_name,
)
from fleetkit.distributed.shard import Placement, ShardPlan, WorkerInfo, plan_shards
from fleetkit.errors import ClusterError
from fleetkit.report.base import Reporter
from fleetkit.results import RunResult, Status, StepResult

WORKER_LOST = "state unknown: worker lost"
SCHEDULER_LOST = "state unknown: scheduler lost"
NO_WORKER_LEFT = "no Dask worker left to run this shard (not started: nothing ran)"
CHECK_EVERY_S = 0.25
IDLE_SLEEP_S = 0.02
DONE_GRACE_S = 10.0  # a finished shard task's DONE message must arrive within this


@dataclass(frozen=True)
class ClusterExec:
    """An ad-hoc command to run across a Dask cluster."""

    address: str
    hosts: tuple[str, ...]
    host_groups: Mapping[str, tuple[str, ...]]
    specs: Mapping[str, ConnectionSpec]
    command: str
    timeout: float | None = None
    become: bool = False
    forks: int | None = None


def connect(address: str, timeout: float = 10.0) -> Any:
    """A distributed.Client for address, or a ClusterError saying why not."""
    distributed = dask()
    quiet_dask_logs()
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {err}") from err


def quiet_dask_logs() -> None:
    """The run reports scheduler and worker faults itself (as results and one warning):
    Dask's own client logs (with tracebacks) would only repeat them on stderr."""
    for name in [*logging.root.manager.loggerDict, "distributed"]:
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def workers_of(client: Any) -> list[WorkerInfo]:
    """The workers the scheduler knows now, asked of the scheduler itself.

    Not `Client.scheduler_info()`: it fetches into the client's cached identity and
    returns the cache, which Dask's own refresh (every 2 s, asking for no workers) can
    overwrite in between; under load a run then saw no worker at all and concluded
    every started shard as worker-lost (1 run in ~10 at 500 lab hosts).
    """
    identity = client.sync(client.scheduler.identity, n_workers=-1)
    return [WorkerInfo.from_scheduler(addr, w) for addr, w in identity["workers"].items()]


class ShardTracker(Protocol):
    """What the stream loop needs of a run's accounting (exec's _Tracker, run's)."""

    @property
    def shards(self) -> Mapping[int, ShardPlan]: ...

    @property
    def open(self) -> set[int]:
        """The shards still expected to report."""

    @property
    def started(self) -> Mapping[int, str]:
        """Shard -> the address of the worker that started it."""

    @property
    def finished_at(self) -> dict[int, float]:
        """Shard -> when its task was first seen finished (its DONE may still be queued)."""

    def handle(self, message: Any) -> None: ...

    def conclude(self, index: int, msg: str) -> None:
        """Close a shard that will not report on: its unreported hosts get msg."""


class _Tracker:
    """What has come back per shard; every host is reported exactly once."""

    def __init__(self, reporter: Reporter, task: str, placement: Placement) -> None:
        self.reporter = reporter
        self.task = task
        self.shards = {s.index: s for s in placement.shards}
        self.remaining = {s.index: set(s.hosts) for s in placement.shards}
        self.open = set(self.shards)
        self.started: dict[int, str] = {}
        self.finished_at: dict[int, float] = {}
        self.steps: list[StepResult] = []
        self.seen: set[str] = set()
        self.worker_of: dict[str, str] = {}

    def emit(self, step: StepResult) -> None:
        if step.host in self.seen:
            return
        self.seen.add(step.host)
        self.steps.append(step)
        self.reporter.host_result(step)

    def handle(self, message: Any) -> None:
        kind, index, payload = message
        if index not in self.open:
            return  # a concluded shard: late results are dropped, never reported twice
        if kind == STARTED:
            self.started[index] = str(payload[0])
            for host in self.shards[index].hosts:
                self.worker_of[host] = str(payload[1] or payload[0])
        elif kind == RESULTS:
            for item in payload:
                step = step_from(item)
                if step.host in self.remaining[index]:
                    self.remaining[index].discard(step.host)
                    self.emit(step)
        elif kind == DONE:
            self.conclude(index, WORKER_LOST)  # anything still missing is unknown
        elif kind == REFUSED:
            self.conclude(index, WORKER_LOST)

    def conclude(self, index: int, msg: str) -> None:
        """Close a shard: its hosts without a result are reported unreachable with msg."""
        if index not in self.open:
            return
        self.open.discard(index)
        for host in self.shards[index].hosts:
            if host in self.remaining[index]:
                self.emit(StepResult(host=host, task=self.task, status=Status.UNREACHABLE, msg=msg))
        self.remaining[index].clear()


def run_exec_on_cluster(
    run: ClusterExec,
    reporter: Reporter,
    *,
    client_factory: Callable[[str], Any] = connect,
) -> RunResult:
    """Run the command on every host through the cluster, streaming results to reporter."""
    client = client_factory(run.address)
    start = time.monotonic()
    try:
        return _run(client, run, reporter, start)
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)


def _run(client: Any, run: ClusterExec, reporter: Reporter, start: float) -> RunResult:
    distributed = dask()
    try:
        placement = plan_shards(run.hosts, run.host_groups, workers_of(client))
    except (OSError, TimeoutError) as err:
        raise ClusterError(f"the Dask scheduler at {run.address} did not answer: {err}") from err
    reporter.task_start("", run.command, run.hosts)
    tracker = _Tracker(reporter, run.command, placement)
    for host in run.hosts:
        if host in placement.unplaced:
            tracker.emit(
                StepResult(host, run.command, Status.UNREACHABLE, msg=placement.unplaced[host])
            )
    run_id = uuid.uuid4().hex[:16]
    queue = distributed.Queue(queue_name(run_id), client=client)
    stop = distributed.Event(stop_name(run_id), client=client)
    futures = {s.index: _submit(client, run, run_id, s) for s in placement.shards}
    interrupted = False
    lost_scheduler = False
    try:
        lost_scheduler = stream_shards(client, queue, futures, tracker)
    except KeyboardInterrupt:
        interrupted = True
        cancel(client, stop, futures.values())
    if lost_scheduler:
        reporter.warning(scheduler_lost_warning(run.address))
    elif not interrupted:
        claims = (f"fleetkit-{run_id}-shard-{s.index}-claimed" for s in placement.shards)
        release(client, queue, claims)
    return RunResult(
        steps=tuple(tracker.steps),
        hosts=run.hosts,
        duration_s=time.monotonic() - start,
        interrupted=interrupted,
    )


def _submit(client: Any, run: ClusterExec, run_id: str, shard: ShardPlan) -> Any:
    from fleetkit.distributed.worker_task import run_shard

    job = ShardJob(
        run_id=run_id,
        index=shard.index,
        hosts=shard.hosts,
        specs={h: run.specs[h] for h in shard.hosts},
        command=run.command,
        timeout=run.timeout,
        become=run.become,
        forks=run.forks,
    )
    return client.submit(
        run_shard,
        job,
        key=f"fleetkit-{run_id}-shard-{shard.index}",
        pure=False,
        retries=0,
        workers=list(shard.workers) or None,
        allow_other_workers=False,
    )


def cancel(client: Any, stop: Any, futures: Iterable[Any]) -> None:
    """Ctrl-C: tell every shard to stop (its worker closes its hosts) and cancel its task."""
    with contextlib.suppress(Exception):
        stop.set()
        client.cancel(list(futures), force=True)


def scheduler_lost_warning(address: str) -> str:
    return (
        f"the Dask scheduler at {address} went away mid-run:"
        f" hosts without a result are reported unreachable ({SCHEDULER_LOST})"
    )


def stream_shards(
    client: Any, queue: Any, futures: Mapping[int, Any], tracker: ShardTracker
) -> bool:
    """Drain the queue until every shard is concluded; True if the scheduler went away."""
    last_check = 0.0
    while tracker.open:
        if client.status != "running":
            return _scheduler_lost(tracker)
        try:
            items = queue.get(batch=True)
        except (OSError, TimeoutError):
            return _scheduler_lost(tracker)
        for item in items:
            tracker.handle(item)
        now = time.monotonic()
        if now - last_check >= CHECK_EVERY_S:
            last_check = now
            try:
                _check(client, queue, futures, tracker, now)
            except (OSError, TimeoutError):
                return _scheduler_lost(tracker)
        if not items:
            time.sleep(IDLE_SLEEP_S)
    return False


def _scheduler_lost(tracker: ShardTracker) -> bool:
    for index in sorted(tracker.open):
        tracker.conclude(index, SCHEDULER_LOST)
    return True


def _check(
    client: Any, queue: Any, futures: Mapping[int, Any], tracker: ShardTracker, now: float
) -> None:
    """Conclude shards whose task erred, whose worker left, or that no worker can run."""
    live = workers_of(client)
    addresses = {w.address for w in live}
    for item in queue.get(batch=True):  # what a dying worker sent before it died
        tracker.handle(item)
    for index in sorted(tracker.open):
        future = futures[index]
        status = future.status
        if status in ("error", "lost", "cancelled"):
            tracker.conclude(index, _failure_msg(future))
        elif status == "finished":
            since = tracker.finished_at.setdefault(index, now)
            if now - since > DONE_GRACE_S:
                tracker.conclude(index, WORKER_LOST)
        elif index in tracker.started:
            if tracker.started[index] not in addresses:
                tracker.conclude(index, WORKER_LOST)
                future.cancel()
        elif not any(tracker.shards[index].can_run_on(w) for w in live):
            tracker.conclude(index, NO_WORKER_LEFT)
            future.cancel()


def _failure_msg(future: Any) -> str:
    if future.status != "error":
        return WORKER_LOST
    try:
        exc = future.exception(timeout=1)
    except Exception:  # the error itself could not be fetched
        return WORKER_LOST
    if type(exc).__name__ in ("KilledWorker", SchedulerLinkLost.__name__):
        return WORKER_LOST
    return f"state unknown: the shard failed on its worker: {exc}"


def release(client: Any, queue: Any, claims: Iterable[str]) -> None:
    """Release the run's queue and shard claims on the scheduler (best effort)."""
    event = dask().Event
    with contextlib.suppress(Exception):
        queue.close()
    for name in claims:
        with contextlib.suppress(Exception):
            event(name, client=client).clear()
