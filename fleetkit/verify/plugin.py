"""The pytest plugin of a verify worker: the `host` fixture on fleetkit's connection,
and every test's outcome sent on as it finishes.

It replaces testinfra's own plugin (disabled in the worker), whose `host`
fixture would connect by testinfra's backends instead of fleetkit's.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
import testinfra.host

from fleetkit.connection.base import Connection
from fleetkit.errors import ConnectionError
from fleetkit.results import Status
from fleetkit.verify.backend import make_host
from fleetkit.verify.outcomes import HOST_ID, Phase, TestOutcome, judge, task_name

Emit = Callable[[dict[str, Any]], None]


class VerifyPlugin:
    """One host's pytest session: connect after collection, report per test."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        emit: Emit,
        *,
        become: bool = False,
        timeout: float | None = None,
    ) -> None:
        self._connect = connect
        self._emit = emit
        self._become = become
        self._timeout = timeout
        self._host: testinfra.host.Host | None = None
        self._phases: dict[str, list[Phase]] = {}
        self._lost: dict[str, str] = {}
        self.tests = 0

    @property
    def host(self) -> testinfra.host.Host:
        assert self._host is not None, "the host fixture is used only after connecting"
        return self._host

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[PLUGIN_KEY] = self

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "_testinfra_host" in metafunc.fixturenames:
            metafunc.parametrize(
                "_testinfra_host", [HOST_ID], ids=[HOST_ID], indirect=True, scope="module"
            )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._emit({"event": "collect_error", "msg": report.longreprtext})

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """Open the connection once collection succeeded; unreachable: run nothing."""
        if session.testsfailed or not session.items:
            return None  # pytest reports the collection errors / that nothing was found
        self.tests = len(session.items)
        try:
            conn = self._connect()
        except ConnectionError as err:
            self._emit({"event": "unreachable", "msg": str(err)})
            return True
        self._host = make_host(conn, become=self._become, timeout=self._timeout)
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(ConnectionError):
            self._lost[item.nodeid] = str(call.excinfo.value)
            item.session.shouldstop = f"connection lost: {call.excinfo.value}"
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._phases.setdefault(report.nodeid, []).append(_phase(report))

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        phases = self._phases.pop(nodeid, [])
        task = task_name(nodeid)
        if nodeid in self._lost:
            outcome = TestOutcome(task, Status.UNREACHABLE, self._lost[nodeid])
        else:
            outcome = judge(task, phases)
        self._emit({"event": "test", **outcome.to_json()})


def _phase(report: pytest.TestReport) -> Phase:
    xfail = hasattr(report, "wasxfail")
    message = ""
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else report.longreprtext.strip()
        message = message.strip().splitlines()[0] if message.strip() else ""
    elif report.skipped:
        if xfail:
            message = str(report.wasxfail)
        elif isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2]).removeprefix("Skipped: ")
    return Phase(
        when=report.when,
        outcome=report.outcome,
        message=message,
        detail=report.longreprtext if report.failed else "",
        stdout=report.capstdout,
        xfail=xfail,
        duration_s=report.duration,
    )


PLUGIN_KEY = pytest.StashKey[VerifyPlugin]()


def plugin_of(request: pytest.FixtureRequest) -> VerifyPlugin:
    return request.config.stash[PLUGIN_KEY]


@pytest.fixture(scope="module")
def _testinfra_host(request: pytest.FixtureRequest) -> testinfra.host.Host:
    """The inventory host this session verifies (the parameter is only its id)."""
    return plugin_of(request).host


@pytest.fixture(scope="module")
def host(_testinfra_host: testinfra.host.Host) -> testinfra.host.Host:
    """testinfra's Host for this inventory host, over fleetkit's connection."""
    return _testinfra_host
