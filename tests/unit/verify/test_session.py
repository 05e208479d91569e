"""One host's pytest session in-process on a fake connection: per-test outcomes,
collection errors before any connection, unreachable hosts, lost connections."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from fleetkit.connection.base import Connection
from fleetkit.errors import ConnectionError
from fleetkit.testing.fake_connection import FakeCall, FakeConnection
from fleetkit.verify.job import Layout
from fleetkit.verify.session import run_session

pytestmark = pytest.mark.unit

TESTS = """
import pytest

def test_hostname(host):
    assert host.check_output("hostname") == "web1"

def test_wrong(host):
    assert host.check_output("hostname") == "web2"

@pytest.mark.parametrize("path", ["/etc", "/srv"])
def test_run(host, path):
    assert host.run("ls %s", path).rc == 0

def test_skipped(host):
    pytest.skip("not here")

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_setup_error(host, broken):
    pass

def test_no_host_needed():
    print("plain output")
"""


def answer(call: FakeCall) -> tuple[int, str, str]:
    if call.command == "hostname":
        return 0, "web1\n", ""
    if call.command == "ls /srv":
        return 2, "", "ls: /srv: No such file"
    return 0, "", ""


def session(tmp_path: Path, source: str, connect: Any) -> tuple[list[dict[str, Any]], int]:
    # A file name of its own per test: in one process pytest's importlib mode would
    # reuse an earlier test's module of the same name (a worker runs one session).
    path = tmp_path / f"test_web_{tmp_path.name}.py"
    path.write_text(textwrap.dedent(source))
    events: list[dict[str, Any]] = []
    status = run_session(Layout.of([path], tmp_path), connect, events.append)
    return events, status


def test_each_test_is_one_outcome_named_without_the_host(tmp_path: Path) -> None:
    conn = FakeConnection("web1", answer)
    events, _ = session(tmp_path, TESTS, lambda: conn)
    tests = {e["task"].replace(f"_{tmp_path.name}", ""): e for e in events if e["event"] == "test"}
    assert {k: v["status"] for k, v in tests.items()} == {
        "test_web.py::test_hostname": "ok",
        "test_web.py::test_wrong": "failed",
        "test_web.py::test_run[/etc]": "ok",
        "test_web.py::test_run[/srv]": "failed",
        "test_web.py::test_skipped": "skipped",
        "test_web.py::test_setup_error": "failed",
        "test_web.py::test_no_host_needed": "ok",
    }
    assert "assert 'web1' == 'web2'" in tests["test_web.py::test_wrong"]["msg"]
    assert "def test_wrong(host):" in tests["test_web.py::test_wrong"]["stderr"]
    assert tests["test_web.py::test_skipped"]["msg"] == "not here"
    assert tests["test_web.py::test_setup_error"]["msg"].startswith("error in setup: ")
    assert tests["test_web.py::test_no_host_needed"]["stdout"] == "plain output\n"
    assert events[-1] == {"event": "end", "status": 1, "tests": 7}
    assert "hostname" in conn.commands and "ls /srv" in conn.commands


def test_a_file_that_does_not_import_is_reported_before_connecting(tmp_path: Path) -> None:
    def connect() -> Connection:
        raise AssertionError("must not connect")

    events, status = session(tmp_path, "import no_such_module_here\n", connect)
    errors = [e for e in events if e["event"] == "collect_error"]
    assert len(errors) == 1 and "no_such_module_here" in errors[0]["msg"]
    assert status == 2


def test_an_unreachable_host_runs_no_test(tmp_path: Path) -> None:
    conn = FakeConnection("web1", unreachable=True)

    def connect() -> Connection:
        conn.open()
        return conn

    events, _ = session(tmp_path, TESTS, connect)
    assert [e["event"] for e in events] == ["unreachable", "end"]
    assert "connection refused" in events[0]["msg"]


def test_a_lost_connection_stops_the_host_and_is_unreachable(tmp_path: Path) -> None:
    def lose(call: FakeCall) -> tuple[int, str, str]:
        raise ConnectionError("web1: connection lost: EOF")

    events, _ = session(tmp_path, TESTS, lambda: FakeConnection("web1", lose))
    tests = [e for e in events if e["event"] == "test"]
    assert len(tests) == 1
    assert tests[0]["status"] == "unreachable" and "connection lost" in tests[0]["msg"]


def test_a_repositorys_pytest_settings_do_not_apply(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -m nothing_selected\n")
    events, _ = session(tmp_path, TESTS, lambda: FakeConnection("web1", answer))
    assert len([e for e in events if e["event"] == "test"]) == 7


def test_a_conftest_beside_the_tests_provides_fixtures(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef wanted():\n    return 'web1'\n"
    )
    source = 'def test_x(host, wanted):\n    assert host.check_output("hostname") == wanted\n'
    events, status = session(tmp_path, source, lambda: FakeConnection("web1", answer))
    assert [e["status"] for e in events if e["event"] == "test"] == ["ok"]
    assert status == 0
