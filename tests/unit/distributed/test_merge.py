"""The merge of shard event streams into one local-looking report, and the play gate:
pure, no Dask (events are fed by hand, in the orders shards can send them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from fleetkit.distributed.merge import CLUSTER_TASK, Merger, PlayInfo
from fleetkit.distributed.run_client import PlayGate
from fleetkit.distributed.run_job import PLAY, RESULT, TASK, result_tuple
from fleetkit.results import RunResult, Status, StepResult

pytestmark = pytest.mark.unit

PLAYS = [PlayInfo("p0", ("a1", "a2", "b1")), PlayInfo("p1", ("a1",)), PlayInfo("p2", ("b1",))]


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[Any, ...]] = []

    def play_start(self, play: str, hosts: Sequence[str]) -> None:
        self.lines.append(("PLAY", play, tuple(hosts)))

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None:
        self.lines.append(("TASK", task, tuple(hosts)))

    def host_result(self, result: StepResult) -> None:
        self.lines.append((result.host, result.task, str(result.status), result.msg))

    def warning(self, message: str) -> None:
        self.lines.append(("warning", message))

    def summary(self, run: RunResult) -> None:
        """Not part of the merge."""


def ok(host: str, task: str, status: Status = Status.OK) -> tuple[Any, ...]:
    return (RESULT, result_tuple(StepResult(host, task, status)))


def merger(*shards: tuple[int, Sequence[tuple[int, tuple[str, ...]]]]) -> tuple[Merger, Recorder]:
    out = Recorder()
    m = Merger(out, PLAYS)
    for index, plays in shards:
        m.add_shard(index, plays)
    return m, out


A = (0, [(0, ("a1", "a2")), (1, ("a1",))])
B = (1, [(0, ("b1",)), (2, ("b1",))])


def test_a_block_only_one_shard_takes_comes_in_its_place_and_shared_ones_once() -> None:
    m, out = merger(A, B)
    m.feed(1, [(PLAY, 0, "p0", ("b1",)), (TASK, 0, "p0", "t1", ("b1",)), ok("b1", "t1")])
    assert out.lines == []  # shard 0 not heard from: its first block may come first
    m.feed(0, [(PLAY, 0, "p0", ("a1", "a2")), (TASK, 0, "p0", "t1", ("a1", "a2"))])
    m.feed(0, [ok("a1", "t1", Status.FAILED), ok("a2", "t1")])
    m.feed(1, [(TASK, 0, "p0", "t2", ("b1",)), ok("b1", "t2")])  # b1 is ahead
    m.feed(0, [(TASK, 0, "p0", "rescue", ("a1",)), ok("a1", "rescue")])
    # shard 1 is at t2, shard 0 at its rescue: which comes first is not known yet
    assert out.lines[-1] == ("a2", "t1", "ok", "")
    m.feed(0, [(TASK, 0, "p0", "t2", ("a1", "a2")), ok("a1", "t2"), ok("a2", "t2")])
    m.finish(0)
    m.finish(1)
    m.drain()
    headers = [line for line in out.lines if line[0] in ("PLAY", "TASK", "warning")]
    assert headers == [
        ("PLAY", "p0", ("a1", "a2", "b1")),
        ("TASK", "t1", ("a1", "a2", "b1")),
        ("TASK", "rescue", ("a1",)),
        ("TASK", "t2", ("a1", "a2", "b1")),
        ("warning", "play 'p1': no hosts left to run on, skipped"),
        ("warning", "play 'p2': no hosts left to run on, skipped"),
    ]
    assert len(m.steps) == 7


def test_a_lost_shard_that_sent_nothing_reports_each_host_once_under_the_clusters_task() -> None:
    m, out = merger(A, B)
    m.feed(1, [(PLAY, 0, "p0", ("b1",)), (TASK, 0, "p0", "t1", ("b1",)), ok("b1", "t1")])
    m.lose(0, "state unknown: worker lost")
    m.lose(0, "again")  # a shard is concluded once
    m.finish(1)
    m.drain()
    lost = [
        line
        for line in out.lines
        if line[1:] == (CLUSTER_TASK, "unreachable", "state unknown: worker lost")
    ]
    assert sorted(line[0] for line in lost) == ["a1", "a2"]
    assert out.lines[0] == ("PLAY", "p0", ("a1", "a2", "b1"))
    assert ("warning", "play 'p1': no hosts left to run on, skipped") in out.lines


def test_a_lost_shards_failed_hosts_are_not_reported_again() -> None:
    m, out = merger(A, B)
    m.feed(0, [(PLAY, 0, "p0", ("a1", "a2")), (TASK, 0, "p0", "t1", ("a1", "a2"))])
    m.feed(0, [ok("a1", "t1", Status.FAILED)])
    m.lose(0, "state unknown: worker lost")
    m.finish(1)
    m.drain()
    assert [line[0] for line in out.lines if line[-1] == "state unknown: worker lost"] == ["a2"]


def test_late_events_of_a_concluded_shard_are_dropped() -> None:
    m, out = merger(A)
    m.lose(0, "lost")
    m.feed(0, [(PLAY, 0, "p0", ("a1", "a2")), (TASK, 0, "p0", "t1", ("a1",)), ok("a1", "t1")])
    m.drain()
    assert [line for line in out.lines if line[1] == "t1"] == []


def test_hosts_placed_nowhere_are_unreachable_in_their_first_play() -> None:
    m, out = merger(A)
    m.placed_nowhere(-1, {"b1": "no Dask worker serves this host's groups (dc2)"})
    m.feed(0, [(PLAY, 0, "p0", ("a1", "a2")), (TASK, 0, "p0", "t1", ("a1", "a2"))])
    m.feed(0, [ok("a1", "t1"), ok("a2", "t1")])
    m.finish(0)
    m.drain()
    assert out.lines[0] == ("PLAY", "p0", ("a1", "a2", "b1"))
    assert (
        "b1",
        CLUSTER_TASK,
        "unreachable",
        "no Dask worker serves this host's groups (dc2)",
    ) in (out.lines)


def test_the_play_gate_opens_a_play_once_every_shard_is_done_with_the_earlier_ones() -> None:
    opened: list[int] = []
    gate = PlayGate({0: 0, 1: 2}, 4, opened.append)
    assert opened == [0]  # shard 1 has nothing before play 2: only shard 0 holds play 1
    gate.reached(0, 1)
    assert opened == [0, 1]
    gate.reached(0, 3)  # shard 0 waits at play 3; shard 1 may start play 2
    assert opened == [0, 1, 2]
    gate.finished(1)
    assert opened == [0, 1, 2, 3]
