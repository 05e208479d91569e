"""Many connections through one factory at once never crash, and a crash is one host's.

Before the fix Fabric's Connection.__init__ wrote `inline_ssh_env` into the run's
shared Config, whose re-merge empties it for a moment, and another thread reading
`authentication` (or `gateway`) raised AttributeError: here 116 of 200 threads
failed, with a fast thread switch interval to make the window wide.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetkit.connection.base import CommandResult, Connection
from fleetkit.connection.factory import ConnectionFactory
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.executor.adhoc import run_adhoc
from fleetkit.executor.pool import HostPool
from fleetkit.report.console import ConsoleReporter
from fleetkit.results import Status

pytestmark = pytest.mark.unit


@pytest.fixture()
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_concurrent_connections_through_one_factory_never_lose_config_keys(
    tmp_path: Path, fast_switching: None
) -> None:
    names = [f"h{i}" for i in range(100)]
    specs = {
        h: ConnectionSpec(name=h, address="127.0.0.1", port=1, known_hosts=str(tmp_path / "kh"))
        for h in names
    }
    factory = ConnectionFactory(specs)
    errors: list[str] = []

    def work(host: str) -> None:
        try:
            fab = factory(host).fabric  # type: ignore[attr-defined]
            for _ in range(30):  # what open() reads while other threads construct
                assert fab.authentication is not None
                assert fab.config.gateway is None or fab.config.gateway
        except Exception as err:
            errors.append(repr(err))

    threads = [threading.Thread(target=work, args=(h,)) for h in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


class _Conn(Connection):
    def open(self) -> None:
        pass

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        if self.name == "buggy":
            raise AttributeError("No attribute or config key found for 'authentication'")
        return CommandResult(0, "hi\n", "", 0.01)

    def close(self) -> None:
        pass


def test_an_unexpected_exception_is_that_hosts_failure_and_the_run_has_its_recap() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(out)
    with HostPool(_Conn, 4) as pool:
        result = run_adhoc(pool, ["a", "buggy", "b"], "echo hi", reporter)
    reporter.summary(result)
    steps = {s.host: s for s in result.steps}
    assert steps["a"].status is Status.OK and steps["b"].status is Status.OK
    assert steps["buggy"].status is Status.FAILED
    assert "internal error: AttributeError" in steps["buggy"].msg
    assert result.exit_code() == 1
    text = out.getvalue()
    assert "RECAP" in text and "buggy" in text.split("RECAP", 1)[1]
