"""End to end on the --docker lab: bootstrap a real swarm, deploy, scale, update, roll
back, lose a node, drain one -- through `fleetkit run` with the repository's playbooks.

Tests run in file order and build on each other (one swarm, one service). The lab
may be shared: the service has its own name, a stopped dockerd is always resumed,
and a swarm this module created is dissolved at the end. The 5-host test rebuilds
the lab (marked destructive: skipped when sharing a lab, and it restores a 3-host
--docker lab when it is done).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support import fleetkit as run_fleetkit
from tests.support import json_events

from fleetkit.lab import LabState, lab_down, lab_status, lab_up

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "fkt-web"
FAST = ("update_parallelism=4", "update_delay=0s", "update_monitor=2s", "wait_timeout=180")


# helpers ---------------------------------------------------------------------------------


def fleetkit(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_fleetkit(*args, timeout=timeout, cwd=ROOT)


def play(
    inventory: Path, playbook: str, *extra: str, as_json: bool = True
) -> tuple[int, list[dict[str, Any]], str]:
    """Run a repository playbook; (exit code, JSON events, stdout + stderr)."""
    args = ["run", str(ROOT / "playbooks" / playbook), "-i", str(inventory)]
    for item in extra:
        args += ["-e", item]
    if as_json:
        args.append("--json")
    proc = fleetkit(*args)
    events = json_events(proc.stdout) if as_json else []
    return proc.returncode, events, proc.stdout + proc.stderr


def changed(events: list[dict[str, Any]]) -> int:
    summary = next(e for e in events if e["event"] == "summary")
    return sum(counts["changed"] for counts in summary["hosts"].values())


def failures(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["msg"]) for e in events if e.get("status") == "failed"]


def status(inventory: Path) -> dict[str, Any]:
    proc = fleetkit("swarm", "status", "-i", str(inventory), "--json")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def service(inventory: Path) -> dict[str, Any]:
    return next(s for s in status(inventory)["services"] if s["name"] == SERVICE)


def on_manager(inventory: Path, command: str) -> str:
    """The output of command on the first manager (`fleetkit exec` lines are 'host | text')."""
    proc = fleetkit("exec", "managers[0]", "-i", str(inventory), "--", command)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line.split("|", 1)[1].strip() for line in proc.stdout.splitlines() if "|" in line]
    return "\n".join(lines)


def running_images(inventory: Path) -> list[str]:
    text = on_manager(
        inventory,
        f"docker service ps {SERVICE} --filter desired-state=running --format '{{{{.Image}}}}'",
    )
    return text.split()


def answers(inventory: Path) -> set[str]:
    """What every task's host-mode port answers over HTTP (lab addresses only)."""
    seen: set[str] = set()
    for endpoint in service(inventory)["endpoints"]:
        assert endpoint["address"].startswith("198.18.")  # lab traffic only
        url = f"http://{endpoint['address']}:{endpoint['port']}/"
        seen.add(_answer(url))
    return seen


def _answer(url: str, patience_s: float = 10.0) -> str:
    """url's body; a refused connection is retried for patience_s, since a task the
    engine reports running may not have bound its port yet (CI saw one refused right
    after a rollback converged)."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return str(resp.read().decode().strip())
        except urllib.error.URLError as err:
            if not isinstance(err.reason, ConnectionRefusedError):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def eventually(check: Callable[[], bool], timeout: float = 90, every: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(every)


def node_states(inventory: Path) -> dict[str, str]:
    return {n["hostname"]: n["state"] for n in status(inventory)["nodes"]}


@contextlib.contextmanager
def dockerd_stopped(lab: LabState, host: str) -> Iterator[None]:
    """Freeze a host's dockerd (SIGSTOP): the swarm sees the node go down. Always resumed.

    Freezing, unlike killing, keeps the lab's recorded dockerd pid valid, so the shared
    lab is not seen as half dead and rebuilt.
    """
    pid = next(h.dockerd_pid for h in lab.hosts if h.name == host)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


# fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inventory(lab: LabState) -> Iterator[Path]:
    """The lab's inventory; on exit: this module's service removed, its swarm dissolved."""
    assert lab.docker and lab.inventory is not None
    path = Path(lab.inventory)
    before = on_manager(path, "docker info --format '{{.Swarm.LocalNodeState}}'")
    yield path
    with contextlib.suppress(Exception):
        on_manager(path, f"docker service rm {SERVICE} >/dev/null 2>&1 || true")
    if before.strip() == "inactive":
        for group in ("workers", "managers"):
            fleetkit("exec", group, "-i", str(path), "--", "docker swarm leave --force || true")


@pytest.fixture(scope="module")
def tokens(inventory: Path) -> dict[str, str]:
    """The swarm's join tokens, read here only to check no output ever shows them."""
    return {
        role: on_manager(inventory, f"docker swarm join-token -q {role}").strip()
        for role in ("worker", "manager")
    }


