"""Fixtures for the monitoring unit tests: HostPools over fake connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from fleetkit.executor.pool import HostPool
from fleetkit.testing.fake_connection import FakeConnection

FakeFleet = Callable[[dict[str, FakeConnection]], HostPool]


@pytest.fixture
def fake_fleet() -> Iterator[FakeFleet]:
    """A HostPool over the given fake connections; every pool is closed after the test."""
    pools: list[HostPool] = []

    def make(conns: dict[str, FakeConnection]) -> HostPool:
        pool = HostPool(lambda h: conns[h], max(1, len(conns)))
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
