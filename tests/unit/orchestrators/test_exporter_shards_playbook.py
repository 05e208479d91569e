"""playbooks/exporter-shards.yml against a FakeSwarm: one replicated service whose replicas
take their exporter shard from Swarm's {{.Task.Slot}} template (the engine expands it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.monitoring.shard import Shard
from fleetkit.testing.fake_swarm import FakeSwarm

from .conftest import HOSTS, V1
from .test_swarm_playbooks import INVENTORY, Runner, changed

pytestmark = pytest.mark.unit


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    swarm = FakeSwarm(HOSTS)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    return Runner(swarm, inventory)


def test_exporter_shards_deploy_one_service_with_slot_templated_shards(run: Runner) -> None:
    run("bootstrap-swarm.yml")
    rc, events = run("exporter-shards.yml", f"exporter_image={V1}", "exporter_shards=3")
    assert (rc, changed(events)) == (0, 1), events
    (service,) = run.swarm.services.values()
    spec = service["Spec"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert spec["Name"] == "fleetkit-exporter"
    assert spec["Mode"]["Replicated"]["Replicas"] == 3
    assert container["Command"] == ["fleetkit", "exporter"]
    assert container["Args"][:2] == ["-i", "/etc/fleetkit-exporter/inventory.yml"]
    # the node's copy of the exporters' inventory, key and known_hosts, read-only
    assert container["Mounts"] == [
        {
            "Type": "bind",
            "Source": "/etc/fleetkit-exporter",
            "Target": "/etc/fleetkit-exporter",
            "ReadOnly": True,
        }
    ]
    # the Jinja render leaves Swarm's own template for the engine
    assert "FLEETKIT_EXPORTER_SHARD_SLOT={{.Task.Slot}}/3" in container["Env"]
    # what each replica's engine-expanded value means: slots 1..3 are shards 0..2
    slots = [Shard.from_slot(f"{slot}/3") for slot in (1, 2, 3)]
    assert [s.index for s in slots] == [0, 1, 2]
    rc, events = run("exporter-shards.yml", f"exporter_image={V1}", "exporter_shards=3")
    assert (rc, changed(events)) == (0, 0)
