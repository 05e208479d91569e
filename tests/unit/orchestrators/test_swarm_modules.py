"""The swarm_* modules on a FakeSwarm: results, facts, check mode, errors as failures."""

from __future__ import annotations

import json

from fleetkit.modules.registry import MODULES
from fleetkit.modules.swarm_common import EngineFactory
from fleetkit.modules.swarm_init import SwarmInit
from fleetkit.modules.swarm_join import SwarmJoin
from fleetkit.modules.swarm_leave import SwarmLeave
from fleetkit.modules.swarm_node import SwarmNode
from fleetkit.modules.swarm_rollback import SwarmRollback
from fleetkit.modules.swarm_scale import SwarmScale
from fleetkit.modules.swarm_service import SwarmService
from fleetkit.modules.swarm_service_remove import SwarmServiceRemove
from fleetkit.modules.swarm_status import SwarmStatus
from fleetkit.orchestrators.base import Secret
from fleetkit.testing.fake_swarm import FakeSwarm

from .conftest import BAD, V1, V2, ContextMaker


def engines(swarm: FakeSwarm) -> EngineFactory:
    return lambda ctx: swarm.engine(ctx.host)


def test_every_swarm_module_is_registered() -> None:
    names = {n for n in MODULES if n.startswith("swarm_")}
    assert names == {
        "swarm_init",
        "swarm_join",
        "swarm_leave",
        "swarm_node",
        "swarm_rollback",
        "swarm_scale",
        "swarm_service",
        "swarm_service_remove",
        "swarm_status",
    }


def test_swarm_init_registers_secret_tokens_that_no_output_shows(
    swarm: FakeSwarm, context: ContextMaker
) -> None:
    module = SwarmInit(engines(swarm))
    result = module.run(context(module, variables={"ansible_host": "198.18.0.2"}, managers=1))
    assert result.changed and not result.failed
    tokens = result.data["join_tokens"]
    assert isinstance(tokens["worker"], Secret)
    assert tokens["worker"].reveal() == swarm.tokens["Worker"]
    shown = json.dumps({"data": dict(result.data), "facts": dict(result.facts)}, default=str)
    shown += result.msg + repr(result)
    assert swarm.tokens["Worker"] not in shown and swarm.tokens["Manager"] not in shown
    assert result.facts["swarm_facts"]["manager_addr"] == "198.18.0.2:2377"


def test_swarm_init_warns_about_an_even_manager_count(
    swarm: FakeSwarm, context: ContextMaker
) -> None:
    module = SwarmInit(engines(swarm))
    result = module.run(context(module, managers=2))
    assert "warning: 2 managers planned" in result.msg


def test_swarm_join_uses_the_token_and_is_ok_the_second_time(
    swarm: FakeSwarm, context: ContextMaker
) -> None:
    init = SwarmInit(engines(swarm))
    tokens = init.run(context(init, variables={"ansible_host": "198.18.0.2"})).data["join_tokens"]
    module = SwarmJoin(engines(swarm))
    ctx = context(module, "lab2", join_token=tokens["worker"], remote_addrs=["198.18.0.2"])
    assert module.run(ctx).changed
    again = module.run(ctx)
    assert not again.changed and not again.failed


def test_swarm_join_in_check_mode_needs_no_token(swarm: FakeSwarm, context: ContextMaker) -> None:
    module = SwarmJoin(engines(swarm))
    result = module.run(context(module, "lab2", check=True, remote_addrs=["198.18.0.2"]))
    assert result.changed and "would join" in result.msg
    assert swarm.state["lab2"] == "inactive"


def test_an_unreachable_engine_is_a_failed_task_not_a_crash(
    booted: FakeSwarm, context: ContextMaker
) -> None:
    booted.stop("lab1")
    module = SwarmStatus(engines(booted))
    result = module.run(context(module))
    assert result.failed and "does not answer" in result.msg


def test_swarm_service_reports_the_wait_and_its_api_calls(
    booted: FakeSwarm, context: ContextMaker
) -> None:
    module = SwarmService(engines(booted))
    result = module.run(context(module, name="web", image=V1, replicas=3, ports=[80]))
    assert result.changed and not result.failed, result.msg
    assert result.data["wait"]["converged"] is True
    assert result.data["wait"]["api_calls"] >= result.data["wait"]["polls"]
    assert result.data["service"]["running"] == 3


def test_a_rolled_back_update_fails_the_task_with_the_reason(
    booted: FakeSwarm, context: ContextMaker
) -> None:
    module = SwarmService(engines(booted))
    policy = {"failure_action": "rollback", "parallelism": 1}
    module.run(context(module, name="web", image=V1, replicas=2, update_config=policy))
    result = module.run(context(module, name="web", image=BAD))
    assert result.failed and "rolled back" in result.msg


def test_scale_rollback_remove_and_status_through_their_modules(
    booted: FakeSwarm, context: ContextMaker
) -> None:
    service = SwarmService(engines(booted))
    service.run(context(service, name="web", image=V1, replicas=3))
    service.run(context(service, name="web", image=V2))
    scale = SwarmScale(engines(booted))
    assert scale.run(context(scale, name="web", replicas=5)).changed
    assert not scale.run(context(scale, name="web", replicas=5)).changed
    rollback = SwarmRollback(engines(booted))
    rolled = rollback.run(context(rollback, name="web"))  # undoes the last change: the scale
    assert rolled.changed and not rolled.failed, rolled.msg
    status = SwarmStatus(engines(booted))
    shown = status.run(context(status))
    assert not shown.changed and "web 3/3" in shown.msg
    assert shown.facts["swarm_status"]["services"][0]["image"] == V2
    remove = SwarmServiceRemove(engines(booted))
    assert remove.run(context(remove, name="web")).changed
    assert not remove.run(context(remove, name="web")).changed


def test_swarm_node_drains_and_swarm_leave_refuses_the_last_manager(
    booted: FakeSwarm, context: ContextMaker
) -> None:
    node = SwarmNode(engines(booted))
    assert node.run(context(node, node="lab2", availability="drain")).changed
    leave = SwarmLeave(engines(booted))
    refused = leave.run(context(leave, "lab1"))
    assert refused.failed and "last manager" in refused.msg and "hint:" in refused.msg
    assert leave.run(context(leave, "lab2")).changed


def test_bad_service_arguments_are_caught_before_any_host_is_touched() -> None:
    from fleetkit.modules.args import prepare

    module = SwarmService()
    _, errors = prepare(module, {"name": "web", "ports": ["80:eighty"]})
    assert errors and "expected a port" in errors[0]
