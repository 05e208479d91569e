"""playbooks/exporter-shards.yml on the lab's real swarm: two exporter replicas, each
taking its shard from its task slot, together export every lab host exactly once,
and only one of them reports the swarm.

The lab has no registry image with Python in it (nothing can be pulled), so each
replica runs the lab's busybox image with this machine's Python, virtualenv and
checkout bind-mounted read-only from the node (the playbook's exporter_mounts), and
the exporters log in with a monitoring key of their own that the playbook copies to
every node, as the playbook's header tells operators to do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from tests.support import fleetkit as run_fleetkit
from tests.support import json_events

from fleetkit.lab import LabState
from fleetkit.monitoring.shard import hashmod

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "fleetkit-exporter"
CONFIG_DIR = "/etc/fleetkit-exporter"
PORT = 9469
KEY_COMMENT = "fleetkit-exporter-shards-test"
ALIASES = tuple(f"node{i:03d}" for i in range(9))
# folders of the machine a lab host shows (its overlays and read-only binds); /tmp is
# each host's own
VISIBLE_ROOTS = ("/usr", "/root", "/opt", "/srv", "/home", "/work", "/check")


def fleetkit(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_fleetkit(*args, timeout=timeout, cwd=ROOT)


def python_mounts() -> list[dict[str, Any]]:
    """This interpreter, its virtualenv and the checkout, as read-only binds at the same
    paths, plus the libraries the interpreter links against."""
    paths = sorted({Path(sys.base_prefix), Path(sys.prefix), ROOT}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in paths:
        real = path.resolve()
        if not any(real.is_relative_to(k) for k in kept):
            kept.append(real)
    hidden = [p for p in kept if not str(p).startswith(VISIBLE_ROOTS)]
    if hidden:
        pytest.skip(f"{hidden[0]} is not visible on lab hosts (their /tmp is their own)")
    system = ("/usr", "/lib", "/lib64")  # the libraries the interpreter links against
    return [{"source": str(p), "target": str(p), "readonly": True} for p in kept] + [
        {"source": d, "target": d, "readonly": True} for d in system if Path(d).exists()
    ]


def shard_of(text: str) -> tuple[set[str], set[str]]:
    """(hosts with a fleetkit_host_up sample, names of fleetkit_swarm_* samples)."""
    hosts, swarm = set(), set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "fleetkit_host_up":
                hosts.add(sample.labels["host"])
            elif sample.name.startswith("fleetkit_swarm_"):
                swarm.add(sample.name)
    return hosts, swarm


def scrape(address: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}:{PORT}/metrics", timeout=5) as resp:
            return str(resp.read().decode())
    except (OSError, urllib.error.URLError):
        return None


@pytest.fixture(scope="module")
def exporter_files(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A monitoring key authorized on every lab host and the inventory as the exporters
    see it; the key is unauthorized again at the end."""
    assert lab.inventory is not None
    work = tmp_path_factory.mktemp("exporter-shards")
    key = work / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", KEY_COMMENT, "-f", str(key)],
        check=True,
    )
    public = (work / "id_ed25519.pub").read_text().strip()
    proc = fleetkit(
        "exec", "all", "-i", str(lab.inventory), "--",
        f"echo '{public}' >> ~/.ssh/authorized_keys",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    inventory = yaml.safe_load(lab.inventory.read_text())
    # more names than the 3 lab hosts, so that both shards have hosts (hashmod puts
    # lab1..lab3 all in shard 0 of 2)
    inventory["all"]["children"]["aliases"] = {
        "hosts": {
            name: {"ansible_host": lab.hosts[i % len(lab.hosts)].address}
            for i, name in enumerate(ALIASES)
        }
    }
    top = inventory["all"]["vars"]
    top["ansible_ssh_private_key_file"] = f"{CONFIG_DIR}/id_ed25519"
    top["fleetkit_known_hosts"] = f"{CONFIG_DIR}/known_hosts"
    top["ansible_ssh_common_args"] = f"-o UserKnownHostsFile={CONFIG_DIR}/known_hosts"
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory))
    extra = {
        "exporter_image": top["lab_image_v1"],
        "exporter_shards": 2,
        "exporter_interval": 2,
        "exporter_timeout": 5,
        "exporter_inventory_src": str(work / "inventory.yml"),
        "exporter_ssh_key_src": str(key),
        "exporter_known_hosts_src": str(lab.known_hosts),
        "exporter_command": [
            sys.executable, "-c", "import sys; from fleetkit.cli import main; sys.exit(main())",
            "exporter",
        ],
        "exporter_mounts": python_mounts(),
    }  # fmt: skip
    (work / "extra.json").write_text(json.dumps(extra))
    try:
        yield work
    finally:
        fleetkit(
            "exec", "all", "-i", str(lab.inventory), "--become", "--",
            f"sed -i '/{KEY_COMMENT}/d' /home/*/.ssh/authorized_keys; rm -rf {CONFIG_DIR}",
        )  # fmt: skip


@pytest.fixture(scope="module")
def deployed(
    lab: LabState, swarm_service: str, exporter_files: Path
) -> Iterator[list[dict[str, Any]]]:
    assert lab.inventory is not None
    playbook = str(ROOT / "playbooks" / "exporter-shards.yml")
    args = ["run", playbook, "-i", str(lab.inventory), "-e", f"@{exporter_files / 'extra.json'}"]
    proc = fleetkit(*args, "--json", timeout=420)
    manager = lab.hosts[0].name
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield json_events(proc.stdout)
    finally:
        fleetkit("exec", manager, "-i", str(lab.inventory), "--", f"docker service rm {SERVICE}")


def test_two_replicas_export_every_lab_host_once_and_the_swarm_once(
    lab: LabState, deployed: list[dict[str, Any]], exporter_files: Path
) -> None:
    addresses = {h.address for h in lab.hosts}
    names = {h.name for h in lab.hosts} | set(ALIASES)
    deadline = time.monotonic() + 120
    shards: dict[str, tuple[set[str], set[str]]] = {}
    while time.monotonic() < deadline:
        for address in addresses:
            text = scrape(address)
            if text is not None and shard_of(text)[0]:
                shards[address] = shard_of(text)
        if len(shards) == 2 and set().union(*(h for h, _ in shards.values())) == names:
            break
        time.sleep(1)
    assert len(shards) == 2, f"exporters answering with host metrics: {sorted(shards)}"
    (hosts_a, swarm_a), (hosts_b, swarm_b) = shards.values()
    assert hosts_a.isdisjoint(hosts_b), (hosts_a, hosts_b)
    assert hosts_a | hosts_b == names
    # each replica's slot chose its shard: Prometheus' hashmod of the names, 0 and 1
    assert sorted(map(sorted, (hosts_a, hosts_b))) == sorted(
        sorted(h for h in names if hashmod(h, 2) == i) for i in (0, 1)
    )
    # the swarm is reported by shard 0 only, never counted twice
    assert bool(swarm_a) != bool(swarm_b), (swarm_a, swarm_b)
    assert "fleetkit_swarm_service_replicas_running" in swarm_a | swarm_b


def test_a_second_run_changes_nothing(
    lab: LabState, deployed: list[dict[str, Any]], exporter_files: Path
) -> None:
    assert lab.inventory is not None
    playbook = str(ROOT / "playbooks" / "exporter-shards.yml")
    extra = f"@{exporter_files / 'extra.json'}"
    proc = fleetkit("run", playbook, "-i", str(lab.inventory), "-e", extra, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json_events(proc.stdout)[-1]
    assert all(s["changed"] == 0 for s in summary["hosts"].values()), summary
