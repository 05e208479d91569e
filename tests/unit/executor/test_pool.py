"""HostPool and ad-hoc runs on the fake connection: parallelism, timeouts, failures as data."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from fleetkit.executor.adhoc import run_adhoc
from fleetkit.executor.pool import MAX_FORKS, HostPool, default_forks
from fleetkit.report.jsonl import JsonLinesReporter
from fleetkit.results import RunResult, Status, StepResult
from fleetkit.testing.fake_connection import FakeConnection, table

pytestmark = pytest.mark.unit


def make_pool(conns: dict[str, FakeConnection], forks: int | None = None) -> HostPool:
    return HostPool(lambda h: conns[h], forks or len(conns))


def run(
    conns: dict[str, FakeConnection], command: str = "true", **kw: object
) -> tuple[RunResult, list[dict[str, object]]]:
    out = io.StringIO()
    reporter = JsonLinesReporter(out)
    with make_pool(conns) as pool:
        result = run_adhoc(pool, list(conns), command, reporter, **kw)  # type: ignore[arg-type]
    reporter.summary(result)
    return result, [json.loads(line) for line in out.getvalue().splitlines()]


def test_default_forks_is_all_hosts_up_to_the_cap() -> None:
    assert default_forks(3) == 3
    assert default_forks(1000) == MAX_FORKS
    assert default_forks(0) == 1


def test_each_host_answers_on_its_own_connection() -> None:
    conns = {h: FakeConnection(h, lambda c: (0, c.host + "\n", "")) for h in ("a", "b", "c")}
    result, _ = run(conns, "hostname")
    assert {s.host: s.stdout.strip() for s in result.steps} == {"a": "a", "b": "b", "c": "c"}
    assert result.exit_code() == 0
    assert all(c.opened == 1 for c in conns.values())


def test_an_unreachable_host_is_a_result_and_exit_code_3() -> None:
    conns = {"up": FakeConnection("up"), "down": FakeConnection("down", unreachable=True)}
    result, _ = run(conns)
    by_host = {s.host: s.status for s in result.steps}
    assert by_host == {"up": Status.OK, "down": Status.UNREACHABLE}
    assert result.exit_code() == 3


def test_a_failed_host_wins_over_unreachable_for_the_exit_code() -> None:
    conns = {
        "bad": FakeConnection("bad", table({".": (1, "", "boom")})),
        "down": FakeConnection("down", unreachable=True),
    }
    result, _ = run(conns)
    assert result.exit_code() == 1
    assert result.failed_hosts == ("bad",)


def test_a_slow_host_does_not_delay_the_others() -> None:
    seen: list[str] = []
    lock = threading.Lock()
    conns = {
        "slow": FakeConnection("slow", delay=0.5),
        "fast1": FakeConnection("fast1"),
        "fast2": FakeConnection("fast2"),
    }
    out = io.StringIO()

    class Recorder(JsonLinesReporter):
        def host_result(self, result):  # type: ignore[no-untyped-def]
            with lock:
                seen.append(result.host)
            super().host_result(result)

    with make_pool(conns) as pool:
        run_adhoc(pool, list(conns), "x", Recorder(out))
    assert seen[-1] == "slow"
    assert set(seen[:2]) == {"fast1", "fast2"}


def test_a_timeout_cuts_the_command_and_fails_only_that_host() -> None:
    conns = {"hung": FakeConnection("hung", delay=5), "ok": FakeConnection("ok")}
    start = time.monotonic()
    result, _ = run(conns, "sleep 600", timeout=0.2)
    assert time.monotonic() - start < 2
    hung = next(s for s in result.steps if s.host == "hung")
    assert hung.status is Status.FAILED and hung.rc is None
    assert "timed out" in hung.msg
    assert result.exit_code() == 1


def test_forks_bounds_the_hosts_in_flight() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def handler(call: object) -> tuple[int, str, str]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return (0, "", "")

    conns = {f"h{i}": FakeConnection(f"h{i}", handler) for i in range(8)}
    with make_pool(conns, forks=2) as pool:
        run_adhoc(pool, list(conns), "x", JsonLinesReporter(io.StringIO()))
    assert peak == 2


def test_an_unreachable_host_is_not_retried_later_in_the_run() -> None:
    down = FakeConnection("down", unreachable=True, connect_delay=0.01)
    calls = 0

    def factory(host: str) -> FakeConnection:
        nonlocal calls
        calls += 1
        return down

    with HostPool(factory, 1) as pool:
        for _ in range(3):
            results = pool.map(["down"], "t", lambda h, c: pytest.fail("must not run"))
            assert results[0].status is Status.UNREACHABLE
    assert calls == 1


def test_json_lines_follow_the_output_contract() -> None:
    conns = {"a": FakeConnection("a", table({"uptime": (0, "up 1 day\n", "")}))}
    _, events = run(conns, "uptime")
    assert [e["event"] for e in events] == ["task_start", "host_result", "summary"]
    assert events[0] == {"event": "task_start", "play": "", "task": "uptime", "hosts": ["a"]}
    hr = events[1]
    assert set(hr) == {
        "event",
        "host",
        "task",
        "status",
        "rc",
        "stdout",
        "stderr",
        "msg",
        "duration_s",
    }
    assert hr["status"] == "ok" and hr["rc"] == 0 and hr["stdout"] == "up 1 day\n"
    summary = events[2]
    assert summary["hosts"] == {
        "a": {"ok": 1, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0}
    }
    assert summary["retry_file"] is None
    assert isinstance(summary["duration_s"], float)


def test_closing_the_pool_closes_its_factory_after_the_connections() -> None:
    order: list[str] = []

    class Conn(FakeConnection):
        def close(self) -> None:
            order.append(f"conn {self.name}")
            super().close()

    class Factory:
        def __call__(self, host: str) -> FakeConnection:
            return Conn(host)

        def close(self) -> None:
            order.append("factory")

    with HostPool(Factory(), 2) as pool:
        pool.map(["a"], "t", lambda h, c: run_step(h))
    assert order == ["conn a", "factory"]


def run_step(host: str) -> StepResult:
    return StepResult(host=host, task="t", status=Status.OK)
