"""The repository's swarm playbooks, run by the playbook engine against a FakeSwarm."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from fleetkit.playbook.session import RunRequest, execute, prepare
from fleetkit.report.jsonl import JsonLinesReporter
from fleetkit.testing.fake_connection import FakeConnection
from fleetkit.testing.fake_swarm import FakeSwarm

from .conftest import BAD, HOSTS, V1, V2

REPO = Path(__file__).resolve().parents[3]
INVENTORY = f"""\
all:
  vars:
    lab_registry: 198.18.0.1:5000
    image: {V1}
  children:
    managers:
      hosts:
        lab1: {{ansible_host: 198.18.0.2}}
    workers:
      hosts:
        lab2: {{ansible_host: 198.18.0.3}}
        lab3: {{ansible_host: 198.18.0.4}}
"""


class Runner:
    """Runs a playbook of the repository against the fake swarm; returns events."""

    def __init__(self, swarm: FakeSwarm, inventory: Path) -> None:
        self.swarm = swarm
        self.inventory = inventory
        self.output = ""

    def __call__(self, playbook: str, *extra: str) -> tuple[int, list[dict[str, object]]]:
        request = RunRequest(
            playbook=REPO / "playbooks" / playbook,
            inventory=self.inventory,
            extra_vars=(*extra, "swarm_progress=false"),
            cwd=self.inventory.parent,
        )
        stream = io.StringIO()
        result = execute(
            prepare(request),
            JsonLinesReporter(stream),
            connect=FakeConnection,
            sleep=lambda s: None,
            docker_engine=lambda ctx: self.swarm.engine(ctx.conn.name),
        )
        self.output += stream.getvalue()
        events = [json.loads(line) for line in stream.getvalue().splitlines()]
        return result.exit_code(), events


def changed(events: list[dict[str, object]]) -> int:
    return sum(1 for e in events if e.get("status") == "changed")


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    swarm = FakeSwarm(HOSTS, bad_images=[BAD])
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    return Runner(swarm, inventory)


def test_bootstrap_makes_one_manager_and_two_workers_then_changes_nothing(run: Runner) -> None:
    rc, events = run("bootstrap-swarm.yml")
    assert rc == 0 and changed(events) == 3
    roles = {n["Description"]["Hostname"]: n["Spec"]["Role"] for n in run.swarm.nodes.values()}
    assert roles == {"lab1": "manager", "lab2": "worker", "lab3": "worker"}
    rc, events = run("bootstrap-swarm.yml")
    assert rc == 0 and changed(events) == 0


def test_join_tokens_never_reach_the_json_output(run: Runner) -> None:
    run("bootstrap-swarm.yml")
    for token in run.swarm.tokens.values():
        assert token not in run.output
        assert token.rsplit("-", 1)[-1] not in run.output


def test_deploy_scale_update_rollback_sequence_is_idempotent(run: Runner) -> None:
    run("bootstrap-swarm.yml")
    steps = [
        ("deploy.yml", ("service=web", "replicas=3")),
        ("scale.yml", ("service=web", "replicas=12")),
        ("rolling-update.yml", ("service=web", f"image={V2}")),
        ("rollback.yml", ("service=web",)),
    ]
    for playbook, extra in steps:
        rc, events = run(playbook, *extra)
        assert (rc, changed(events)) == (0, 1), (playbook, events)
        rc, events = run(playbook, *extra)
        assert (rc, changed(events)) == (0, 0), (playbook, events)


def test_a_bad_rolling_update_fails_the_run_with_the_engines_reason(run: Runner) -> None:
    run("bootstrap-swarm.yml")
    run("deploy.yml", "service=web", "replicas=3")
    rc, events = run("rolling-update.yml", "service=web", f"image={BAD}")
    assert rc == 1
    failed = [e for e in events if e.get("status") == "failed"]
    assert len(failed) == 1 and "rolled back" in str(failed[0]["msg"])


def test_the_lab_defaults_publish_in_host_mode_with_dnsrr(run: Runner) -> None:
    run("bootstrap-swarm.yml")
    run("deploy.yml")
    spec = next(iter(run.swarm.services.values()))["Spec"]
    assert spec["EndpointSpec"]["Mode"] == "dnsrr"
    assert spec["EndpointSpec"]["Ports"][0]["PublishMode"] == "host"
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == V1


@pytest.mark.parametrize(
    "playbook",
    ["bootstrap-swarm.yml", "deploy.yml", "scale.yml", "rolling-update.yml", "rollback.yml"],
)
def test_each_swarm_playbook_validates_against_the_example_inventory(playbook: str) -> None:
    request = RunRequest(
        playbook=REPO / "playbooks" / playbook,
        inventory=REPO / "inventory" / "example",
        extra_vars=("image=registry.example.com/web:1.2", "replicas=4"),
        cwd=REPO,
    )
    prepared = prepare(request)
    assert prepared.hosts


def test_a_real_fleet_must_name_the_image_it_deploys() -> None:
    from fleetkit.errors import TemplateError

    request = RunRequest(
        playbook=REPO / "playbooks" / "deploy.yml",
        inventory=REPO / "inventory" / "example",
        cwd=REPO,
    )
    with pytest.raises(TemplateError, match="undefined variable 'image'"):
        prepare(request)
