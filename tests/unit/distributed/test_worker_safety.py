"""A shard stops its Dask worker's thread profiler where CPython can deadlock in
sys._current_frames() (gh-106883: before 3.12), before it starts any SSH thread."""

from __future__ import annotations

import pytest

from fleetkit.distributed.worker_safety import (
    deadlock_prone,
    profiler_running,
    stop_thread_profiler,
)

pytestmark = pytest.mark.unit

distributed = pytest.importorskip("distributed")


def test_only_interpreters_before_3_12_are_prone() -> None:
    assert deadlock_prone((3, 11)) and not deadlock_prone((3, 12))


def _stop(prone: bool) -> bool:
    return stop_thread_profiler(distributed.get_worker(), prone=prone)


def test_the_workers_profiler_is_stopped_once_and_stays_stopped() -> None:
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
        ) as lc,
        distributed.Client(lc, set_as_default=False) as client,
    ):
        (worker,) = lc.workers.values()
        profiler = [worker.periodic_callbacks[n] for n in ("profile", "profile-cycle")]
        assert all(pc.is_running() for pc in profiler)
        assert client.submit(_stop, False, pure=False).result() is False  # 3.12+: left alone
        assert all(pc.is_running() for pc in profiler)
        assert client.submit(_stop, True, pure=False).result() is True
        assert not any(pc.is_running() for pc in profiler)
        assert client.run(profiler_running) == {worker.address: False}
        assert client.submit(_stop, True, pure=False).result() is False  # already stopped
