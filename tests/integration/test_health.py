"""`fleetkit health` on lab hosts: passes when healthy, names a full filesystem or a
stopped required container, and writes its textfile atomically."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support import FLEETKIT

from fleetkit.inventory.load import load_inventory
from fleetkit.lab import LabState
from fleetkit.monitoring.cycle import open_pool

pytestmark = pytest.mark.integration

# The lab hosts share this machine's load: judge health, not the CI machine's business.
CALM_LOAD = "thresholds:\n  load_per_cpu: 1000\n"


def health(*args: str) -> tuple[int, list[dict[str, Any]]]:
    out = subprocess.run(
        [*FLEETKIT, "health", "--json", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert rows and rows[-1]["event"] == "summary", out.stderr
    return out.returncode, rows


def remote(inventory: str, host: str, command: str) -> str:
    inv = load_inventory(inventory)
    with open_pool(inv, (host,), timeout=10) as pool:
        result = pool.connection(host).run(command, timeout=120)
    assert result.rc == 0, f"{host}: {command}: {result.stderr}"
    return result.stdout


@pytest.fixture
def inventory(lab: LabState) -> str:
    assert lab.inventory is not None
    return str(lab.inventory)


@pytest.fixture
def checks(tmp_path: Path) -> Path:
    path = tmp_path / "checks.yml"
    path.write_text(
        CALM_LOAD + "commands:\n  - name: sh-works\n    command: echo ok\n    stdout: '^ok$'\n"
    )
    return path


def test_health_passes_on_healthy_hosts_and_writes_the_textfile(
    lab: LabState, inventory: str, checks: Path, tmp_path: Path
) -> None:
    textfile = tmp_path / "fleetkit_health.prom"
    code, rows = health("-i", inventory, "--checks", str(checks), "--textfile", str(textfile))
    failed = [r for r in rows if r.get("event") == "check" and not r["ok"]]
    assert code == 0, failed
    checked = {(r["host"], r["check"]) for r in rows if r.get("event") == "check"}
    for h in lab.hosts:
        for name in ("reachable", "load", "memory", "filesystem:/", "command:sh-works"):
            assert (h.name, name) in checked
    text = textfile.read_text()
    assert 'fleetkit_health_check_ok{check="reachable",host="' in text
    assert "fleetkit_health_last_run_timestamp_seconds" in text


def test_textfile_is_replaced_atomically_between_runs(
    inventory: str, checks: Path, tmp_path: Path
) -> None:
    textfile = tmp_path / "fleetkit_health.prom"
    health("-i", inventory, "--checks", str(checks), "--textfile", str(textfile))
    first = textfile.stat().st_ino
    health("-i", inventory, "--checks", str(checks), "--textfile", str(textfile))
    assert textfile.stat().st_ino != first  # renamed over, never rewritten in place
    assert [p.name for p in tmp_path.iterdir() if p.name != "checks.yml"] == [textfile.name]


@pytest.fixture
def full_filesystem(lab: LabState, inventory: str) -> Iterator[tuple[str, str]]:
    """A 1 MiB tmpfs mounted inside the last lab host and filled up (then removed)."""
    host = lab.hosts[-1].name
    mountpoint = f"/srv/fk-fill-{uuid.uuid4().hex[:8]}"
    remote(
        inventory,
        host,
        f"sudo -n mkdir -p {mountpoint} && sudo -n mount -t tmpfs -o size=1m fkfill {mountpoint}"
        f" && (sudo -n dd if=/dev/zero of={mountpoint}/fill bs=64k 2>/dev/null; true)",
    )
    try:
        yield host, mountpoint
    finally:
        remote(inventory, host, f"sudo -n umount {mountpoint}; sudo -n rmdir {mountpoint}")


@pytest.mark.destructive  # mounts (and removes) a small full tmpfs inside one lab host
def test_a_full_filesystem_fails_naming_the_check_and_the_host(
    inventory: str, checks: Path, full_filesystem: tuple[str, str], tmp_path: Path
) -> None:
    host, mountpoint = full_filesystem
    textfile = tmp_path / "fleetkit_health.prom"
    code, rows = health("-i", inventory, "--checks", str(checks), "--textfile", str(textfile))
    assert code == 1
    assert rows[-1]["failed"] == [{"host": host, "check": f"filesystem:{mountpoint}"}]
    row = next(r for r in rows if r.get("check") == f"filesystem:{mountpoint}")
    assert row["value"] == 100.0 and "tmpfs" in row["msg"]
    assert (
        f'fleetkit_health_check_ok{{check="filesystem:{mountpoint}",host="{host}"}} 0.0'
        in textfile.read_text()
    )
    human = subprocess.run(
        [*FLEETKIT, "health", "-i", inventory, "--checks", str(checks)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert human.returncode == 1
    assert f"filesystem:{mountpoint}" in human.stdout


@pytest.fixture
def required_container(lab: LabState, inventory: str) -> Iterator[tuple[str, str]]:
    """A running container on the second lab host (removed afterwards)."""
    if not lab.docker or not lab.registry:
        pytest.skip("the lab runs without --docker: no containers")
    host = lab.hosts[1].name
    name = f"fk-health-{uuid.uuid4().hex[:8]}"
    remote(inventory, host, f"docker run -d --name {name} {lab.registry}/fleetkit/web:v1")
    try:
        yield host, name
    finally:
        remote(inventory, host, f"docker rm -f {name} >/dev/null 2>&1 || true")


@pytest.mark.destructive  # starts, stops and removes a container on one lab host
def test_a_stopped_required_container_fails_naming_it(
    inventory: str, required_container: tuple[str, str], tmp_path: Path
) -> None:
    host, name = required_container
    checks = tmp_path / "checks.yml"
    checks.write_text(CALM_LOAD + f"containers:\n  - name: {name}\n    hosts: {host}\n")
    code, rows = health("-i", inventory, "--checks", str(checks))
    assert code == 0, rows[-1]
    remote(inventory, host, f"docker stop -t 1 {name}")
    code, rows = health("-i", inventory, "--checks", str(checks))
    assert code == 1
    assert rows[-1]["failed"] == [{"host": host, "check": f"container:{name}"}]
    row = next(r for r in rows if r.get("check") == f"container:{name}")
    assert "exited" in row["msg"]
