"""Membership: init/join idempotence, another swarm is an error, quorum-safe leave, drain."""

from __future__ import annotations

import pytest

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import ServiceSpec
from fleetkit.orchestrators.swarm import SwarmOrchestrator
from fleetkit.orchestrators.swarm_nodes import init, join, leave, remove_node, update_node
from fleetkit.testing.fake_swarm import FakeSwarm

from .conftest import FAST, HOSTS, V1, bootstrap


def test_init_twice_changes_once_and_returns_the_tokens_both_times(swarm: FakeSwarm) -> None:
    first, info1 = init(swarm.engine("lab1"), advertise_addr="198.18.0.2")
    second, info2 = init(swarm.engine("lab1"), advertise_addr="198.18.0.2")
    assert first.changed and not second.changed
    assert info1 is not None and info2 is not None
    assert info1.tokens == info2.tokens and info1.manager_addr == "198.18.0.2:2377"


def test_init_in_check_mode_changes_nothing(swarm: FakeSwarm) -> None:
    change, info = init(swarm.engine("lab1"), advertise_addr="198.18.0.2", check=True)
    assert change.changed and info is None
    assert swarm.state["lab1"] == "inactive"


def test_joining_twice_is_ok_the_second_time(swarm: FakeSwarm) -> None:
    _, info = init(swarm.engine("lab1"), advertise_addr="198.18.0.2")
    assert info is not None
    kwargs = {"remote_addrs": ["198.18.0.2"], "role": "worker", "advertise_addr": "198.18.0.3"}
    assert join(swarm.engine("lab2"), token=info.tokens.worker, **kwargs).changed  # type: ignore[arg-type]
    again = join(swarm.engine("lab2"), token=info.tokens.worker, **kwargs)  # type: ignore[arg-type]
    assert not again.changed and "already a worker" in again.message


def test_a_node_in_another_swarm_is_an_error_and_stays_there() -> None:
    ours = FakeSwarm(["lab1", "lab2"])
    _, info = init(ours.engine("lab1"), advertise_addr="198.18.0.2")
    other, _ = init(ours.engine("lab2"), advertise_addr="198.18.0.3")  # lab2 leads its own
    assert info is not None and other.changed
    with pytest.raises(OrchestratorError, match="another swarm"):
        join(
            ours.engine("lab2"),
            token=info.tokens.worker,
            remote_addrs=["198.18.0.9:2377"],
            role="worker",
            advertise_addr="198.18.0.3",
            cluster_id="some-other-cluster",
        )
    assert ours.is_manager("lab2")


def test_a_worker_asked_to_be_a_manager_is_told_how_to_promote_it(booted: FakeSwarm) -> None:
    with pytest.raises(OrchestratorError, match="is a worker of this swarm") as err:
        join(
            booted.engine("lab2"),
            token=None,
            remote_addrs=["198.18.0.2"],
            role="manager",
            advertise_addr="198.18.0.3",
        )
    assert err.value.hint is not None and "swarm_node" in err.value.hint


def test_a_join_error_never_echoes_the_token(swarm: FakeSwarm) -> None:
    init(swarm.engine("lab1"), advertise_addr="198.18.0.2")
    from fleetkit.orchestrators.base import Secret

    wrong = Secret("SWMTKN-1-wrong-token")
    with pytest.raises(OrchestratorError) as err:
        join(
            swarm.engine("lab2"),
            token=wrong,
            remote_addrs=["198.18.0.2"],
            role="worker",
            advertise_addr="198.18.0.3",
        )
    assert "SWMTKN-1-wrong-token" not in str(err.value)
    assert "********" in str(err.value)


def test_the_last_manager_refuses_to_leave(booted: FakeSwarm) -> None:
    with pytest.raises(OrchestratorError, match="last manager"):
        leave(booted.engine("lab1"))
    assert booted.is_manager("lab1")


def test_a_manager_leaves_after_being_demoted_when_quorum_holds() -> None:
    swarm = FakeSwarm(HOSTS)
    bootstrap(swarm, managers=3)
    change = leave(swarm.engine("lab3"))
    assert change.changed and change.message == "demoted, left the swarm"
    assert swarm.state["lab3"] == "inactive"


def test_leaving_that_would_break_quorum_is_refused() -> None:
    swarm = FakeSwarm(HOSTS)
    bootstrap(swarm, managers=3)
    swarm.stop("lab2")
    with pytest.raises(OrchestratorError, match="break quorum"):
        leave(swarm.engine("lab3"))


def test_a_worker_leaves_and_a_second_leave_is_ok(booted: FakeSwarm) -> None:
    assert leave(booted.engine("lab3")).changed
    assert not leave(booted.engine("lab3")).changed


def test_a_drain_waits_until_the_nodes_tasks_run_elsewhere(booted: FakeSwarm) -> None:
    orch = SwarmOrchestrator(booted.engine("lab1"))
    orch.deploy(ServiceSpec("web", image=V1, replicas=6), FAST)
    change = orch.drain("lab3", FAST)
    assert change.changed and not change.failed, change.message
    status = orch.status()
    assert "lab3" not in status.services[0].per_node
    assert status.services[0].running == 6
    assert not orch.drain("lab3", FAST).changed


def test_labels_merge_and_can_be_removed(booted: FakeSwarm) -> None:
    engine = booted.engine("lab1")
    assert update_node(engine, "lab2", labels={"zone": "a", "disk": "ssd"}).changed
    assert not update_node(engine, "lab2", labels={"zone": "a"}).changed
    assert update_node(engine, "lab2", remove_labels=["disk"]).changed
    node = next(n for n in booted.nodes.values() if n["Description"]["Hostname"] == "lab2")
    assert node["Spec"]["Labels"] == {"zone": "a"}


def test_demoting_the_only_manager_is_refused(booted: FakeSwarm) -> None:
    with pytest.raises(OrchestratorError, match="last manager"):
        update_node(booted.engine("lab1"), "lab1", role="worker")


def test_a_node_that_left_can_be_removed_but_a_live_one_needs_force(booted: FakeSwarm) -> None:
    engine = booted.engine("lab1")
    with pytest.raises(OrchestratorError, match="leave the swarm on it first"):
        remove_node(engine, "lab2")
    leave(booted.engine("lab3"))
    assert remove_node(engine, "lab3").changed
    assert not remove_node(engine, "lab3").changed


def test_promotion_waits_until_the_node_is_a_reachable_manager(booted: FakeSwarm) -> None:
    engine = booted.engine("lab1")
    change = update_node(engine, "lab2", role="manager", wait=FAST)
    assert change.changed and change.message == "lab2: promoted"
    node = next(n for n in booted.nodes.values() if n["Description"]["Hostname"] == "lab2")
    assert node["ManagerStatus"]["Reachability"] == "reachable"
    assert update_node(engine, "lab2", role="worker", wait=FAST).message == "lab2: demoted"
