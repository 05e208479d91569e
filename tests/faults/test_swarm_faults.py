"""Swarm faults on the --docker lab (issue 11): a worker's dockerd killed during `scale`,
the leader's dockerd killed during a rolling update with 3 managers, the registry
stopped during an update. Each ends with a clear result in bounded time, never a
traceback, and the swarm whole again afterwards (daemons restarted in place).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.faults import lab_faults
from tests.faults.lab_faults import Table
from tests.support import FLEETKIT

from fleetkit.inventory.load import load_inventory
from fleetkit.lab import LabState

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "fkfault-web"
FAST = ("update_parallelism=1", "update_delay=2s", "update_monitor=2s", "wait_timeout=180")


def fleetkit(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLEETKIT, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout
    )


def play(inventory: Path, playbook: str, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    args = ["run", str(ROOT / "playbooks" / playbook), "-i", str(inventory), "--json"]
    for item in extra:
        args += ["-e", item]
    proc = fleetkit(*args)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stdout + proc.stderr


def status(inventory: Path, *extra: str) -> dict[str, Any]:
    proc = fleetkit("swarm", "status", "-i", str(inventory), "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def service(inventory: Path) -> dict[str, Any]:
    return next(s for s in status(inventory)["services"] if s["name"] == SERVICE)


def eventually(check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(1)


def node_states(inventory: Path) -> dict[str, str]:
    return {n["hostname"]: n["state"] for n in status(inventory)["nodes"]}


def images(lab: LabState) -> dict[str, str]:
    assert lab.inventory is not None
    hostvars = next(iter(load_inventory(lab.inventory).hosts.values())).vars
    return {tag: str(hostvars[f"lab_image_{tag}"]) for tag in ("v1", "v2")}


def on(inventory: Path, host: str, command: str) -> str:
    proc = fleetkit("exec", host, "-i", str(inventory), "--json", "--", command)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    out = [e for e in results if e["event"] == "host_result"]
    assert out and out[0]["status"] in ("ok", "changed"), proc.stdout + proc.stderr
    return str(out[0]["stdout"])


def running_images(inventory: Path) -> set[str]:
    fmt = "{{.Image}}"
    text = on(
        inventory,
        "managers[0]",
        f"docker service ps {SERVICE} --filter desired-state=running --format '{fmt}'",
    )
    return set(text.split())


@pytest.fixture(scope="module")
def swarm(swarm_service: str, lab: LabState) -> Iterator[Path]:
    """The session's swarm with this module's service (3 replicas of v1), removed after."""
    assert lab.inventory is not None
    inventory = Path(lab.inventory)
    v1 = images(lab)["v1"]
    rc, _, output = play(
        inventory, "deploy.yml", f"service={SERVICE}", "replicas=3", f"image={v1}", *FAST
    )
    assert rc == 0, output
    try:
        yield inventory
    finally:
        on(inventory, "managers[0]", f"docker service rm {SERVICE} >/dev/null 2>&1 || true")


def test_a_worker_dockerd_killed_during_scale(swarm: Path, lab: LabState, outcomes: Table) -> None:
    worker = lab.hosts[-1].name
    pool = ThreadPoolExecutor(1)
    running = pool.submit(
        play, swarm, "scale.yml", f"service={SERVICE}", "replicas=9", "wait_timeout=180"
    )
    time.sleep(1.0)
    start = time.monotonic()
    lab_faults.kill_dockerd(worker)
    try:
        rc, _, output = running.result(timeout=300)
        took = time.monotonic() - start
        assert "Traceback" not in output
        assert rc == 0, output  # the swarm reschedules the lost node's tasks
        eventually(lambda: node_states(swarm)[worker] == "down")
        svc = service(swarm)
        assert svc["running"] == 9 and worker not in svc["per_node"], svc
    finally:
        pool.shutdown(wait=False)
        lab_faults.restart_dockerd(worker)
    eventually(lambda: node_states(swarm)[worker] == "ready")
    outcomes.add(
        f"swarm: {worker}'s dockerd SIGKILLed during scale 3 -> 9",
        f"scale ok (exit 0) in {took:.0f}s with 9 running on the others; node down, ready"
        " again after a restart",
    )


def test_the_leader_dockerd_killed_during_a_rolling_update_with_three_managers(
    swarm: Path, lab: LabState, tmp_path: Path, outcomes: Table
) -> None:
    leader, others = lab.hosts[0].name, [h.name for h in lab.hosts[1:]]
    v2 = images(lab)["v2"]

    def roles(role: str, on_host: str) -> Path:
        path = tmp_path / f"{role}.yml"
        tasks = "".join(
            f"    - name: {n} {role}\n      swarm_node: {{node: {n}, role: {role}}}\n"
            for n in others
        )
        path.write_text(f"- hosts: {on_host}\n  gather_facts: false\n  tasks:\n{tasks}")
        return path

    proc = fleetkit("run", str(roles("manager", leader)), "-i", str(swarm))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        pool = ThreadPoolExecutor(1)
        running = pool.submit(
            play, swarm, "rolling-update.yml", f"service={SERVICE}", f"image={v2}", *FAST
        )
        time.sleep(3.0)  # the update is under way (one task per 2 s + monitor)
        start = time.monotonic()
        lab_faults.kill_dockerd(leader)
        try:
            rc, events, output = running.result(timeout=300)
            took = time.monotonic() - start
            assert "Traceback" not in output
            failed = [str(e["msg"]) for e in events if e.get("status") in ("failed", "unreachable")]
            assert rc in (1, 3) and failed, output  # the run's manager is gone: said, not hung
            assert took < 120
            again = status(swarm)
            assert again["source"] in others and again["skipped"]
            rc2, _, output2 = play(
                swarm, "rolling-update.yml", f"service={SERVICE}", f"image={v2}", *FAST,
                f"swarm_manager={again['source']}",
            )  # fmt: skip
            assert rc2 == 0, output2
        finally:
            pool.shutdown(wait=False)
            lab_faults.restart_dockerd(leader)
        eventually(lambda: node_states(swarm)[leader] == "ready")
    finally:
        for on_host in (leader, *others):  # whichever manager answers
            proc = fleetkit("run", str(roles("worker", on_host)), "-i", str(swarm))
            if proc.returncode == 0:
                break
        assert proc.returncode == 0, proc.stdout + proc.stderr
    outcomes.add(
        "swarm: the leader's dockerd SIGKILLed during a rolling update (3 managers)",
        f"the run fails in {took:.0f}s naming the lost manager ({failed[0][:60]});"
        f" status fails over to {again['source']}; the update rerun there completes",
    )


def test_the_registry_stopped_during_an_update(swarm: Path, lab: LabState, outcomes: Table) -> None:
    v1 = images(lab)["v1"]
    registry = v1.split("/", 1)[0]
    fresh = f"{registry}/fleetkit/web:fkfault-{uuid.uuid4().hex[:8]}"
    manager = lab.hosts[0].name
    on(swarm, manager, f"docker tag {images(lab)['v2']} {fresh} && docker push -q {fresh}")
    on(swarm, manager, f"docker rmi {fresh} >/dev/null")  # no node has it: it must be pulled
    before = running_images(swarm)
    with lab_faults.registry_stopped():
        start = time.monotonic()
        rc, events, output = play(
            swarm, "rolling-update.yml", f"service={SERVICE}", f"image={fresh}", *FAST
        )
        took = time.monotonic() - start
    assert "Traceback" not in output
    failed = [str(e["msg"]) for e in events if e.get("status") == "failed"]
    assert rc == 1 and failed, output
    assert took < 240
    eventually(lambda: running_images(swarm) == before)
    outcomes.add(
        "swarm: the registry stopped during an update to an image no node has",
        f"the update fails in {took:.0f}s with the engine's reason ({failed[0][:70]});"
        " the service keeps its old image",
    )
