"""The exporter's two Docker paths on a lab host give the same container metrics.

A container runs on lab2; one collection asks Docker through the Engine API (a
stream to /var/run/docker.sock over the SSH connection), another through the docker
CLI inside the probe. Their fleetkit_container_* series must match: running,
restarts and health exactly, CPU seconds and memory within a tolerance (they move
between the two cycles).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from tests.support import FLEETKIT

from fleetkit.inventory.load import load_inventory
from fleetkit.lab import LabState
from fleetkit.monitoring.collectors import containers
from fleetkit.monitoring.cycle import Collection, Targets, open_pool
from fleetkit.monitoring.exporter import MetricsCache

pytestmark = pytest.mark.integration

HOST = "lab2"
NAME = "fk-eapi-test"
IMAGE = "198.18.0.1:5000/fleetkit/web:v1"
Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def fk_exec(inventory: str, command: str) -> str:
    done = subprocess.run(
        [*FLEETKIT, "exec", HOST, "-i", inventory, "--", command],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def inventory(lab: LabState) -> str:
    if not lab.docker or lab.inventory is None:
        pytest.skip("the lab runs without --docker")
    return str(lab.inventory)


@pytest.fixture
def container(inventory: str) -> Iterator[str]:
    fk_exec(inventory, f"docker rm -f {NAME} >/dev/null 2>&1; docker run -d --name {NAME} {IMAGE}")
    try:
        yield NAME
    finally:
        fk_exec(inventory, f"docker rm -f {NAME}")


def container_series(inventory: str, *, docker_api: bool) -> tuple[Series, Collection]:
    """lab2's fleetkit_container_* samples after one cycle on the chosen path."""
    from prometheus_client.parser import text_string_to_metric_families

    inv = load_inventory(inventory)
    with open_pool(inv, (HOST,), timeout=10.0) as pool:
        coll = Collection(
            Targets.from_inventory(inv, (HOST,)), pool, timeout=10.0, docker_api=docker_api
        )
        snap = coll.cycle()
        assert snap.hosts[0].up, snap.hosts[0].error
        assert not snap.hosts[0].warnings, snap.hosts[0].warnings
        if docker_api:  # the API path really ran: the engine answered over the stream
            section = containers.engine_section(pool.connection(HOST))
            assert section is not None and "C|" in section
        text = MetricsCache(lambda: coll.latest).text()
    out: Series = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith("fleetkit_container_"):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out, coll


def test_engine_api_and_cli_give_the_same_container_metrics(inventory: str, container: str) -> None:
    api, api_coll = container_series(inventory, docker_api=True)
    cli, _ = container_series(inventory, docker_api=False)
    assert api.keys() == cli.keys()
    ours = [k for k in api if dict(k[1]).get("name") == container]
    names = {k[0] for k in ours}
    assert {
        "fleetkit_container_running",
        "fleetkit_container_restarts_total",
        "fleetkit_container_health_state",
        "fleetkit_container_cpu_seconds_total",
        "fleetkit_container_memory_usage_bytes",
    } <= names, names
    for key, value in api.items():
        name = key[0]
        if name.startswith("fleetkit_container_cpu_seconds"):
            assert abs(value - cli[key]) <= 0.5, (key, value, cli[key])
        elif name.startswith("fleetkit_container_memory"):
            assert abs(value - cli[key]) <= max(8 << 20, 0.2 * cli[key]), (key, value, cli[key])
        else:
            assert value == cli[key], (key, value, cli[key])
    running = [v for k, v in api.items() if k in ours and k[0] == "fleetkit_container_running"]
    assert running == [1.0]
    assert not api_coll._state[HOST].docker_cli
