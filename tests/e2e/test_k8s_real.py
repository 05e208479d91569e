"""The real-cluster suite: a real k3s on the lab hosts, the Swarm e2e scenarios on Kubernetes.

Runs only where someone supplies a k3s release: FLEETKIT_K3S_BINARY=/path/to/k3s (and
optionally FLEETKIT_K3S_IMAGES=/path/to/k3s-airgap-images-amd64.tar[.zst]). Without it
every test here is skipped with that reason, as in this project's CI: no k3s,
kubelet or kube-apiserver can be installed or pulled on its machines, so **the
Kubernetes driver has not been run against a real API server in CI**.

Scenarios (the same as tests/e2e/test_swarm.py): bootstrap 1 server + 2 agents and a
second bootstrap with 0 changed, deploy 3, scale 12 over the three nodes, update to
v2, an update to the bad image fails and fleetkit rolls it back, rollback, drain.
lab1 is the server, lab2 and lab3 the agents; the lab registry is a plain-http
mirror; ingress publishing (NodePort 30080), since 12 pods cannot share a hostPort
on three nodes. Tests run in file order and build on each other. Everything the
suite installs is removed at the end (playbooks/uninstall-k8s.yml).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support import fleetkit as run_fleetkit
from tests.support import json_events

from fleetkit.lab import LabState

BINARY = os.environ.get("FLEETKIT_K3S_BINARY", "")
IMAGES = os.environ.get("FLEETKIT_K3S_IMAGES", "")
SKIP_REASON = (
    "real-cluster suite: set FLEETKIT_K3S_BINARY=/path/to/k3s (a k3s release; optionally"
    " FLEETKIT_K3S_IMAGES=the air-gap images tarball) to run it; no k3s can be"
    " installed on this machine, so the Kubernetes driver was not run against a real"
    " API server here"
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (BINARY and Path(BINARY).is_file()), reason=SKIP_REASON),
]

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "fkt-k8s-web"
NODE_PORT = 30080
BIN_DIR = "/opt/fleetkit-k3s/bin"  # lab hosts share the machine's /usr
FAST = (
    "update_parallelism=2",
    "update_monitor=2s",
    "wait_timeout=300",
    "k8s_progress_deadline=60s",
)


def fleetkit(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return run_fleetkit(*args, timeout=timeout, cwd=ROOT)


def play(inventory: Path, playbook: str, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    args = ["run", str(ROOT / "playbooks" / playbook), "-i", str(inventory), "--json"]
    for item in extra:
        args += ["-e", item]
    proc = fleetkit(*args)
    return proc.returncode, json_events(proc.stdout), proc.stdout + proc.stderr


def changed(events: list[dict[str, Any]]) -> int:
    summary = next(e for e in events if e["event"] == "summary")
    return sum(counts["changed"] for counts in summary["hosts"].values())


def status(inventory: Path) -> dict[str, Any]:
    proc = fleetkit("cluster", "status", "-i", str(inventory), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(json.loads(proc.stdout))


def service(inventory: Path) -> dict[str, Any]:
    return next(s for s in status(inventory)["services"] if s["name"] == SERVICE)


def answers(address: str) -> str:
    assert address.startswith("198.18.")  # lab traffic only
    with urllib.request.urlopen(f"http://{address}:{NODE_PORT}/", timeout=5) as resp:
        return resp.read().decode().strip()


@pytest.fixture(scope="module")
def images(lab: LabState) -> dict[str, str]:
    from fleetkit.inventory.load import load_inventory

    assert lab.inventory is not None
    hostvars = next(iter(load_inventory(lab.inventory).hosts.values())).vars
    return {tag: str(hostvars[f"lab_image_{tag}"]) for tag in ("v1", "v2", "bad")}


@pytest.fixture(scope="module")
def inventory(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The lab's hosts as k8s_servers (lab1) and k8s_agents (lab2, lab3), orchestrator k8s."""
    assert lab.docker and lab.inventory is not None
    base = yaml.safe_load(Path(lab.inventory).read_text())
    hosts = {h.name: {"ansible_host": h.address} for h in lab.hosts}
    names = list(hosts)
    work = tmp_path_factory.mktemp("k8s-real")
    all_vars = dict(base["all"]["vars"])
    all_vars.update(
        {
            "orchestrator": "k8s",
            "k3s_binary": BINARY,
            "k3s_bin_dir": BIN_DIR,
            "k3s_http_registries": [str(base["all"]["vars"]["lab_registry"])],
            "k3s_kubeconfig": str(work / "kubeconfig"),
            "publish_mode": "ingress",
            "published_port": NODE_PORT,
        }
    )
    if IMAGES:
        all_vars["k3s_images"] = IMAGES
    doc = {
        "all": {
            "vars": all_vars,
            "children": {
                "k8s_servers": {"hosts": {names[0]: hosts[names[0]]}},
                "k8s_agents": {"hosts": {n: hosts[n] for n in names[1:]}},
            },
        }
    }
    path = work / "hosts.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    yield path
    with contextlib.suppress(Exception):
        play(path, "uninstall-k8s.yml")


