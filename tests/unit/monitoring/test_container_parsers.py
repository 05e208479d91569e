"""Docker, swarm and Kubernetes sections: parsing, odd cases, and the cgroup awk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fleetkit.monitoring.collectors import containers, k8s, swarm
from fleetkit.monitoring.probe import split_sections

from .helpers import fixture_text


def test_containers_parse_state_restarts_health_and_usage() -> None:
    got = {c.name: c for c in containers.parse_containers(fixture_text("docker/section.txt")) or ()}
    assert list(got) == sorted(got)
    web = got["web.1.q2w3e4r5t6y7u8i9o0p1a2s3"]
    assert web.running and web.health_value == 1
    assert web.image.startswith("198.18.0.1:5000/lab/web:v1")
    assert (web.cpu_seconds, web.memory_bytes) == (12.345678, 10485760)
    assert got["db"].restarts == 2


def test_container_without_health_check_is_minus_one() -> None:
    got = {c.name: c for c in containers.parse_containers(fixture_text("docker/section.txt")) or ()}
    assert got["db"].health == "none"
    assert got["db"].health_value == -1


def test_unhealthy_and_starting_containers_are_zero_and_restarting_is_not_running() -> None:
    got = {c.name: c for c in containers.parse_containers(fixture_text("docker/section.txt")) or ()}
    assert got["flaky"].health_value == 0 and not got["flaky"].running
    assert got["flaky"].restarts == 7
    assert got["warming"].health_value == 0 and got["warming"].running
    assert not got["old-job"].running


def test_container_without_readable_cgroup_has_no_usage() -> None:
    got = {c.name: c for c in containers.parse_containers(fixture_text("docker/section.txt")) or ()}
    assert got["warming"].cpu_seconds is None
    assert got["warming"].memory_bytes is None
    assert got["flaky"].cpu_seconds is None  # no pid: not running


def test_no_docker_is_none_not_an_error() -> None:
    warnings: list[str] = []
    assert containers.parse_containers(fixture_text("docker/absent.txt"), warnings) is None
    assert warnings == []


def test_docker_error_is_none_with_a_warning() -> None:
    warnings: list[str] = []
    assert containers.parse_containers(fixture_text("docker/error.txt"), warnings) is None
    assert "permission denied" in warnings[0]


def test_docker_without_containers_is_an_empty_tuple() -> None:
    assert containers.parse_containers(fixture_text("docker/empty.txt")) == ()


def test_docker_garbage_lines_are_warnings() -> None:
    warnings: list[str] = []
    got = containers.parse_containers("C|abc|/half\nS|abc|notanumber|12\nhello\n", warnings)
    assert got == ()
    assert len(warnings) == 3


@pytest.mark.skipif(not Path("/proc/self/cgroup").exists(), reason="no /proc/self/cgroup")
def test_cgroup_awk_reads_cpu_and_memory_of_a_real_process() -> None:
    """The awk sent to hosts, on this machine's cgroups (v1, v2 or hybrid)."""
    proc = subprocess.Popen(["sleep", "30"])
    try:
        line = f"C|cid|/name|img|running|0|none|{proc.pid}\n"
        out = subprocess.run(
            ["awk", containers.CGROUP_AWK], input=line, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    finally:
        proc.kill()
        proc.wait()
    assert out[0] == line.strip()
    tag, cid, cpu, mem = out[1].split("|")
    assert (tag, cid) == ("S", "cid")
    assert cpu == "" or float(cpu) >= 0
    assert mem == "" or int(mem) >= 0
    assert cpu or mem, "neither cgroup v1 nor v2 counters were readable"


def test_cgroup_awk_skips_containers_without_a_pid() -> None:
    line = "C|cid|/name|img|exited|0|none|0\n"
    out = subprocess.run(
        ["awk", containers.CGROUP_AWK], input=line, capture_output=True, text=True, check=True
    ).stdout
    assert out == line


def test_docker_script_says_absent_without_docker(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # no docker on this PATH
    out = subprocess.run(
        ["/bin/sh", "-c", containers.SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout == "!absent\n"


def test_swarm_nodes_have_role_availability_and_readiness() -> None:
    nodes = {n.node: n for n in swarm.parse_nodes(fixture_text("swarm/node_ls.jsonl"))}
    assert nodes["lab1"].role == "manager" and nodes["lab1"].ready
    assert nodes["lab2"].role == "worker" and nodes["lab2"].availability == "active"
    assert not nodes["lab3"].ready and nodes["lab3"].availability == "drain"


def test_swarm_services_read_running_over_desired_in_every_mode() -> None:
    services = {s.name: s for s in swarm.parse_services(fixture_text("swarm/service_ls.jsonl"))}
    assert (services["web"].running, services["web"].desired) == (3, 3)
    assert (services["api"].running, services["api"].desired) == (1, 2)
    assert (services["agent"].mode, services["agent"].running) == ("global", 2)
    assert (services["pinned"].running, services["pinned"].desired) == (2, 2)
    assert (services["migrate"].running, services["migrate"].desired) == (0, 1)


def test_swarm_on_a_worker_is_unavailable() -> None:
    with pytest.raises(swarm.SwarmUnavailable, match="not a swarm manager"):
        swarm.parse_nodes(fixture_text("swarm/not_manager.txt"))


def test_swarm_garbage_is_unavailable_not_a_crash() -> None:
    with pytest.raises(swarm.SwarmUnavailable, match="unreadable"):
        swarm.parse_nodes('{"Hostname": "lab1", "Status": "Ready"\n')
    with pytest.raises(swarm.SwarmUnavailable):
        swarm.parse_swarm("lab1", {})


def test_k8s_deployments_desired_and_available() -> None:
    snap = k8s.parse_deployments("k1", fixture_text("k8s/deploy.json"))
    got = {(d.namespace, d.name): (d.desired, d.available) for d in snap.deployments}
    assert got == {
        ("kube-system", "coredns"): (1, 1),
        ("default", "web"): (3, 2),
        ("default", "scaled-to-zero"): (0, 0),
    }
    assert snap.source == "k1"


@pytest.mark.parametrize(
    ("text", "match"),
    [("!absent\n", "not installed"), ("!error forbidden\n", "forbidden"), ("{", "unreadable")],
)
def test_k8s_problems_are_unavailable(text: str, match: str) -> None:
    with pytest.raises(k8s.K8sUnavailable, match=match):
        k8s.parse_deployments("k1", text)


def test_lab_capture_with_a_vanished_container_keeps_the_others() -> None:
    """Captured on a --docker lab host mid-rollout (one id gone between ps and inspect)."""
    warnings: list[str] = []
    got = containers.parse_containers(fixture_text("docker/lab-section.txt"), warnings)
    assert got is not None and len(got) >= 2
    assert warnings == ["docker inspect: Error: No such object: nosuchcontainer"]
    running = [c for c in got if c.running]
    assert running and all(c.cpu_seconds is not None and c.memory_bytes for c in running)
    assert all(c.health == "none" for c in got)  # the lab image has no health check
    assert all(c.cpu_seconds is None for c in got if not c.running)


def test_health_template_tolerates_containers_without_health_check() -> None:
    """The CLI runs templates over raw JSON maps: `.State.Health` is an error there."""
    assert ".State.Health" not in containers.INSPECT_FORMAT
    assert 'index .State "Health"' in containers.INSPECT_FORMAT


def test_lab_manager_capture_reads_nodes_and_a_service_mid_update() -> None:
    sections, _ = split_sections(fixture_text("swarm/lab-manager.txt"))
    snap = swarm.parse_swarm("lab1", sections)
    assert [(n.node, n.role) for n in snap.nodes] == [
        ("lab1", "manager"),
        ("lab2", "worker"),
        ("lab3", "worker"),
    ]
    (service,) = snap.services
    assert service.running > service.desired  # old and new tasks overlap during an update


def test_lab_worker_capture_is_unavailable() -> None:
    with pytest.raises(swarm.SwarmUnavailable, match="not a swarm manager"):
        swarm.parse_swarm("lab2", split_sections(fixture_text("swarm/lab-worker.txt"))[0])
