"""A shard's claim on the scheduler: true once, false on a re-run, and no ERROR traceback
in the scheduler's log (a Variable's get(timeout=0) logged one per shard start; issue 13).

An in-process Dask cluster (processes=False: inproc transport, no network).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from fleetkit.distributed.worker_task import claim

pytestmark = pytest.mark.unit

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _on_worker(name: str) -> bool:
    return claim(name, distributed.get_client())


def test_a_claim_is_granted_once_and_refused_after(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="distributed"):
        first = client.submit(_on_worker, "fk-test-claim", pure=False).result(timeout=30)
        again = client.submit(_on_worker, "fk-test-claim", pure=False).result(timeout=30)
        other = client.submit(_on_worker, "fk-test-claim-2", pure=False).result(timeout=30)
    assert (first, again, other) == (True, False, True)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def test_a_cleared_claim_can_be_claimed_again(client: Any) -> None:
    assert client.submit(_on_worker, "fk-test-claim-3", pure=False).result(timeout=30)
    distributed.Event("fk-test-claim-3", client=client).clear()
    assert client.submit(_on_worker, "fk-test-claim-3", pure=False).result(timeout=30)
