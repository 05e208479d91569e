"""The orchestrator seam: driver choice, neutral modules over any Orchestrator, cluster status."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fleetkit.errors import OrchestratorError
from fleetkit.inventory.load import load_inventory
from fleetkit.modules.cluster_status import ClusterStatusModule
from fleetkit.modules.registry import MODULES
from fleetkit.modules.service_deploy import ServiceDeploy
from fleetkit.modules.service_scale import ServiceScale
from fleetkit.orchestrators.base import (
    Change,
    ClusterStatus,
    NodeStatus,
    ServiceSpec,
    WaitOptions,
)
from fleetkit.orchestrators.cluster_source import candidates, describe, inventory_driver
from fleetkit.orchestrators.factory import DRIVERS, DriverContext, driver_name
from fleetkit.orchestrators.spec_args import service_spec
from fleetkit.orchestrators.swarm_manager import NoManager
from fleetkit.testing.fake_connection import FakeConnection

from .conftest import ContextMaker

pytestmark = pytest.mark.unit


@dataclass
class Recorder:
    """An Orchestrator that records what the modules asked of it."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    closed: int = 0

    def deploy(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        self.calls.append(("deploy", spec))
        return Change(changed=not check, message=f"deployed {spec.name}")

    def update(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        return self.deploy(spec, wait, check=check)

    def scale(self, name: str, replicas: int, wait: WaitOptions, *, check: bool = False) -> Change:
        self.calls.append(("scale", (name, replicas, check)))
        return Change(changed=True, message=f"scaled {name} to {replicas}")

    def rollback(self, name: str, wait: WaitOptions, *, check: bool = False) -> Change:
        raise OrchestratorError(f"{name} has no previous revision")

    def remove(self, name: str, *, check: bool = False) -> Change:
        return Change(changed=False, message="absent")

    def drain(self, node: str, wait: WaitOptions, *, check: bool = False) -> Change:
        return Change(changed=False, message="drained")

    def status(self) -> ClusterStatus:
        node = NodeStatus("n1", "srv1", "manager", "ready", "active")
        return ClusterStatus(source="srv1", nodes=(node,), services=())

    def close(self) -> None:
        self.closed += 1


def test_the_driver_comes_from_the_orchestrator_variable_then_the_groups() -> None:
    assert driver_name({}) == "swarm"
    assert driver_name({"orchestrator": "k8s"}) == "k8s"
    assert driver_name({"orchestrator": "Kubernetes"}) == "k8s"
    assert driver_name({"group_names": ["k8s_servers"]}) == "k8s"
    assert driver_name({"group_names": ["k8s_agents", "managers"]}) == "swarm"
    assert driver_name({"orchestrator": "swarm", "group_names": ["k8s_servers"]}) == "swarm"


def test_an_unknown_orchestrator_names_the_known_ones_and_the_closest() -> None:
    with pytest.raises(OrchestratorError, match="known: swarm, k8s") as err:
        driver_name({"orchestrator": "k8"})
    assert err.value.hint == "did you mean 'k8s'?"


def test_every_driver_module_exists_and_exposes_open_driver() -> None:
    import importlib

    for driver in DRIVERS.values():
        assert callable(importlib.import_module(driver.module).open_driver)


def test_the_neutral_modules_and_their_old_swarm_names_are_the_same_modules() -> None:
    for old, new in {
        "swarm_service": "service_deploy",
        "swarm_scale": "service_scale",
        "swarm_rollback": "service_rollback",
        "swarm_service_remove": "service_remove",
        "swarm_status": "cluster_status",
    }.items():
        assert MODULES[old] is MODULES[new]


def test_service_deploy_hands_the_driver_a_neutral_spec_with_both_option_blocks(
    context: ContextMaker,
) -> None:
    rec = Recorder()
    module = ServiceDeploy(orchestrators=lambda ctx: rec)
    ctx = context(
        module,
        name="web",
        image="reg/web:v1",
        replicas=3,
        endpoint_mode="dnsrr",
        k8s={"namespace": "shop", "service_type": "NodePort", "max_surge": "25%"},
    )
    result = module.run(ctx)
    assert result.changed and not result.failed
    ((verb, spec),) = rec.calls
    assert verb == "deploy" and spec.name == "web" and spec.replicas == 3
    assert spec.swarm.endpoint_mode == "dnsrr"
    assert (spec.k8s.namespace, spec.k8s.service_type, spec.k8s.max_surge) == (
        "shop",
        "NodePort",
        "25%",
    )
    assert rec.closed == 1


def test_a_driver_refusal_is_a_failed_task_and_the_driver_is_closed(
    context: ContextMaker,
) -> None:
    rec = Recorder()
    module = MODULES["service_rollback"].__class__(orchestrators=lambda ctx: rec)
    result = module.run(context(module, name="web"))
    assert result.failed and "no previous revision" in result.msg
    assert rec.closed == 1


def test_check_mode_reaches_the_driver(context: ContextMaker) -> None:
    rec = Recorder()
    module = ServiceScale(orchestrators=lambda ctx: rec)
    module.run(context(module, check=True, name="web", replicas=5))
    assert rec.calls == [("scale", ("web", 5, True))]


def test_cluster_status_sets_the_neutral_fact(context: ContextMaker) -> None:
    module = ClusterStatusModule(orchestrators=lambda ctx: Recorder())
    result = module.run(context(module))
    assert result.facts["cluster_status"]["nodes"][0]["hostname"] == "srv1"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"namespace": "a", "replica": 2}, "k8s: unknown key"),
        ({"service_type": "External"}, "k8s.service_type must be one of"),
        ({"max_surge": "lots"}, "k8s.max_surge must be a count or a percentage"),
    ],
)
def test_bad_k8s_options_are_refused_with_the_key(block: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        service_spec({"name": "web", "k8s": block})


def test_the_swarm_block_and_the_old_top_level_swarm_options_are_the_same() -> None:
    flat = service_spec({"name": "web", "endpoint_mode": "dnsrr", "constraints": ["a==b"]})
    block = service_spec(
        {"name": "web", "swarm": {"endpoint_mode": "dnsrr", "constraints": ["a==b"]}}
    )
    assert flat == block
    with pytest.raises(ValueError, match="swarm: unknown key"):
        service_spec({"name": "web", "swarm": {"namespace": "x"}})


K8S_INVENTORY = """\
all:
  vars: {ansible_connection: local, orchestrator: k8s}
  children:
    k8s_servers:
      hosts: {srv1: {}, srv2: {}}
    k8s_agents:
      hosts: {agent1: {}}
"""


def test_cluster_status_asks_the_k8s_servers_in_order_and_fails_over(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(K8S_INVENTORY)
    inventory = load_inventory(str(path))
    assert inventory_driver(inventory) == "k8s"
    hosts = candidates(inventory, "k8s")
    assert hosts == ("srv1", "srv2", "agent1")
    seen: list[str] = []

    def opener(ctx: DriverContext, name: str) -> Recorder:
        seen.append(ctx.host)
        assert name == "k8s" and ctx.variables["orchestrator"] == "k8s"
        if ctx.host == "srv1":
            raise OrchestratorError("the API server on srv1 does not answer")
        return Recorder()

    described = describe(inventory, hosts, FakeConnection, "k8s", opener)
    assert described.host == "srv2" and seen == ["srv1", "srv2"]
    assert described.skipped == ("srv1: the API server on srv1 does not answer",)


def test_cluster_status_with_every_server_unreachable_is_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(K8S_INVENTORY)
    inventory = load_inventory(str(path))

    def down(name: str) -> FakeConnection:
        return FakeConnection(name, unreachable=True)

    with pytest.raises(NoManager) as err:
        describe(inventory, ("srv1", "srv2"), down, "k8s", lambda ctx, n: Recorder())
    assert err.value.exit_code == 3


LAZY = """
import sys
import fleetkit.cli, fleetkit.cli.cluster, fleetkit.modules.registry
import fleetkit.orchestrators.factory, fleetkit.orchestrators.swarm_driver
print(",".join(sorted(m for m in ("lightkube", "httpx2", "docker") if m in sys.modules)))
"""


def test_the_cli_and_the_swarm_driver_import_no_kubernetes_client() -> None:
    out = subprocess.run(
        [sys.executable, "-c", LAZY], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
