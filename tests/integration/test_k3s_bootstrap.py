"""playbooks/bootstrap-k8s.yml on the real lab hosts over real SSH, with a stand-in for k3s.

No k3s can run here, so tests/k3s-standin/k3s (a script that says it is NOT k3s)
takes its place: it writes the token and kubeconfig where k3s does, signals
systemd readiness, answers /readyz and `get nodes`, and logs every start on the
host. Through it the test proves what fleetkit does: files and modes, hashes,
starts and hash-gated restarts through the lab's systemctl, the token kept out of
every output and controller file, and a second run with 0 changed. lab1 is the
server, lab2 and lab3 the agents; the binary goes to /opt/fleetkit-k3s/bin since
lab hosts share the machine's /usr. Everything installed is removed at the end.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support import fleetkit, json_events

from fleetkit.lab.model import LabState

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BOOTSTRAP = REPO / "playbooks" / "bootstrap-k8s.yml"
UNINSTALL = REPO / "playbooks" / "uninstall-k8s.yml"
STANDIN = REPO / "tests" / "k3s-standin" / "k3s"
BIN_DIR = "/opt/fleetkit-k3s/bin"
STARTS = "/var/lib/rancher/k3s/standin-starts.log"
CLEANUP = (
    "systemctl stop k3s k3s-agent >/dev/null 2>&1; systemctl disable k3s k3s-agent"
    " >/dev/null 2>&1; rm -rf /etc/rancher /var/lib/rancher /opt/fleetkit-k3s"
    " /etc/systemd/system/k3s.service /etc/systemd/system/k3s.service.env"
    " /etc/systemd/system/k3s-agent.service /etc/systemd/system/k3s-agent.service.env;"
    " systemctl daemon-reload >/dev/null 2>&1; true"
)


@dataclass(frozen=True)
class Cluster:
    """The bootstrapped lab: where things are and what the first run printed."""

    inventory: Path
    workdir: Path
    kubeconfig: Path
    first: subprocess.CompletedProcess[str]
    token: str

    @property
    def args(self) -> tuple[str, ...]:
        """The -e options every run of this cluster repeats."""
        images = self.workdir / "k3s-airgap-images-standin.tar"
        return ("-e", f"k3s_kubeconfig={self.kubeconfig}", "-e", f"k3s_images={images}")


def write_inventory(lab: LabState, path: Path) -> Path:
    """The lab hosts with their connection vars, in k8s_servers (lab1) and k8s_agents."""
    assert lab.inventory is not None
    source = yaml.safe_load(lab.inventory.read_text())
    common = {
        k: source["all"]["vars"][k]
        for k in ("ansible_user", "ansible_ssh_private_key_file", "fleetkit_known_hosts")
    }
    hosts = {h.name: {"ansible_host": h.address} for h in lab.hosts}
    names = sorted(hosts)
    doc = {
        "all": {
            "vars": {**common, "fleetkit_host_key_policy": "verify", "k3s_bin_dir": BIN_DIR},
            "children": {
                "k8s_servers": {"hosts": {names[0]: hosts[names[0]]}},
                "k8s_agents": {"hosts": {n: hosts[n] for n in names[1:3]}},
            },
        }
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def run(cluster_inv: Path, workdir: Path, *args: str, binary: bool = True) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETKIT_K3S")}
    extra = ["-e", f"k3s_binary={STANDIN}"] if binary else []
    return fleetkit(
        "run", str(BOOTSTRAP), "-i", str(cluster_inv), *extra, *args,
        cwd=workdir, env=env, timeout=240,
    )  # fmt: skip


def on_hosts(inventory: Path, pattern: str, command: str) -> dict[str, str]:
    """stdout per host of a sudo'd command (failures included, as text)."""
    proc = fleetkit(
        "exec", pattern, "-i", str(inventory), "--become", "--json", "--", command, timeout=60
    )
    return {e["host"]: e["stdout"] for e in json_events(proc.stdout) if e["event"] == "host_result"}


def summary(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, int]]:
    found = [e for e in json_events(proc.stdout) if e["event"] == "summary"]
    assert found, proc.stderr
    hosts: dict[str, dict[str, int]] = found[-1]["hosts"]
    return hosts


def changed_tasks(proc: subprocess.CompletedProcess[str]) -> set[tuple[str, str]]:
    return {
        (e["host"], e["task"])
        for e in json_events(proc.stdout)
        if e["event"] == "host_result" and e["status"] == "changed"
    }


