"""The repository's service playbooks with `orchestrator: k8s`, run by the playbook engine.

The same deploy/scale/rolling-update/rollback playbooks that run on Swarm in the lab
e2e, here against the in-memory Kubernetes API model (k8s_model.FakeKube) reached the
way the driver reaches a real server: the kubeconfig read over the host's connection,
HTTP/1.1 over real TLS on a stream the FakeConnection opens to the host's
127.0.0.1:6443. Nothing here is a Kubernetes API server.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.unit.orchestrators.k8s_model import FakeKube
from tests.unit.orchestrators.k8s_pki import make_pki
from tests.unit.orchestrators.test_k8s_open_driver import KUBECONFIG, ApiBridge

from fleetkit.playbook.session import RunRequest, execute, prepare
from fleetkit.report.jsonl import JsonLinesReporter
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
V1, V2, BAD = "reg/web:v1", "reg/web:v2", "reg/web:bad"
INVENTORY = """\
all:
  vars: {orchestrator: k8s}
  children:
    k8s_servers:
      hosts: {k3s-1: {ansible_host: 198.18.0.2}}
    k8s_agents:
      hosts: {k3s-2: {ansible_host: 198.18.0.3}, k3s-3: {ansible_host: 198.18.0.4}}
"""

Events = list[dict[str, Any]]


class Cluster:
    """The model, one TLS bridge to it, and a runner for the repository's playbooks."""

    def __init__(self, tmp_path: Path) -> None:
        self.kube = FakeKube(bad_images=frozenset({BAD}))
        pki = make_pki()
        self.bridge = ApiBridge(pki, self.kube)
        self.kubeconfig = base64.b64encode(pki.kubeconfig().encode()).decode()
        self.inventory = tmp_path / "hosts.yml"
        self.inventory.write_text(INVENTORY)
        self.hosts_touched: set[str] = set()

    def connect(self, name: str) -> FakeConnection:
        self.hosts_touched.add(name)

        def handler(call: FakeCall) -> tuple[int, str, str]:
            if call.command == f"base64 < {KUBECONFIG}" and call.become:
                return 0, self.kubeconfig, ""
            return 1, "", f"unexpected command {call.command!r}"

        return FakeConnection(name, handler, listeners={("tcp", 6443): self.bridge})

    def play(self, playbook: str, *extra: str) -> tuple[int, Events]:
        request = RunRequest(
            playbook=REPO / "playbooks" / playbook,
            inventory=self.inventory,
            extra_vars=(*extra, "cluster_progress=false", "service=web"),
            cwd=self.inventory.parent,
        )
        stream = io.StringIO()
        result = execute(prepare(request), JsonLinesReporter(stream), connect=self.connect)
        events = [json.loads(line) for line in stream.getvalue().splitlines()]
        return result.exit_code(), events

    def deployment(self) -> dict[str, Any]:
        return self.kube.get("deployments", "default", "web")


def results(events: Events) -> Events:
    return [e for e in events if e["event"] == "host_result"]


def changed(events: Events) -> int:
    return sum(1 for e in results(events) if e["status"] == "changed")


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    return Cluster(tmp_path)


def image_of(dep: dict[str, Any]) -> str:
    return str(dep["spec"]["template"]["spec"]["containers"][0]["image"])


def test_the_service_playbooks_run_on_the_first_k8s_server_through_the_k8s_driver(
    cluster: Cluster,
) -> None:
    rc, events = cluster.play("deploy.yml", "replicas=3", f"image={V1}")
    assert rc == 0 and changed(events) == 1, events
    assert {e["host"] for e in results(events)} == {"k3s-1"}
    assert cluster.hosts_touched == {"k3s-1"}
    dep = cluster.deployment()
    assert dep["spec"]["replicas"] == 3 and image_of(dep) == V1
    assert dep["status"]["availableReplicas"] == 3

    rc, events = cluster.play("deploy.yml", "replicas=3", f"image={V1}")
    assert rc == 0 and changed(events) == 0, events


def test_scale_update_bad_image_and_rollback_as_on_swarm(cluster: Cluster) -> None:
    play: Callable[..., tuple[int, Events]] = cluster.play
    assert play("deploy.yml", "replicas=3", f"image={V1}")[0] == 0

    rc, events = play("scale.yml", "replicas=12")
    assert rc == 0 and changed(events) == 1, events
    dep = cluster.deployment()
    assert dep["spec"]["replicas"] == 12 and dep["status"]["availableReplicas"] == 12

    rc, events = play("rolling-update.yml", f"image={V2}")
    assert rc == 0 and changed(events) == 1, events
    assert image_of(cluster.deployment()) == V2
    rc, events = play("rolling-update.yml", f"image={V2}")
    assert rc == 0 and changed(events) == 0, events

    rc, events = play("rolling-update.yml", f"image={BAD}", "k8s_progress_deadline=5s")
    assert rc == 1, events
    (failed,) = [e for e in results(events) if e["status"] == "failed"]
    assert "roll" in failed["msg"]
    assert image_of(cluster.deployment()) == V2  # fleetkit undid the failed rollout

    # rolled back already by fleetkit's undo: ok and unchanged, as on Swarm
    rc, events = play("rollback.yml")
    assert rc == 0 and changed(events) == 0, events
    assert image_of(cluster.deployment()) == V2

    rc, events = play("rolling-update.yml", f"image={V1}")
    assert rc == 0 and changed(events) == 1, events
    rc, events = play("rollback.yml")
    assert rc == 0 and changed(events) == 1, events
    dep = cluster.deployment()
    assert image_of(dep) == V2
    assert dep["spec"]["replicas"] == 12  # Kubernetes rollbacks keep the replica count
    rc, events = play("rollback.yml")
    assert rc == 0 and changed(events) == 0, events


def test_cluster_status_reads_the_k8s_cluster_through_the_first_server(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    from fleetkit.cli.cluster import show_status
    from fleetkit.orchestrators import cluster_source

    assert cluster.play("deploy.yml", "replicas=2", f"image={V1}")[0] == 0
    real = cluster_source.describe

    def describe(inventory: Any, hosts: Any, connect: Any, driver: str) -> Any:
        return real(inventory, hosts, cluster.connect, driver)

    mp = pytest.MonkeyPatch()
    mp.setattr(cluster_source, "describe", describe)
    try:
        assert show_status(str(cluster.inventory), None, True) == 0
    finally:
        mp.undo()
    data = json.loads(capsys.readouterr().out)
    assert data["orchestrator"] == "k8s" and data["source"]
    assert [n["hostname"] for n in data["nodes"]] == ["k3s-1", "k3s-2", "k3s-3"]
    (web,) = [s for s in data["services"] if s["name"] == "web"]
    assert (web["desired"], web["running"], web["image"]) == (2, 2, V1)
