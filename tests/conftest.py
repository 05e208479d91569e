"""Session fixtures shared by the test layers: one --docker lab per test session (needs root).

The lab is one per machine, so every layer (integration, e2e) shares it.
Reuse mode, for developers running tests side by side: a live lab of the
right shape is reused and left up, and tests marked `destructive` (they take
the lab down or rebuild it) are skipped. It is on with
FLEETKIT_TEST_REUSE_LAB=1, and by default outside CI when such a lab is up;
FLEETKIT_TEST_REUSE_LAB=0 (and CI=true, as CI sets) gives a fresh lab: `lab
down` first, `lab up`, `lab down` at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from tests.support import fleetkit, json_events

from fleetkit.lab import LabState, lab_down, lab_status, lab_up

LAB_HOSTS = 3
LAB_DOCKER = True  # swarm, monitoring and dashboard tests need a dockerd per host
REUSE_ENV = "FLEETKIT_TEST_REUSE_LAB"


def reusing_lab() -> bool:
    """True when tests share a live lab with other sessions (nothing may take it down)."""
    wanted = os.environ.get(REUSE_ENV)
    if wanted is not None:
        return wanted == "1"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    live = lab_status()
    return live is not None and live.alive and _right_shape(live)


def _right_shape(state: LabState) -> bool:
    return len(state.hosts) == LAB_HOSTS and state.docker == LAB_DOCKER


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    """The session's lab: fresh (down, up, down at the end), or reused when asked."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (it makes network and mount namespaces): run as root")
    if reusing_lab():
        live = lab_status()
        if live is not None and live.alive and _right_shape(live) and live.inventory:
            yield _current_inventory(live, tmp_path_factory)
            return
        pytest.fail(
            f"{REUSE_ENV}=1 but no live lab of {LAB_HOSTS} hosts (docker={LAB_DOCKER}):"
            f" run `fleetkit lab up --hosts {LAB_HOSTS}{' --docker' if LAB_DOCKER else ''}`"
        )
    lab_down()
    inventory = tmp_path_factory.mktemp("lab") / "hosts.yml"
    started = time.monotonic()
    state = lab_up(hosts=LAB_HOSTS, docker=LAB_DOCKER, inventory_out=inventory)
    print(f"\nlab up: {len(state.hosts)} hosts in {time.monotonic() - started:.1f}s")
    try:
        yield state
    finally:
        lab_down()


def _current_inventory(live: LabState, tmp_path_factory: pytest.TempPathFactory) -> LabState:
    """The live lab with an inventory written now by this checkout's writer, so a lab
    made by an older `lab up` (its file on disk left alone) is read in today's names."""
    import dataclasses

    from fleetkit.lab.up import lab_inventory_text

    inventory = tmp_path_factory.mktemp("lab-reused") / "hosts.yml"
    inventory.write_text(lab_inventory_text(len(live.hosts), live.docker))
    return dataclasses.replace(live, inventory=inventory)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--keeper",
        action="store_true",
        help="run every fleetkit command of the session through a connection keeper"
        " (FLEETKIT_PERSIST=10m, a keeper of the session's own); `make test` runs the"
        " exec, run and health lab tests once more this way (issue 14)",
    )


@pytest.fixture(scope="session", autouse=True)
def _through_the_keeper(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """With --keeper: every fleetkit process of the session (they inherit the environment)
    runs with the keeper on; at the end, the keeper must have held connections (so the
    run really went through it) and is stopped."""
    if not request.config.getoption("--keeper"):
        yield
        return
    runtime = tmp_path_factory.mktemp("keeper-runtime")
    runtime.chmod(0o700)
    saved = {k: os.environ.get(k) for k in ("FLEETKIT_PERSIST", "XDG_RUNTIME_DIR")}
    os.environ.update(FLEETKIT_PERSIST="10m", XDG_RUNTIME_DIR=str(runtime))
    try:
        yield
        held = fleetkit("persist", "status", "--json")
        assert held.returncode == 0 and held.stdout.strip(), (
            "--keeper: no connection was held at the end of the session: the commands"
            f" did not go through the keeper ({held.stdout}{held.stderr})"
        )
    finally:
        fleetkit("persist", "stop")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(autouse=True)
def _skip_destructive_when_sharing(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("destructive") and reusing_lab():
        pytest.skip(f"takes the shared lab down ({REUSE_ENV}=1)")


MONITORED_SERVICE = "monitored"


def _swarm_state(inventory: str, manager: str) -> str:
    fmt = "{{.Swarm.LocalNodeState}}"
    proc = fleetkit(
        "exec", manager, "-i", inventory, "--json", "--", f"docker info --format '{fmt}'"
    )
    for event in json_events(proc.stdout):
        if event["event"] == "host_result":
            return str(event["stdout"]).strip()
    return ""


@pytest.fixture(scope="module")
def swarm_service(lab: LabState) -> Iterator[str]:
    """A swarm with a running service (3 replicas), for the monitoring and dashboard tests.

    Made with fleetkit's own playbooks when the lab has no swarm, and dissolved
    afterwards, so the swarm tests still start from a lab without one.
    """
    if not lab.docker or lab.inventory is None:
        pytest.skip("the lab runs without --docker: no swarm")
    inventory, manager = str(lab.inventory), lab.hosts[0].name
    made = _swarm_state(inventory, manager) != "active"
    for playbook, extra in (
        ("bootstrap-swarm.yml", ()),
        ("deploy.yml", ("-e", f"service={MONITORED_SERVICE}", "-e", "replicas=3")),
    ):
        proc = fleetkit("run", f"playbooks/{playbook}", "-i", inventory, *extra)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        yield MONITORED_SERVICE
    finally:
        fleetkit("exec", manager, "-i", inventory, "--", f"docker service rm {MONITORED_SERVICE}")
        if made:
            for group in ("workers", "managers"):
                fleetkit("exec", group, "-i", inventory, "--", "docker swarm leave --force")