# the swarm -------------------------------------------------------------------------------


def test_bootstrap_gives_one_manager_and_two_workers(inventory: Path) -> None:
    rc, _, output = play(inventory, "bootstrap-swarm.yml")
    assert rc == 0, output
    nodes = on_manager(inventory, "docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'")
    roles = dict(line.partition(" ")[::2] for line in nodes.splitlines())
    assert roles == {"lab1": "Leader", "lab2": "", "lab3": ""}


def test_a_second_bootstrap_reports_zero_changed(inventory: Path) -> None:
    rc, events, output = play(inventory, "bootstrap-swarm.yml")
    assert rc == 0, output
    assert changed(events) == 0


def test_join_tokens_never_appear_in_json_output_or_logs(
    inventory: Path, tokens: dict[str, str], lab: LabState
) -> None:
    _, _, json_output = play(inventory, "bootstrap-swarm.yml")
    _, _, human_output = play(inventory, "bootstrap-swarm.yml", as_json=False)
    swarm_json = fleetkit("swarm", "status", "-i", str(inventory), "--json").stdout
    logs = ""
    for path in Path(lab.state_dir).rglob("*.log"):
        with contextlib.suppress(OSError):
            logs += path.read_text(errors="replace")
    for token in tokens.values():
        assert token.startswith("SWMTKN-")
        secret = token.rsplit("-", 1)[-1]
        for text in (json_output, human_output, swarm_json, logs):
            assert secret not in text


# the service -----------------------------------------------------------------------------


def test_deploy_three_replicas_then_again_changes_nothing(inventory: Path) -> None:
    rc, events, output = play(inventory, "deploy.yml", f"service={SERVICE}", "replicas=3", *FAST)
    assert rc == 0 and changed(events) == 1, output
    assert service(inventory)["running"] == 3
    rc, events, output = play(inventory, "deploy.yml", f"service={SERVICE}", "replicas=3", *FAST)
    assert rc == 0 and changed(events) == 0, output


def test_scale_to_twelve_spreads_over_all_three_nodes_then_to_two(inventory: Path) -> None:
    rc, events, output = play(inventory, "scale.yml", f"service={SERVICE}", "replicas=12")
    assert rc == 0 and changed(events) == 1, output
    svc = service(inventory)
    assert (svc["running"], svc["desired"]) == (12, 12)
    assert sorted(svc["per_node"]) == ["lab1", "lab2", "lab3"]
    assert sum(svc["per_node"].values()) == 12
    rc, events, output = play(inventory, "scale.yml", f"service={SERVICE}", "replicas=2")
    assert rc == 0 and changed(events) == 1, output
    assert service(inventory)["running"] == 2


def test_a_rolling_update_to_v2_runs_and_serves_v2_everywhere(
    inventory: Path, lab_images: dict[str, str]
) -> None:
    extra = (f"service={SERVICE}", f"image={lab_images['v2']}", *FAST)
    rc, events, output = play(inventory, "rolling-update.yml", *extra)
    assert rc == 0 and changed(events) == 1, output
    assert set(running_images(inventory)) == {lab_images["v2"]}
    assert answers(inventory) == {"fleetkit-web v2"}
    rc, events, output = play(inventory, "rolling-update.yml", *extra)
    assert rc == 0 and changed(events) == 0, output


