"""SwarmOrchestrator on a FakeSwarm: honest changed, convergence, rollbacks as failures."""

from __future__ import annotations

import pytest

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Port, ServiceSpec, UpdatePolicy, WaitOptions
from fleetkit.orchestrators.convergence import WaitPolicy
from fleetkit.orchestrators.swarm import SwarmOrchestrator
from fleetkit.testing.fake_swarm import FakeSwarm

from .conftest import BAD, FAST, V1, V2

ROLLING = UpdatePolicy(parallelism=2, failure_action="rollback", order="start-first")


def web(swarm: FakeSwarm, **fields: object) -> SwarmOrchestrator:
    orch = SwarmOrchestrator(swarm.engine("lab1"))
    spec = ServiceSpec("web", image=V1, replicas=3, update_config=ROLLING)
    change = orch.deploy(spec, FAST)
    assert change.changed and not change.failed, change.message
    return orch


def images(swarm: FakeSwarm) -> set[str]:
    sid = next(iter(swarm.services))
    return {t["Spec"]["ContainerSpec"]["Image"] for t in swarm.live(sid)}


def test_deploy_creates_and_waits_until_every_replica_runs(booted: FakeSwarm) -> None:
    orch = SwarmOrchestrator(booted.engine("lab1"))
    change = orch.deploy(ServiceSpec("web", image=V1, replicas=3), FAST)
    assert change.changed and not change.failed
    assert change.status is not None and (change.status.running, change.status.desired) == (3, 3)
    assert sorted(change.status.per_node) == ["lab1", "lab2", "lab3"]
    assert change.wait is not None and change.wait.converged


def test_a_second_deploy_with_the_same_arguments_changes_nothing(booted: FakeSwarm) -> None:
    orch = web(booted)
    again = orch.deploy(ServiceSpec("web", image=V1, replicas=3, update_config=ROLLING), FAST)
    assert not again.changed and not again.failed
    assert again.wait is not None and again.wait.polls == 1


def test_check_mode_predicts_without_touching_the_service(booted: FakeSwarm) -> None:
    orch = web(booted)
    change = orch.deploy(ServiceSpec("web", image=V2), FAST, check=True)
    assert change.changed and change.fields == ("image",)
    assert images(booted) == {V1}


def test_scale_to_twelve_spreads_tasks_over_every_node(booted: FakeSwarm) -> None:
    orch = web(booted)
    change = orch.scale("web", 12, FAST)
    assert change.changed and change.fields == ("replicas",)
    assert change.status is not None and change.status.per_node == {"lab1": 4, "lab2": 4, "lab3": 4}


def test_scale_to_zero_is_allowed(booted: FakeSwarm) -> None:
    change = web(booted).scale("web", 0, FAST)
    assert change.changed and not change.failed
    assert change.status is not None and change.status.running == 0


def test_scaling_a_missing_service_is_an_error(booted: FakeSwarm) -> None:
    with pytest.raises(OrchestratorError, match="does not exist"):
        SwarmOrchestrator(booted.engine("lab1")).scale("nope", 2, FAST)


def test_a_rolling_update_ends_with_every_task_on_the_new_image(booted: FakeSwarm) -> None:
    orch = web(booted)
    orch.scale("web", 6, FAST)
    change = orch.update(ServiceSpec("web", image=V2), FAST)
    assert change.changed and not change.failed, change.message
    assert images(booted) == {V2}
    assert change.status is not None and change.status.image == V2


def test_an_update_the_engine_rolls_back_is_a_failed_deploy_with_the_reason(
    booted: FakeSwarm,
) -> None:
    orch = web(booted)
    change = orch.update(ServiceSpec("web", image=BAD), FAST)
    assert change.failed and change.changed
    assert "failed and the engine rolled back to " + V1 in change.message
    assert "non-zero exit (1)" in change.message
    assert images(booted) == {V1}


