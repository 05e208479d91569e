"""The workers a run sees are the scheduler's, even when Dask's periodic identity refresh
(which asks for no workers) lands while they are fetched (issue 13: under load a run saw
no worker and concluded every started shard as worker-lost).

An in-process Dask cluster (processes=False: inproc transport, no network).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fleetkit.distributed.client import workers_of

pytestmark = pytest.mark.unit

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    lc = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    )
    yield lc
    lc.close()


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as c:
        c.wait_for_workers(2, timeout=30)
        yield c


def test_workers_are_listed_when_the_periodic_refresh_lands_in_between(
    cluster: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = client._update_scheduler_info

    async def racing(n_workers: int = 0) -> None:
        await real(n_workers=n_workers)
        await real(n_workers=0)  # Dask's periodic refresh, answered after the fetch

    monkeypatch.setattr(client, "_update_scheduler_info", racing)
    assert {w.address for w in workers_of(client)} == set(cluster.scheduler.workers)