def test_rollback_returns_to_the_previous_image(
    inventory: Path, lab_images: dict[str, str]
) -> None:
    rc, events, output = play(inventory, "rollback.yml", f"service={SERVICE}", "wait_timeout=180")
    assert rc == 0 and changed(events) == 1, output
    assert set(running_images(inventory)) == {lab_images["v1"]}
    assert answers(inventory) == {"fleetkit-web v1"}
    rc, events, output = play(inventory, "rollback.yml", f"service={SERVICE}")
    assert rc == 0 and changed(events) == 0, output


def test_an_update_to_the_bad_image_fails_and_the_engine_rolls_back(
    inventory: Path, lab_images: dict[str, str]
) -> None:
    rc, _, output = play(
        inventory, "rolling-update.yml", f"service={SERVICE}", f"image={lab_images['v2']}", *FAST
    )
    assert rc == 0, output
    extra = (f"service={SERVICE}", f"image={lab_images['bad']}", *FAST)
    rc, _, human = play(inventory, "rolling-update.yml", *extra, as_json=False)
    assert rc == 1, human
    recap = human[human.index("RECAP") :]
    assert "failed=1" in recap
    assert "FAILED" in human and "engine rolled back to " + lab_images["v2"] in human
    assert "non-zero exit" in human  # the task's own error is the reason
    assert set(running_images(inventory)) == {lab_images["v2"]}
    assert answers(inventory) == {"fleetkit-web v2"}


# failures --------------------------------------------------------------------------------


def test_a_worker_whose_dockerd_stops_is_down_and_scale_still_converges(
    inventory: Path, lab: LabState
) -> None:
    rc, _, output = play(inventory, "scale.yml", f"service={SERVICE}", "replicas=6")
    assert rc == 0, output
    assert "lab3" in service(inventory)["per_node"]
    with dockerd_stopped(lab, "lab3"):
        eventually(lambda: node_states(inventory)["lab3"] == "down", timeout=120)
        eventually(lambda: service(inventory)["running"] == 6, timeout=120)
        assert "lab3" not in service(inventory)["per_node"]
        assert any("lab3" in w for w in status(inventory)["warnings"])
        rc, events, output = play(
            inventory, "scale.yml", f"service={SERVICE}", "replicas=8", "wait_timeout=120"
        )
        assert rc == 0 and changed(events) == 1, output
        svc = service(inventory)
        assert svc["running"] == 8 and set(svc["per_node"]) == {"lab1", "lab2"}
    eventually(lambda: node_states(inventory)["lab3"] == "ready", timeout=120)


def drain_playbook(tmp_path: Path, node: str, availability: str) -> Path:
    path = tmp_path / f"node-{availability}.yml"
    path.write_text(
        f"- hosts: managers[0]\n  gather_facts: false\n  tasks:\n"
        f"    - name: {availability} {node}\n"
        f"      swarm_node: {{node: {node}, availability: {availability}, wait_timeout: 120}}\n"
    )
    return path