def test_an_engine_rollback_is_a_failure_even_when_its_update_status_says_completed(
    booted: FakeSwarm, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch = web(booted)
    on_failure = booted._on_failure

    def lagging_status(service: dict[str, object], task: dict[str, object]) -> None:
        on_failure(service, task)  # the engine puts the old spec back ...
        status = service.get("UpdateStatus")
        if isinstance(status, dict) and status.get("State") == "rollback_started":
            status["State"] = "completed"  # ... but its status does not say rollback

    monkeypatch.setattr(booted, "_on_failure", lagging_status)
    change = orch.update(ServiceSpec("web", image=BAD), FAST)
    assert change.failed and change.changed, change.message
    assert "failed and the engine rolled back to " + V1 in change.message
    assert images(booted) == {V1}


def test_an_update_paused_by_the_engine_fails(booted: FakeSwarm) -> None:
    orch = web(booted)
    pause = UpdatePolicy(failure_action="pause")
    change = orch.update(ServiceSpec("web", image=BAD, update_config=pause), FAST)
    assert change.failed and "update paused" in change.message


def test_a_new_service_whose_tasks_keep_failing_fails_before_the_timeout(
    booted: FakeSwarm,
) -> None:
    orch = SwarmOrchestrator(booted.engine("lab1"))
    change = orch.deploy(ServiceSpec("bad", image=BAD, replicas=2), FAST)
    assert change.failed and "keep failing" in change.message
    assert change.wait is not None and not change.wait.timed_out


def test_a_slow_service_times_out_with_what_it_reached(booted: FakeSwarm) -> None:
    orch = SwarmOrchestrator(booted.engine("lab1"))
    one_poll = WaitOptions(policy=WaitPolicy(timeout_s=0.0, first_interval_s=0.0))
    change = orch.deploy(ServiceSpec("web", image=V1, replicas=12), one_poll)
    assert change.failed and "not converged after 0s" in change.message
    assert change.wait is not None and change.wait.timed_out


def test_not_waiting_returns_right_after_the_change(booted: FakeSwarm) -> None:
    orch = SwarmOrchestrator(booted.engine("lab1"))
    change = orch.deploy(ServiceSpec("web", image=V1, replicas=3), WaitOptions(wait=False))
    assert change.changed and change.wait is None and "not waiting" in change.message


def test_rollback_returns_to_the_previous_image_then_is_a_no_op(booted: FakeSwarm) -> None:
    orch = web(booted)
    orch.update(ServiceSpec("web", image=V2), FAST)
    change = orch.rollback("web", FAST)
    assert change.changed and not change.failed, change.message
    assert images(booted) == {V1}
    again = orch.rollback("web", FAST)
    assert not again.changed and "already rolled back" in again.message


def test_rollback_of_a_new_service_has_nothing_to_do(booted: FakeSwarm) -> None:
    change = web(booted).rollback("web", FAST)
    assert not change.changed and "nothing to roll back" in change.message


def test_a_lost_node_is_reported_down_and_scale_still_converges(booted: FakeSwarm) -> None:
    orch = web(booted)
    booted.stop("lab3")
    change = orch.scale("web", 6, FAST)
    assert not change.failed, change.message
    assert change.status is not None and "lab3" not in change.status.per_node
    status = orch.status()
    assert {n.hostname: n.state for n in status.nodes}["lab3"] == "down"
    assert "nodes not ready: lab3" in status.warnings


def test_remove_is_honest_about_an_absent_service(booted: FakeSwarm) -> None:
    orch = web(booted)
    assert orch.remove("web").changed
    assert not orch.remove("web").changed


def test_each_poll_of_a_scale_costs_one_api_call_plus_one_to_verify(booted: FakeSwarm) -> None:
    orch = web(booted)
    change = orch.scale("web", 12, FAST)
    assert change.wait is not None
    assert change.wait.api_calls <= change.wait.polls + 2


def test_host_mode_ports_give_each_task_an_endpoint(booted: FakeSwarm) -> None:
    orch = SwarmOrchestrator(booted.engine("lab1"))
    spec = ServiceSpec("web", image=V1, replicas=3, ports=(Port(80, mode="host"),))
    change = orch.deploy(spec, FAST)
    assert change.status is not None
    assert len(change.status.endpoints) == 3
    assert {e.address for e in change.status.endpoints} == set(booted.addresses.values())
