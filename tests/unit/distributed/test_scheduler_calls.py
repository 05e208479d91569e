"""A shard's calls to the scheduler are bounded (issue 13: on the loaded lab a shard's
Queue put waited forever, holding its hosts' connections and threads, which starved the
worker's next shards): a call the scheduler does not answer fails with SchedulerLinkLost
within SCHEDULER_CALL_S, and host threads adding results never wait for the scheduler.

An in-process Dask cluster (processes=False: inproc transport, no network) whose
scheduler's queue_put / event_is_set handlers are replaced by ones that never answer.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fleetkit.distributed import worker_task
from fleetkit.distributed.job import SchedulerLinkLost
from fleetkit.distributed.worker_task import Sender, event_is_set
from fleetkit.results import Status, StepResult

pytestmark = pytest.mark.unit

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    lc = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    )
    yield lc
    lc.close()


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def never_answering(cluster: Any) -> Iterator[Any]:
    """Make the scheduler's handlers never answer; restored afterwards."""
    handlers = cluster.scheduler.handlers
    saved = dict(handlers)
    release = asyncio.Event()

    async def hang(*args: Any, **kwargs: Any) -> None:
        await release.wait()

    def wedge(*names: str) -> None:
        for name in names:
            handlers[name] = hang

    yield wedge
    handlers.update(saved)
    cluster.scheduler.loop.add_callback(release.set)


def _put_on_worker(queue: str) -> str:
    sender = Sender(distributed.get_client(), queue, 0)
    try:
        sender.put("started", ("w", "w"))
    except SchedulerLinkLost as err:
        return f"lost: {err}"
    return "sent"


def _dask_put_on_worker(queue: str) -> str:
    """What a shard did before: Dask's own Queue.put (no deadline)."""
    distributed.Queue(queue, client=distributed.get_client()).put(("started", 0, None))
    return "sent"


def _is_set_on_worker(name: str) -> str:
    try:
        return str(event_is_set(distributed.get_client(), name))
    except SchedulerLinkLost as err:
        return f"lost: {err}"


def test_calls_are_answered_normally(client: Any) -> None:
    queue = distributed.Queue("fk-test-calls-q", client=client)
    assert client.submit(_put_on_worker, queue.name, pure=False).result(timeout=30) == "sent"
    kind, index, payload = queue.get(timeout=10)
    assert (kind, index, tuple(payload)) == ("started", 0, ("w", "w"))
    distributed.Event("fk-test-calls-e", client=client).set()
    got = client.submit(_is_set_on_worker, "fk-test-calls-e", pure=False).result(timeout=30)
    assert got == "True"


def test_a_put_the_scheduler_never_answers_fails_in_time(
    client: Any, never_answering: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed.Queue("fk-test-hang-q", client=client)
    monkeypatch.setattr(worker_task, "SCHEDULER_CALL_S", 1.0)
    never_answering("queue_put", "event_is_set")
    start = time.monotonic()
    put = client.submit(_put_on_worker, "fk-test-hang-q", pure=False).result(timeout=30)
    is_set = client.submit(_is_set_on_worker, "fk-test-hang-e", pure=False).result(timeout=30)
    assert put.startswith("lost: the Dask scheduler did not answer queue_put within 1s")
    assert is_set.startswith("lost: the Dask scheduler did not answer event_is_set within 1s")
    assert time.monotonic() - start < 15


def test_dask_own_put_has_no_deadline(client: Any, never_answering: Any) -> None:
    """Why the bound is needed: the same wedged handler keeps Dask's Queue.put waiting."""
    distributed.Queue("fk-test-hang-q2", client=client)
    never_answering("queue_put")
    future = client.submit(_dask_put_on_worker, "fk-test-hang-q2", pure=False)
    with pytest.raises(TimeoutError):
        future.result(timeout=3)
    client.cancel(future)


def test_adding_results_never_waits_for_a_put_in_flight() -> None:
    entered, leave = threading.Event(), threading.Event()

    class SlowScheduler:
        def queue_put(self, **kwargs: Any) -> None: ...

    class SlowClient:
        scheduler = SlowScheduler()

        def sync(self, fn: Any, **kwargs: Any) -> None:
            entered.set()
            leave.wait(10)

    sender = Sender(SlowClient(), "q", 0)
    sender.add(StepResult("h1", "true", Status.OK))
    flusher = threading.Thread(target=sender.flush)
    flusher.start()
    assert entered.wait(5)
    added = threading.Thread(target=sender.add, args=(StepResult("h2", "true", Status.OK),))
    added.start()
    added.join(2)
    try:
        assert not added.is_alive(), "add() waited for the scheduler"
    finally:
        leave.set()
        flusher.join(5)
    assert sender.sent == 1