def test_draining_a_node_moves_its_tasks_before_it_leaves(inventory: Path, tmp_path: Path) -> None:
    # the swarm does not move tasks back to a node that returned: new ones go there
    rc, _, output = play(inventory, "scale.yml", f"service={SERVICE}", "replicas=12")
    assert rc == 0, output
    assert service(inventory)["per_node"].get("lab3", 0) >= 3
    path = drain_playbook(tmp_path, "lab3", "drain")
    proc = fleetkit("run", str(path), "-i", str(inventory), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    svc = service(inventory)
    assert "lab3" not in svc["per_node"] and svc["running"] == svc["desired"] == 12
    tasks_on_lab3 = fleetkit("exec", "lab3", "-i", str(inventory), "--", "docker ps -q | wc -l")
    assert tasks_on_lab3.stdout.strip().endswith("0"), tasks_on_lab3.stdout
    # put it back to work for the tests that follow
    path = drain_playbook(tmp_path, "lab3", "active")
    assert fleetkit("run", str(path), "-i", str(inventory)).returncode == 0


def node_playbook(tmp_path: Path, settings: dict[str, str]) -> Path:
    path = tmp_path / "nodes.yml"
    tasks = "".join(
        f'    - name: "{node} {value}"\n      swarm_node: {{node: {node}, {value}}}\n'
        for node, value in settings.items()
    )
    path.write_text(f"- hosts: managers[0]\n  gather_facts: false\n  tasks:\n{tasks}")
    return path


def test_three_managers_survive_losing_the_leader(
    inventory: Path, lab: LabState, tmp_path: Path
) -> None:
    promote = node_playbook(tmp_path, {"lab2": "role: manager", "lab3": "role: manager"})
    proc = fleetkit("run", str(promote), "-i", str(inventory))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        managers = [n["hostname"] for n in status(inventory)["nodes"] if n["role"] == "manager"]
        assert sorted(managers) == ["lab1", "lab2", "lab3"]
        with dockerd_stopped(lab, "lab1"):  # the leader
            eventually(lambda: node_states(inventory)["lab1"] == "down", timeout=120)
            cluster = status(inventory)  # lab1 does not answer: failed over
            assert cluster["source"] in ("lab2", "lab3") and cluster["skipped"]
            assert any(n["leader"] for n in cluster["nodes"] if n["hostname"] != "lab1")
            rc, events, output = play(
                inventory,
                "scale.yml",
                f"service={SERVICE}",
                "replicas=10",
                "wait_timeout=120",
                f"swarm_manager={cluster['source']}",
            )
            assert rc == 0 and changed(events) == 1, output
            svc = service(inventory)
            assert svc["running"] == 10 and "lab1" not in svc["per_node"]
        eventually(lambda: node_states(inventory)["lab1"] == "ready", timeout=120)
    finally:
        demote = node_playbook(tmp_path, {"lab2": "role: worker", "lab3": "role: worker"})
        proc = fleetkit("run", str(demote), "-i", str(inventory))
        assert proc.returncode == 0, proc.stdout + proc.stderr


# 5 hosts, 3 managers (rebuilds the lab: run last) ----------------------------------------


@pytest.fixture
def lab_images(lab: LabState) -> dict[str, str]:
    from fleetkit.inventory.load import load_inventory

    assert lab.inventory is not None
    hostvars = next(iter(load_inventory(lab.inventory).hosts.values())).vars
    return {tag: str(hostvars[f"lab_image_{tag}"]) for tag in ("v1", "v2", "bad")}


@pytest.mark.destructive
def test_a_five_host_swarm_with_three_managers_survives_losing_one(
    lab: LabState, tmp_path: Path
) -> None:
    assert lab.inventory is not None
    inventory = Path(lab.inventory)
    lab_down()
    try:
        big = lab_up(hosts=5, docker=True, inventory_out=inventory)
        rc, _, output = play(inventory, "bootstrap-swarm.yml")
        assert rc == 0, output
        nodes = status(inventory)["nodes"]
        assert sorted(n["hostname"] for n in nodes if n["role"] == "manager") == [
            "lab1",
            "lab2",
            "lab3",
        ]
        rc, _, output = play(inventory, "deploy.yml", f"service={SERVICE}", "replicas=5", *FAST)
        assert rc == 0, output
        with dockerd_stopped(big, "lab1"):  # the leader
            eventually(lambda: node_states(inventory)["lab1"] == "down", timeout=120)
            cluster = status(inventory)
            assert cluster["source"] != "lab1"
            assert any(n["leader"] for n in cluster["nodes"] if n["hostname"] != "lab1")
            rc, events, output = play(
                inventory,
                "scale.yml",
                f"service={SERVICE}",
                "replicas=8",
                "wait_timeout=120",
                f"swarm_manager={cluster['source']}",
            )
            assert rc == 0 and changed(events) == 1, output
            assert service(inventory)["running"] == 8
    finally:
        lab_down()
        lab_up(hosts=3, docker=True, inventory_out=inventory)
        assert lab_status() is not None