def starts(inventory: Path) -> dict[str, int]:
    out = on_hosts(inventory, "all", f"cat {STARTS} 2>/dev/null || true")
    return {h: len([ln for ln in text.splitlines() if ln.strip()]) for h, text in out.items()}


@pytest.fixture(scope="module")
def inventory(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = write_inventory(lab, tmp_path_factory.mktemp("k3s-inv") / "hosts.yml")
    on_hosts(path, "all", CLEANUP)  # whatever an interrupted earlier run left
    try:
        yield path
    finally:
        on_hosts(path, "all", CLEANUP)


@pytest.fixture(scope="module")
def cluster(inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    workdir = tmp_path_factory.mktemp("k3s-run")
    kubeconfig = workdir / "kube" / "config"
    images = workdir / "k3s-airgap-images-standin.tar"
    images.write_bytes(b"stand-in images tarball, not a real one\n" * 1000)
    first = run(
        inventory, workdir, "--json", "-e", f"k3s_kubeconfig={kubeconfig}",
        "-e", f"k3s_images={images}", "--metrics-textfile", str(workdir / "run.prom"),
    )  # fmt: skip
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    token = on_hosts(inventory, "lab1", "cat /var/lib/rancher/k3s/server/token")["lab1"].strip()
    assert token.startswith("K10") and "::server:" in token
    return Cluster(inventory, workdir, kubeconfig, first, token)


def test_without_a_k3s_binary_nothing_runs_and_no_host_is_touched(
    inventory: Path, tmp_path: Path
) -> None:
    proc = run(inventory, tmp_path, "--json", binary=False)
    assert proc.returncode == 2
    assert "no k3s binary to install" in proc.stderr
    assert "k3s_binary" in proc.stderr and "FLEETKIT_K3S_BINARY" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [e for e in json_events(proc.stdout) if e["event"] == "host_result"] == []
    left = on_hosts(inventory, "all", "ls -d /opt/fleetkit-k3s /etc/rancher /var/lib/rancher 2>&1")
    assert len(left) == 3
    assert all(text.count("No such file") == 3 for text in left.values()), left


def test_bootstrap_places_files_with_their_modes_and_hashes(cluster: Cluster) -> None:
    want = hashlib.sha256(STANDIN.read_bytes()).hexdigest()
    tarball = cluster.workdir / "k3s-airgap-images-standin.tar"
    want_images = hashlib.sha256(tarball.read_bytes()).hexdigest()
    images = f"/var/lib/rancher/k3s/agent/images/{tarball.name}"
    sums = on_hosts(
        cluster.inventory,
        "all",
        f"sha256sum {BIN_DIR}/k3s {images}; stat -c %a {BIN_DIR}/k3s",
    )
    assert len(sums) == 3
    for host, text in sums.items():
        words = text.split()
        assert words[0] == want and words[2] == want_images, (host, text)
        assert words[-1] == "755"
    server = on_hosts(
        cluster.inventory,
        "lab1",
        "stat -c '%a %n' /etc/rancher/k3s/config.yaml /etc/systemd/system/k3s.service"
        " /etc/systemd/system/k3s.service.env /etc/rancher/k3s/k3s.yaml"
        " /var/lib/rancher/k3s/server/token; cat /etc/rancher/k3s/config.yaml",
    )["lab1"]
    assert "600 /etc/rancher/k3s/config.yaml" in server
    assert "644 /etc/systemd/system/k3s.service" in server
    assert "600 /etc/systemd/system/k3s.service.env" in server
    assert "600 /var/lib/rancher/k3s/server/token" in server
    config = yaml.safe_load(server[server.index("# /etc/rancher") :])
    assert config["node-ip"] == "198.18.0.2" and config["node-name"] == "lab1"
    agents = on_hosts(
        cluster.inventory,
        "k8s_agents",
        "stat -c '%a %n' /etc/rancher/k3s/cluster-token /etc/systemd/system/k3s-agent.service;"
        " cat /etc/rancher/k3s/config.yaml",
    )
    assert set(agents) == {"lab2", "lab3"}
    for host, text in agents.items():
        assert "600 /etc/rancher/k3s/cluster-token" in text
        doc = yaml.safe_load(text[text.index("# /etc/rancher") :])
        assert doc["server"] == "https://198.18.0.2:6443"
        assert doc["token-file"] == "/etc/rancher/k3s/cluster-token"
        assert doc["node-ip"] == {"lab2": "198.18.0.3", "lab3": "198.18.0.4"}[host]


def test_services_run_through_the_labs_systemctl(cluster: Cluster) -> None:
    states = on_hosts(cluster.inventory, "all", "systemctl is-active k3s k3s-agent; true")
    assert states["lab1"].split()[0] == "active"
    assert states["lab2"].split()[1] == "active" and states["lab3"].split()[1] == "active"
    assert starts(cluster.inventory) == {"lab1": 1, "lab2": 1, "lab3": 1}
    events = json_events(cluster.first.stdout)
    ready = [e for e in events if e["event"] == "host_result" and e["task"] == "every node Ready"]
    assert ready and "3/3 nodes Ready" in ready[0]["msg"]


def test_the_kubeconfig_is_rewritten_yaml_0600(cluster: Cluster) -> None:
    assert cluster.kubeconfig.stat().st_mode & 0o777 == 0o600
    doc = yaml.safe_load(cluster.kubeconfig.read_text())
    assert doc["clusters"][0]["cluster"]["server"] == "https://198.18.0.2:6443"
    assert doc["current-context"] == "k3s" and doc["contexts"][0]["name"] == "k3s"


def test_the_join_token_appears_in_no_output_and_no_controller_file(cluster: Cluster) -> None:
    assert cluster.token not in cluster.first.stdout
    assert cluster.token not in cluster.first.stderr
    secret_part = cluster.token.rsplit(":", 1)[-1]
    assert secret_part not in cluster.first.stdout + cluster.first.stderr
    assert (cluster.workdir / "run.prom").is_file()  # the run's metrics are scanned too
    for path in cluster.workdir.rglob("*"):
        if path.is_file():
            assert cluster.token not in path.read_text(errors="replace"), path


def test_a_second_run_changes_nothing_and_restarts_nothing(cluster: Cluster) -> None:
    again = run(cluster.inventory, cluster.workdir, "--json", *cluster.args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert {h: s["changed"] for h, s in summary(again).items()} == {
        "lab1": 0,
        "lab2": 0,
        "lab3": 0,
    }
    assert starts(cluster.inventory) == {"lab1": 1, "lab2": 1, "lab3": 1}
    assert cluster.token not in again.stdout + again.stderr


def test_changing_config_yaml_restarts_that_server_exactly_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    extra = tmp_path / "vars.yml"
    extra.write_text(yaml.safe_dump({"k3s_server_config": {"node-label": ["fleetkit-test=1"]}}))
    predicted = run(
        cluster.inventory, cluster.workdir, "--check", "--diff", "-e", f"@{extra}", *cluster.args
    )
    assert predicted.returncode == 0, predicted.stdout[-2000:]
    assert "+node-label:" in predicted.stdout  # the config.yaml diff is shown...
    assert "would restart k3s (inputs changed)" in predicted.stdout
    assert cluster.token not in predicted.stdout + predicted.stderr  # ...the token never
    assert starts(cluster.inventory) == {"lab1": 1, "lab2": 1, "lab3": 1}
    args = ("--json", "-e", f"@{extra}", *cluster.args)
    changed = run(cluster.inventory, cluster.workdir, *args)
    assert changed.returncode == 0, changed.stderr[-2000:]
    assert changed_tasks(changed) == {
        ("lab1", "k3s configuration (first server)"),
        ("lab1", "k3s server running and ready"),
    }
    assert starts(cluster.inventory) == {"lab1": 2, "lab2": 1, "lab3": 1}
    settled = run(cluster.inventory, cluster.workdir, *args)
    assert changed_tasks(settled) == set()
    assert starts(cluster.inventory) == {"lab1": 2, "lab2": 1, "lab3": 1}
    config = on_hosts(cluster.inventory, "lab1", "cat /etc/rancher/k3s/config.yaml")["lab1"]
    assert "fleetkit-test=1" in config


def test_uninstall_removes_everything_then_reports_ok(cluster: Cluster) -> None:
    proc = fleetkit(
        "run", str(UNINSTALL), "-i", str(cluster.inventory), "--json",
        cwd=cluster.workdir, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {h: s["changed"] for h, s in summary(proc).items()} == {"lab1": 1, "lab2": 1, "lab3": 1}
    left = on_hosts(
        cluster.inventory,
        "all",
        "systemctl is-active k3s k3s-agent; ls -d /etc/rancher /var/lib/rancher"
        f" {BIN_DIR}/k3s /etc/systemd/system/k3s*.service 2>&1; true",
    )
    for host, text in left.items():
        assert "No such file" in text and "\nactive" not in f"\n{text}", (host, text)
    again = fleetkit(
        "run", str(UNINSTALL), "-i", str(cluster.inventory), "--json",
        cwd=cluster.workdir, timeout=120,
    )  # fmt: skip
    assert {h: s["changed"] for h, s in summary(again).items()} == {"lab1": 0, "lab2": 0, "lab3": 0}


def servers_inventory(lab: LabState, path: Path, servers: int) -> Path:
    """The lab's first `servers` hosts as k8s_servers, the rest as k8s_agents."""
    write_inventory(lab, path)
    doc = yaml.safe_load(path.read_text())
    groups = doc["all"]["children"]
    every = {**groups["k8s_servers"]["hosts"], **groups["k8s_agents"]["hosts"]}
    names = sorted(every)
    groups["k8s_servers"]["hosts"] = {n: every[n] for n in names[:servers]}
    groups["k8s_agents"]["hosts"] = {n: every[n] for n in names[servers:]}
    path.write_text(yaml.safe_dump(doc))
    return path


def test_check_mode_on_clean_hosts_predicts_and_warns_about_two_servers(
    lab: LabState, inventory: Path, tmp_path: Path
) -> None:
    on_hosts(inventory, "all", CLEANUP)
    inv = servers_inventory(lab, tmp_path / "two.yml", 2)
    proc = run(inv, tmp_path, "--json", "--check", "-e", f"k3s_kubeconfig={tmp_path}/kc")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = [e for e in json_events(proc.stdout) if e["event"] == "host_result"]
    first = [r for r in results if r["task"] == "k3s configuration (first server)"]
    assert first and "warning: 2 k8s_servers" in first[0]["msg"]
    assert {r["status"] for r in results} <= {"changed", "ok", "skipped"}
    left = on_hosts(inventory, "all", "ls -d /opt/fleetkit-k3s /etc/rancher /var/lib/rancher 2>&1")
    assert all(text.count("No such file") == 3 for text in left.values()), left
    assert not (tmp_path / "kc").exists()


def test_three_servers_join_one_at_a_time_and_uninstall_keeps_quorum(
    lab: LabState, inventory: Path, tmp_path: Path
) -> None:
    on_hosts(inventory, "all", CLEANUP)
    inv = servers_inventory(lab, tmp_path / "three.yml", 3)
    try:
        proc = run(inv, tmp_path, "--json", "-e", f"k3s_kubeconfig={tmp_path}/kc")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        configs = on_hosts(inv, "all", "cat /etc/rancher/k3s/config.yaml")
        assert yaml.safe_load(configs["lab1"])["cluster-init"] is True
        for host in ("lab2", "lab3"):
            doc = yaml.safe_load(configs[host])
            assert doc["server"] == "https://198.18.0.2:6443" and "cluster-init" not in doc
        order = [
            (e["host"], e["task"])
            for e in json_events(proc.stdout)
            if e["event"] == "host_result" and e["status"] == "changed"
        ]
        ready = "k3s server running, ready and an etcd member"
        joining = "k3s configuration (joining server)"
        # lab3 starts joining only after lab2 is ready and an etcd member
        assert order.index(("lab2", ready)) < order.index(("lab3", joining))
        msgs = {
            e["host"]: e["msg"]
            for e in json_events(proc.stdout)
            if e["event"] == "host_result" and e["task"] == ready and e["status"] == "changed"
        }
        assert set(msgs) == {"lab2", "lab3"} and all("etcd member" in m for m in msgs.values())
        two = fleetkit(
            "run", str(UNINSTALL), "-i", str(inv), "-l", "lab1:lab2", "--json",
            cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert two.returncode == 1
        refused = [
            e
            for e in json_events(two.stdout)
            if e["event"] == "host_result" and e["host"] == "lab1"
        ]
        assert refused and refused[0]["status"] == "failed"
        assert "1 of 3 servers would remain" in refused[0]["msg"]
        states = on_hosts(inv, "all", "systemctl is-active k3s; true")
        assert all(text.split()[0] == "active" for text in states.values()), states
        everything = fleetkit(
            "run", str(UNINSTALL), "-i", str(inv), "--json", cwd=tmp_path, timeout=120
        )
        assert everything.returncode == 0, everything.stderr[-2000:]
    finally:
        on_hosts(inventory, "all", CLEANUP)
