"""wait_for: backoff, timeout, progress and the API calls a wait costs."""

from __future__ import annotations

from fleetkit.orchestrators.convergence import Observation, Progress, WaitPolicy, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_poll_interval_grows_geometrically_up_to_the_cap() -> None:
    clock = Clock()
    policy = WaitPolicy(timeout_s=100, first_interval_s=0.25, max_interval_s=2.0, backoff=2.0)
    answers = iter([Observation("waiting")] * 6 + [Observation("done", 3, 3, "ok")])
    wait_for(lambda: next(answers), policy, clock=clock.time, sleep=clock.sleep)
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_a_converged_wait_reports_polls_and_api_calls() -> None:
    calls = [0]

    def probe() -> Observation:
        calls[0] += 2
        return Observation("done" if calls[0] >= 6 else "waiting", calls[0], 6, "msg")

    clock = Clock()
    report = wait_for(
        probe, WaitPolicy(), api_calls=lambda: calls[0], clock=clock.time, sleep=clock.sleep
    )
    assert report.converged
    assert (report.polls, report.api_calls) == (3, 6)
    assert report.summary().endswith("3 polls, 6 API calls")


def test_a_failed_observation_ends_the_wait_at_once_with_its_reason() -> None:
    clock = Clock()
    report = wait_for(
        lambda: Observation("failed", message="tasks keep failing"),
        WaitPolicy(),
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert not report.converged and not report.timed_out
    assert report.reason == "tasks keep failing"
    assert clock.sleeps == []


def test_the_wait_gives_up_at_the_timeout_and_never_sleeps_past_it() -> None:
    clock = Clock()
    policy = WaitPolicy(timeout_s=5.0, first_interval_s=1.0, max_interval_s=4.0, backoff=2.0)
    report = wait_for(
        lambda: Observation("waiting", 1, 3, "1/3 running"),
        policy,
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert report.timed_out and not report.converged
    assert "not converged after 5s: 1/3 running" in report.reason
    assert clock.now == 5.0
    assert clock.sleeps == [1.0, 2.0, 2.0]


def test_progress_is_called_every_poll_and_marks_the_last_one_finished() -> None:
    seen: list[Progress] = []
    answers = iter([Observation("waiting", 1, 2, "1/2"), Observation("done", 2, 2, "2/2")])
    clock = Clock()
    wait_for(
        lambda: next(answers),
        WaitPolicy(),
        label="web",
        progress=seen.append,
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert [(p.label, p.done, p.wanted, p.finished) for p in seen] == [
        ("web", 1, 2, False),
        ("web", 2, 2, True),
    ]