def test_bootstrap_one_server_two_agents_then_zero_changed(inventory: Path) -> None:
    rc, events, output = play(inventory, "bootstrap-k8s.yml")
    assert rc == 0, output
    nodes = {n["hostname"]: n for n in status(inventory)["nodes"]}
    assert sorted(nodes) == ["lab1", "lab2", "lab3"]
    assert all(n["state"] == "ready" for n in nodes.values())
    assert nodes["lab1"]["role"] == "manager"
    rc, events, output = play(inventory, "bootstrap-k8s.yml")
    assert rc == 0 and changed(events) == 0, output


def test_deploy_three_replicas_then_again_changes_nothing(
    inventory: Path, images: dict[str, str]
) -> None:
    extra = (f"service={SERVICE}", "replicas=3", f"image={images['v1']}", *FAST)
    rc, events, output = play(inventory, "deploy.yml", *extra)
    assert rc == 0 and changed(events) == 1, output
    svc = service(inventory)
    assert (svc["running"], svc["desired"]) == (3, 3)
    rc, events, output = play(inventory, "deploy.yml", *extra)
    assert rc == 0 and changed(events) == 0, output


def test_scale_to_twelve_spreads_over_all_three_nodes(inventory: Path) -> None:
    rc, events, output = play(inventory, "scale.yml", f"service={SERVICE}", "replicas=12")
    assert rc == 0 and changed(events) == 1, output
    svc = service(inventory)
    assert (svc["running"], svc["desired"]) == (12, 12)
    assert sorted(svc["per_node"]) == ["lab1", "lab2", "lab3"]
    assert sum(svc["per_node"].values()) == 12


def test_a_rolling_update_to_v2_serves_v2(inventory: Path, images: dict[str, str]) -> None:
    extra = (f"service={SERVICE}", f"image={images['v2']}", *FAST)
    rc, events, output = play(inventory, "rolling-update.yml", *extra)
    assert rc == 0 and changed(events) == 1, output
    assert service(inventory)["image"] == images["v2"]
    assert answers("198.18.0.2") == "fleetkit-web v2"
    rc, events, output = play(inventory, "rolling-update.yml", *extra)
    assert rc == 0 and changed(events) == 0, output


def test_an_update_to_the_bad_image_fails_and_is_rolled_back(
    inventory: Path, images: dict[str, str]
) -> None:
    extra = (f"service={SERVICE}", f"image={images['bad']}", *FAST)
    rc, events, output = play(inventory, "rolling-update.yml", *extra)
    assert rc == 1, output
    failed = [str(e["msg"]) for e in events if e.get("status") == "failed"]
    assert failed and "roll" in failed[0]
    assert service(inventory)["image"] == images["v2"]
    assert answers("198.18.0.2") == "fleetkit-web v2"


def test_rollback_returns_to_the_previous_revision(inventory: Path) -> None:
    rc, events, output = play(inventory, "rollback.yml", f"service={SERVICE}", "wait_timeout=300")
    assert rc == 0 and changed(events) == 1, output
    svc = service(inventory)
    assert svc["running"] == svc["desired"] == 12  # replicas are not rolled back


def test_draining_a_node_moves_its_pods_then_uncordon(inventory: Path, tmp_path: Path) -> None:
    drain = tmp_path / "drain.yml"
    drain.write_text(
        "- hosts: k8s_servers[0]\n  become: true\n  gather_facts: false\n  tasks:\n"
        f"    - k8s_drain: {{node: lab3, state: drain, bin_dir: {BIN_DIR}}}\n"
    )
    proc = fleetkit("run", str(drain), "-i", str(inventory), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    svc = service(inventory)
    assert "lab3" not in svc["per_node"] and svc["running"] == 12
    lab3 = next(n for n in status(inventory)["nodes"] if n["hostname"] == "lab3")
    assert lab3["availability"] == "pause"
