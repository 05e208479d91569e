"""Human output: host-prefixed lines, plain text off a terminal, a recap that adds up."""

from __future__ import annotations

import io

import pytest

from fleetkit.report.console import ConsoleReporter
from fleetkit.results import RunResult, Status, StepResult

pytestmark = pytest.mark.unit


def report(*steps: StepResult, retry: str | None = None) -> list[str]:
    out = io.StringIO()
    console = ConsoleReporter(out)
    console.task_start("", "uptime", [s.host for s in steps])
    for step in steps:
        console.host_result(step)
    hosts = tuple(dict.fromkeys(s.host for s in steps))
    console.summary(RunResult(steps=steps, hosts=hosts, duration_s=1.5, retry_file=retry))
    return out.getvalue().splitlines()


def test_off_a_terminal_lines_are_plain_text_prefixed_with_the_host() -> None:
    lines = report(
        StepResult("web1", "uptime", Status.OK, rc=0, stdout="up 3 days\nload 0.1\n"),
        StepResult("db10", "uptime", Status.OK, rc=0, stdout="up 1 day\n"),
    )
    assert not any("\x1b[" in line for line in lines)
    assert "web1 | up 3 days" in lines and "web1 | load 0.1" in lines
    assert "db10 | up 1 day" in lines
    assert lines[0].startswith("web1  ok  ")


def test_stderr_is_shown_for_failures_and_the_rc_is_named() -> None:
    lines = report(
        StepResult("web1", "x", Status.FAILED, rc=2, stdout="partial\n", stderr="boom\n"),
        StepResult("web2", "x", Status.OK, rc=0, stdout="fine\n", stderr="noise\n"),
    )
    assert any(line.startswith("web1  failed  rc=2") for line in lines)
    assert "web1 ! boom" in lines
    assert not any("noise" in line for line in lines)


def test_the_recap_counts_each_status_and_names_the_retry_file() -> None:
    lines = report(
        StepResult("web1", "a", Status.CHANGED),
        StepResult("web1", "b", Status.OK),
        StepResult("web2", "a", Status.UNREACHABLE, msg="timed out"),
        retry=".fleetkit/retry/site.retry",
    )
    recap = lines[lines.index(next(ln for ln in lines if ln.startswith("RECAP"))) + 1 :]
    assert recap[0] == "web1  ok=1  changed=1  failed=0  unreachable=0  skipped=0"
    assert recap[1] == "web2  ok=0  changed=0  failed=0  unreachable=1  skipped=0"
    assert recap[2] == "retry the failed hosts with: --limit @.fleetkit/retry/site.retry"


def test_a_no_log_result_never_shows_its_output() -> None:
    secret = StepResult("web1", "t", Status.OK, rc=0, stdout="token=abc", no_log=True).public()
    lines = report(secret)
    assert not any("abc" in line for line in lines)
    assert any("output hidden" in line for line in lines)
