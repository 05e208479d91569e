"""Runs across workers, client side without Dask: shard plans and locality, the cluster
address, result accounting (every host exactly once, lost shards)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from fleetkit.distributed.client import WORKER_LOST, _Tracker
from fleetkit.distributed.config import cluster_address
from fleetkit.distributed.job import DONE, RESULTS, STARTED, step_from, step_tuple
from fleetkit.distributed.shard import WorkerInfo, plan_shards
from fleetkit.errors import UsageError
from fleetkit.inventory.load import load_inventory
from fleetkit.results import RunResult, Status, StepResult

pytestmark = pytest.mark.unit

HOSTS = [f"h{i:02d}" for i in range(40)]
GROUPS = {h: ("dc1",) if i % 2 == 0 else ("dc2",) for i, h in enumerate(HOSTS)}


def test_untagged_workers_share_every_host_once_by_a_stable_hash() -> None:
    workers = [WorkerInfo("tcp://a:1"), WorkerInfo("tcp://b:1"), WorkerInfo("tcp://c:1")]
    plan = plan_shards(HOSTS, GROUPS, workers)
    assert not plan.unplaced and len(plan.shards) == 3
    placed = [h for s in plan.shards for h in s.hosts]
    assert sorted(placed) == sorted(HOSTS)
    assert all(s.group is None and s.workers == () for s in plan.shards)
    assert plan == plan_shards(HOSTS, GROUPS, workers)  # same inventory, same shards


def test_tagged_workers_get_only_their_groups_hosts() -> None:
    workers = [
        WorkerInfo("tcp://a:1", "a", frozenset({"dc1"})),
        WorkerInfo("tcp://b:1", "b", frozenset({"dc2"})),
        WorkerInfo("tcp://c:1", "c", frozenset({"dc2"})),
    ]
    plan = plan_shards(HOSTS, GROUPS, workers)
    by_group: dict[str | None, list[str]] = {}
    for s in plan.shards:
        by_group.setdefault(s.group, []).extend(s.hosts)
        # placed by address on the workers serving the group (no resource unit held)
        serving = tuple(sorted(w.address for w in workers if s.group in w.groups))
        assert s.workers == serving
    assert sorted(by_group["dc1"]) == sorted(h for h in HOSTS if GROUPS[h] == ("dc1",))
    assert sorted(by_group["dc2"]) == sorted(h for h in HOSTS if GROUPS[h] == ("dc2",))
    assert sum(1 for s in plan.shards if s.group == "dc2") == 2  # one shard per dc2 worker
    assert not any(s.can_run_on(workers[0]) for s in plan.shards if s.group == "dc2")


def test_hosts_no_worker_serves_are_unplaced_with_a_reason() -> None:
    workers = [WorkerInfo("tcp://a:1", "a", frozenset({"dc1"}))]
    plan = plan_shards(HOSTS, GROUPS, workers)
    assert set(plan.unplaced) == {h for h in HOSTS if GROUPS[h] == ("dc2",)}
    assert "no Dask worker serves this host's groups (dc2)" in plan.unplaced["h01"]
    assert plan_shards(HOSTS, GROUPS, []).unplaced["h00"].startswith("no Dask worker")


def test_untagged_workers_take_the_hosts_of_groups_nobody_tagged() -> None:
    workers = [WorkerInfo("tcp://a:1", "a", frozenset({"dc1"})), WorkerInfo("tcp://z:1", "z")]
    plan = plan_shards(HOSTS, GROUPS, workers)
    assert not plan.unplaced
    (rest,) = [s for s in plan.shards if s.group is None]
    assert rest.workers == ("tcp://z:1",) and not rest.can_run_on(workers[0])


def test_worker_groups_come_from_group_resources() -> None:
    info = {"name": "w1", "resources": {"group-dc1": 1, "GPU": 2, "group-dc2": 0}}
    assert WorkerInfo.from_scheduler("tcp://x:1", info).groups == frozenset({"dc1"})


def test_cluster_address_from_option_env_or_inventory(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text("all:\n  vars:\n    fleetkit_cluster: tcp://sched:8786\n  hosts:\n    a: {}\n")
    inventory = load_inventory(str(inv))
    env = {"FLEETKIT_CLUSTER": "tcp://env:8786"}
    assert cluster_address("tls://opt:8786", env, inventory) == "tls://opt:8786"
    assert cluster_address(None, env, inventory) == "tcp://env:8786"
    assert cluster_address(None, {}, inventory) == "tcp://sched:8786"
    with pytest.raises(UsageError, match="expected a Dask scheduler address"):
        cluster_address("sched:8786", {}, inventory)
    plain = tmp_path / "plain.yml"
    plain.write_text("all:\n  hosts:\n    a: {}\n")
    assert cluster_address(None, {}, load_inventory(str(plain))) is None


class Collect:
    """A reporter that keeps the host results it is given."""

    def __init__(self) -> None:
        self.results: list[StepResult] = []

    def play_start(self, play: str, hosts: Sequence[str]) -> None: ...

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None: ...

    def host_result(self, result: StepResult) -> None:
        self.results.append(result)

    def warning(self, message: str) -> None: ...

    def summary(self, run: RunResult) -> None: ...


def test_a_lost_shard_reports_its_unfinished_hosts_once_and_drops_late_results() -> None:
    workers = [WorkerInfo("tcp://a:1"), WorkerInfo("tcp://b:1")]
    plan = plan_shards(HOSTS, GROUPS, workers)
    reporter = Collect()
    tracker = _Tracker(reporter, "true", plan)
    first, second = plan.shards
    ok = [step_tuple(StepResult(h, "true", Status.OK, rc=0)) for h in first.hosts]
    tracker.handle((STARTED, first.index, ("tcp://a:1", "a")))
    tracker.handle((RESULTS, first.index, tuple(ok[:3])))
    tracker.handle((RESULTS, first.index, tuple(ok[:3])))  # a repeat is not reported again
    tracker.conclude(first.index, WORKER_LOST)
    tracker.handle((RESULTS, first.index, tuple(ok)))  # late: dropped
    tracker.handle((STARTED, second.index, ("tcp://b:1", "b")))
    rest = [step_tuple(StepResult(h, "true", Status.OK, rc=0)) for h in second.hosts]
    tracker.handle((RESULTS, second.index, tuple(rest)))
    tracker.handle((DONE, second.index, len(rest)))
    assert not tracker.open
    hosts = [r.host for r in reporter.results]
    assert sorted(hosts) == sorted(HOSTS) and len(hosts) == len(set(hosts))
    lost = {r.host for r in reporter.results if r.msg == WORKER_LOST}
    assert lost == set(first.hosts[3:])
    assert all(r.status is Status.UNREACHABLE for r in reporter.results if r.host in lost)
    assert tracker.worker_of[second.hosts[0]] == "b"


def test_step_tuples_round_trip() -> None:
    step = StepResult("h", "echo", Status.FAILED, rc=2, stdout="o", stderr="e", msg="m")
    assert step_from(step_tuple(step)) == step


def test_health_verdicts_come_back_in_local_order_and_lost_shards_fail_reachable() -> None:
    from fleetkit.distributed.health import _lost, _ordered
    from fleetkit.distributed.shard import ShardPlan
    from fleetkit.monitoring.health import CheckResult, HealthReport

    hosts = ["a", "b", "c", "d"]
    shard0 = [CheckResult("c", "reachable", True), CheckResult("a", "reachable", True)]
    shard0 += [CheckResult("m", "service:web", True), CheckResult("a", "load", True)]
    lost = _lost(ShardPlan(1, ("b",)), WORKER_LOST)
    got = _ordered(
        hosts, {"d": "no Dask worker serves this host's groups (x)"}, {0: shard0, 1: lost}
    )
    assert [(r.host, r.check) for r in got] == [
        ("a", "reachable"),
        ("a", "load"),
        ("b", "reachable"),
        ("c", "reachable"),
        ("d", "reachable"),
        ("m", "service:web"),
    ]
    report = HealthReport(tuple(got), tuple(hosts), 0.1, 0.0)
    assert set(report.unreachable) == {"b", "d"} and report.exit_code() == 3
    assert got[2].msg == WORKER_LOST
