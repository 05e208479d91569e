"""Fakes for the orchestrator tests: a FakeSwarm, instant waits, module contexts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from fleetkit.modules.args import prepare
from fleetkit.modules.base import Module, ModuleContext
from fleetkit.orchestrators.base import WaitOptions
from fleetkit.orchestrators.convergence import WaitPolicy
from fleetkit.orchestrators.swarm_nodes import init, join
from fleetkit.orchestrators.swarm_settle import Settle
from fleetkit.testing.fake_connection import FakeConnection
from fleetkit.testing.fake_swarm import FakeSwarm

V1 = "198.18.0.1:5000/fleetkit/web:v1"
V2 = "198.18.0.1:5000/fleetkit/web:v2"
BAD = "198.18.0.1:5000/fleetkit/web:bad"
HOSTS = ("lab1", "lab2", "lab3")

# no sleeping in unit tests: the fake swarm advances one step per poll
FAST = WaitOptions(policy=WaitPolicy(timeout_s=1e9, first_interval_s=0.0, max_interval_s=0.0))

# what an engine answers while the swarm settles (swarm_settle)
DEADLINE = "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
NO_LEADER = (
    "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too"
    " few managers are online. Make sure more than half of the managers are online."
)


class Clock:
    """A clock that moves only when slept on (so retries cost no real time)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def settle(self, timeout_s: float, notes: list[str]) -> Settle:
        """A Settle on this clock, its notices appended to notes."""
        return Settle(timeout_s=timeout_s, clock=self, sleep=self.sleep, notice=notes.append)


class NoTemplar:
    def render(self, value: Any, variables: Mapping[str, Any]) -> Any:
        return value

    def evaluate(self, expression: str, variables: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def render_file(self, name: str, variables: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def find_template(self, name: str) -> Path:
        raise NotImplementedError


@pytest.fixture
def swarm() -> FakeSwarm:
    """Three hosts, none in a swarm yet; web:bad exits at once."""
    return FakeSwarm(HOSTS, bad_images=[BAD])


def bootstrap(swarm: FakeSwarm, managers: int = 1) -> None:
    """A swarm of len(HOSTS) nodes with the first `managers` hosts as managers."""
    hosts = list(swarm.addresses)
    _, info = init(swarm.engine(hosts[0]), advertise_addr=swarm.addresses[hosts[0]])
    assert info is not None
    for i, host in enumerate(hosts[1:], start=1):
        role = "manager" if i < managers else "worker"
        token = info.tokens.manager if role == "manager" else info.tokens.worker
        join(
            swarm.engine(host),
            token=token,
            remote_addrs=[info.manager_addr],
            role=role,
            advertise_addr=swarm.addresses[host],
        )


@pytest.fixture
def booted(swarm: FakeSwarm) -> FakeSwarm:
    bootstrap(swarm)
    return swarm


ContextMaker = Callable[..., ModuleContext]


@pytest.fixture
def context() -> ContextMaker:
    """ctx(module, host, check=False, variables=None, **args): a validated module context."""

    def make(
        module: Module,
        host: str = "lab1",
        *,
        check: bool = False,
        variables: Mapping[str, Any] | None = None,
        **raw: Any,
    ) -> ModuleContext:
        if "poll_interval" in module.args:
            raw.setdefault("poll_interval", 0.0)
        args, errors = prepare(module, raw)
        assert not errors, errors
        return ModuleContext(
            host=host,
            conn=FakeConnection(host),
            args=args,
            variables={"swarm_progress": False, **(variables or {})},
            templar=NoTemplar(),
            check=check,
        )

    return make
