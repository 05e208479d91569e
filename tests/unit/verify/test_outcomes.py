"""Outcomes as users see them: node ids without the host, verdicts from pytest phases,
worker events into host results, and the test-path layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import FleetkitError
from fleetkit.results import Status
from fleetkit.verify.job import Layout, VerifyError
from fleetkit.verify.outcomes import Phase, judge, task_name
from fleetkit.verify.runner import CONNECT_TASK, HostEvent, _Events

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("nodeid", "task"),
    [
        ("t.py::test_a[@]", "t.py::test_a"),
        ("t.py::test_a[@-nginx]", "t.py::test_a[nginx]"),
        ("t.py::test_a[nginx-@]", "t.py::test_a[nginx]"),
        ("t.py::test_a[1-2]", "t.py::test_a[1-2]"),
        ("t.py::test_plain", "t.py::test_plain"),
        ("t.py::TestX::test_m[@]", "t.py::TestX::test_m"),
    ],
)
def test_task_name_drops_only_the_host_parameter(nodeid: str, task: str) -> None:
    assert task_name(nodeid) == task


def test_a_failed_teardown_fails_a_passed_test() -> None:
    out = judge(
        "t",
        [
            Phase("setup", "passed"),
            Phase("call", "passed"),
            Phase("teardown", "failed", "boom", "trace"),
        ],
    )
    assert (out.status, out.msg, out.stderr) == (Status.FAILED, "error in teardown: boom", "trace")


def test_xfail_counts_as_skipped_with_its_reason() -> None:
    out = judge("t", [Phase("setup", "passed"), Phase("call", "skipped", "flaky", xfail=True)])
    assert (out.status, out.msg) == (Status.SKIPPED, "xfail: flaky")


def test_durations_add_up_over_the_phases() -> None:
    out = judge(
        "t", [Phase("setup", "passed", duration_s=0.5), Phase("call", "passed", duration_s=1)]
    )
    assert (out.status, out.duration_s) == (Status.OK, 1.5)


def test_worker_events_become_host_results() -> None:
    gathered = _Events()
    ok = gathered.step(HostEvent("web1", {"event": "test", "task": "t.py::a", "status": "ok"}))
    down = gathered.step(HostEvent("web2", {"event": "unreachable", "msg": "refused"}))
    assert ok is not None and (ok.host, ok.task, ok.status) == ("web1", "t.py::a", Status.OK)
    assert down is not None and (down.task, down.status) == (CONNECT_TASK, Status.UNREACHABLE)
    assert gathered.step(HostEvent("web1", None)) is None


def test_a_crashed_worker_is_a_failed_host_not_a_silent_pass() -> None:
    step = _Events().step(HostEvent("web1", None, "Traceback\nMemoryError", 1))
    assert step is not None and step.status is Status.FAILED
    assert "MemoryError" in step.stderr


def test_collection_errors_and_empty_files_are_gathered_as_bad_input() -> None:
    gathered = _Events()
    assert (
        gathered.step(HostEvent("web1", {"event": "collect_error", "msg": "SyntaxError"})) is None
    )
    assert gathered.step(HostEvent("web2", {"event": "end", "status": 5, "tests": 0})) is None
    assert gathered.collect_errors == ["SyntaxError"] and gathered.empty == ["web2"]


def test_layout_names_tests_relative_to_the_working_directory(tmp_path: Path) -> None:
    tests = tmp_path / "roles" / "web" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_default.py").write_text("")
    layout = Layout.of([Path("roles/web/tests/test_default.py")], tmp_path)
    assert layout.rootdir == str(tmp_path.resolve())
    assert layout.confcutdir == str(tests.resolve())


def test_layout_refuses_missing_and_non_python_files(tmp_path: Path) -> None:
    (tmp_path / "checks.yml").write_text("")
    with pytest.raises(VerifyError, match="no such file"):
        Layout.of([Path("nope.py")], tmp_path)
    with pytest.raises(VerifyError, match="not a Python test file"):
        Layout.of([Path("checks.yml")], tmp_path)
    assert issubclass(VerifyError, FleetkitError) and VerifyError.exit_code == 2


def test_without_testinfra_installed_verify_is_a_clear_bad_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from fleetkit.verify.job import require_testinfra

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "testinfra" else real(name)
    )
    with pytest.raises(VerifyError, match="pytest-testinfra") as err:
        require_testinfra()
    assert err.value.hint == "pip install 'fleetkit[verify]'"
