"""The exporter against real lab hosts: every contract host metric, plausible values,
a host whose sshd stops, reconnection, and containers/swarm on a --docker lab."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.support import FLEETKIT, HOST_METRICS

from fleetkit.inventory.load import load_inventory
from fleetkit.lab import LabState, lab_status
from fleetkit.lab.procs import children_of
from fleetkit.monitoring.cycle import Collection, Targets, open_pool
from fleetkit.monitoring.exporter import MetricsCache

pytestmark = pytest.mark.integration

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def of_host(samples: Samples, name: str, host: str) -> list[tuple[dict[str, str], float]]:
    return [(dict(k), v) for k, v in samples.get(name, {}).items() if dict(k).get("host") == host]


@pytest.fixture
def inventory(lab: LabState) -> str:
    assert lab.inventory is not None
    return str(lab.inventory)


@pytest.fixture
def collection(inventory: str) -> Iterator[Collection]:
    """A long-lived collection over the lab (persistent connections), short timeouts."""
    inv = load_inventory(inventory)
    hosts = tuple(inv.hosts)
    with open_pool(inv, hosts, timeout=3.0) as pool:
        yield Collection(Targets.from_inventory(inv, hosts), pool, timeout=3.0, interval=0.5)


def remote(inventory: str, host: str, command: str, *, become: bool = False) -> str:
    """stdout of command on one lab host (asserting it succeeded)."""
    inv = load_inventory(inventory)
    with open_pool(inv, (host,), timeout=10) as pool:
        result = pool.connection(host).run(command, timeout=60, become=become)
    assert result.rc == 0, f"{host}: {command}: {result.stderr}"
    return result.stdout


def test_once_gives_every_host_metric_with_plausible_values(lab: LabState, inventory: str) -> None:
    out = subprocess.run(
        [*FLEETKIT, "exporter", "-i", inventory, "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    samples = parse(out)
    now = time.time()
    for h in lab.hosts:
        for name in HOST_METRICS:
            assert of_host(samples, name, h.name), f"{h.name}: no {name}"
        assert of_host(samples, "fleetkit_host_up", h.name)[0][1] == 1.0
        meminfo = remote(inventory, h.name, "cat /proc/meminfo")
        mem_total_kb = int(
            next(ln for ln in meminfo.splitlines() if ln.startswith("MemTotal")).split()[1]
        )
        total = of_host(samples, "fleetkit_host_memory_total_bytes", h.name)[0][1]
        available = of_host(samples, "fleetkit_host_memory_available_bytes", h.name)[0][1]
        assert total == mem_total_kb * 1024
        assert 0 < available <= total
        nproc = int(remote(inventory, h.name, "nproc --all").strip())
        for load_name in ("fleetkit_host_load1", "fleetkit_host_load5", "fleetkit_host_load15"):
            load = of_host(samples, load_name, h.name)[0][1]
            assert 0 <= load < 100 * nproc
        modes = {
            lb["mode"]: v for lb, v in of_host(samples, "fleetkit_host_cpu_seconds_total", h.name)
        }
        assert set(modes) == {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}
        assert modes["idle"] > 0
        fs = {
            lb["mountpoint"]: v
            for lb, v in of_host(samples, "fleetkit_host_filesystem_size_bytes", h.name)
        }
        avail = {
            lb["mountpoint"]: v
            for lb, v in of_host(samples, "fleetkit_host_filesystem_avail_bytes", h.name)
        }
        assert "/" in fs and 0 < avail["/"] <= fs["/"]
        assert all(0 <= avail[m] <= fs[m] for m in fs)
        devices = {
            lb["device"]
            for lb, _ in of_host(samples, "fleetkit_host_network_receive_bytes_total", h.name)
        }
        assert "lo" not in devices and devices
        boot = of_host(samples, "fleetkit_host_boot_time_seconds", h.name)[0][1]
        assert now - 10 * 365 * 86400 < boot < now
        last = of_host(samples, "fleetkit_host_last_collect_timestamp_seconds", h.name)[0][1]
        assert abs(now - last) < 120
        info = of_host(samples, "fleetkit_host_info", h.name)[0][0]
        assert info["kernel"] and info["os"] and info["groups"]
    assert samples["fleetkit_exporter_cycles_total"][()] == 1.0


def test_warm_cycles_reuse_the_same_connections(lab: LabState, inventory: str) -> None:
    inv = load_inventory(inventory)
    hosts = tuple(inv.hosts)
    with open_pool(inv, hosts, timeout=10.0) as pool:
        collection = Collection(Targets.from_inventory(inv, hosts), pool, timeout=10.0)
        collection.cycle()  # connects
        first = {h: pool.connection(h) for h in hosts}
        snaps = [collection.cycle() for _ in range(3)]
        assert all(pool.connection(h) is first[h] and first[h].is_open for h in hosts)
    assert all(h.up for s in snaps for h in s.hosts)
    # generous: the lab shares this machine's CPUs with everything else (see bench/)
    assert min(s.cycle_duration_s for s in snaps) < 5.0


@contextmanager
def frozen_sshd(host: str) -> Iterator[None]:
    """Stop every sshd process of a lab host (listener and open sessions) with SIGSTOP,
    and always thaw them again: the host is unreachable meanwhile, pids unchanged."""
    live = lab_status()
    assert live is not None
    master = live.host(host).sshd_pid
    assert master
    pids = [master, *children_of([master])]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@pytest.mark.destructive  # freezes one host's sshd for a few seconds (thawed after)
def test_a_stopped_sshd_is_host_up_zero_next_cycle_and_others_unaffected(
    lab: LabState, collection: Collection
) -> None:
    victim = lab.hosts[-1].name
    first = collection.cycle()
    assert all(h.up for h in first.hosts)
    with frozen_sshd(victim):
        snap = collection.cycle()
        assert not snap.host(victim).up
        assert all(h.up for h in snap.hosts if h.host != victim)
        assert snap.cycle_duration_s < 3.0 * 3 + 2  # bounded by the per-host timeout
        text = MetricsCache(lambda: snap).text()
        assert f'fleetkit_host_up{{host="{victim}"}} 0.0' in text
    deadline = time.monotonic() + 60
    while not collection.cycle().host(victim).up:  # reconnects after its backoff
        assert time.monotonic() < deadline, f"{victim} did not come back"
        time.sleep(0.2)


def docker_run(inventory: str, host: str, *args: str) -> str:
    return remote(inventory, host, "docker " + " ".join(args)).strip()


@pytest.fixture
def containers(lab: LabState, inventory: str) -> Iterator[tuple[str, str, str]]:
    """Two containers on the second lab host: one with a health check, one without."""
    if not lab.docker:
        pytest.skip("the lab runs without --docker: no containers to see")
    host = lab.hosts[1].name
    tag = uuid.uuid4().hex[:8]
    checked, plain = f"fk-mon-checked-{tag}", f"fk-mon-plain-{tag}"
    image = lab.registry and f"{lab.registry}/fleetkit/web:v1"
    assert image
    docker_run(
        inventory, host, "run -d --name", checked,
        "--health-cmd true --health-interval 1s --health-start-period 1s", image,
    )  # fmt: skip
    docker_run(inventory, host, "run -d --name", plain, image)
    try:
        yield host, checked, plain
    finally:
        remote(inventory, host, f"docker rm -f {checked} {plain} >/dev/null 2>&1 || true")


@pytest.mark.destructive  # starts and removes two containers on a lab host
def test_running_containers_appear_and_vanish_when_removed(
    inventory: str, collection: Collection, containers: tuple[str, str, str]
) -> None:
    host, checked, plain = containers
    deadline = time.monotonic() + 60
    while True:
        snap = collection.cycle()
        got = {c.name: c for c in snap.host(host).containers or ()}
        if checked in got and got[checked].health == "healthy":
            break
        assert time.monotonic() < deadline, f"no healthy {checked}: {got}"
        time.sleep(0.5)
    samples = parse(MetricsCache(lambda: snap).text())
    key = {"host": host, "name": checked}
    running = {lb["name"]: v for lb, v in of_host(samples, "fleetkit_container_running", host)}
    assert running[checked] == 1.0 and running[plain] == 1.0
    health = {lb["name"]: v for lb, v in of_host(samples, "fleetkit_container_health_state", host)}
    assert health[checked] == 1.0 and health[plain] == -1.0
    assert samples["fleetkit_container_restarts_total"][tuple(sorted(key.items()))] == 0.0
    assert samples["fleetkit_container_cpu_seconds_total"][tuple(sorted(key.items()))] >= 0
    assert samples["fleetkit_container_memory_usage_bytes"][tuple(sorted(key.items()))] > 0
    remote(inventory, host, f"docker rm -f {checked} {plain}")
    after = collection.cycle()
    text = MetricsCache(lambda: after).text()
    assert checked not in text and plain not in text


@pytest.mark.usefixtures("swarm_service")
def test_swarm_replicas_match_docker_service_ls(lab: LabState, inventory: str) -> None:
    if not lab.docker:
        pytest.skip("the lab runs without --docker: no swarm")
    manager = lab.hosts[0].name
    state = remote(inventory, manager, "docker info --format '{{.Swarm.LocalNodeState}}'").strip()
    if state != "active":
        pytest.skip("the lab's swarm is not initialised (the swarm tests bootstrap it)")

    def listed() -> dict[str, tuple[int, int]]:
        out = remote(inventory, manager, "docker service ls --format '{{.Name}} {{.Replicas}}'")
        found = {}
        for line in out.splitlines():
            name, replicas = line.split(" ", 1)
            running, desired = replicas.split(" ")[0].split("/")
            found[name] = (int(running), int(desired))
        return found

    inv = load_inventory(inventory)
    hosts = tuple(inv.hosts)
    with open_pool(inv, hosts, timeout=5.0) as pool:
        collection = Collection(Targets.from_inventory(inv, hosts), pool, timeout=5.0)
        for _ in range(20):  # services may be converging: compare until two reads agree
            before = listed()
            snap = collection.cycle()
            assert snap.swarm is not None and snap.swarm.source == manager
            got = {s.name: (s.running, s.desired) for s in snap.swarm.services}
            if got == before == listed():
                break
            time.sleep(1)
        else:
            pytest.fail(f"exporter {got} never matched docker service ls {before}")
    nodes = {n.node: n for n in snap.swarm.nodes}
    assert nodes[manager].role == "manager" and nodes[manager].ready


def test_exporter_process_stops_cleanly_on_sigterm(inventory: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*FLEETKIT, "exporter", "-i", inventory, "--listen", "127.0.0.1:0", "--interval", "1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        seen = ""
        while "cycle 1:" not in seen and time.monotonic() < deadline:
            seen += proc.stderr.readline()
        assert "listening on http://127.0.0.1:" in seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
