"""`fleetkit exec --cluster` on the real lab: a real `dask scheduler` on the lab bridge and
`dask worker` processes inside lab hosts' network namespaces (lab2 and lab3, so each
connects to hosts from its own address), over 50 inventory names on the 3 lab hosts.

Pinned: results per host equal a local run's over repeated runs (none missing, none
twice); workers tagged with a group only ever connect to that group's hosts (the
source address each host's sshd sees); hosts no worker serves are unreachable with a
reason; kill -9 of a worker mid-shard reports its unfinished hosts as worker-lost
(unreachable, in the retry file) while the other shard completes; a scheduler that
dies ends the run with exit 3; Ctrl-C exits 130 and no shard starts another host.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.dask_lab import DaskLab, dask_lab
from tests.lab_aliases import alias_inventory
from tests.support import FLEETKIT, fleetkit, json_events

from fleetkit.distributed.worker_safety import deadlock_prone, profiler_running
from fleetkit.lab import LabState

pytestmark = pytest.mark.integration

distributed = pytest.importorskip("distributed")

N_NAMES = 50
# a worker in lab2's namespace connects from lab2's address, one in lab3's from lab3's
WORKER_A = ("fleetkit-lab2", "group-group0=1")
WORKER_B = ("fleetkit-lab3", "group-group1=1")
SOURCE = {"wa": "198.18.0.3", "wb": "198.18.0.4"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, lab: LabState) -> Iterator[DaskLab]:
    with dask_lab(tmp_path_factory.mktemp("dask"), {"wa": WORKER_A, "wb": WORKER_B}) as dl:
        yield dl


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory, lab: LabState) -> tuple[Path, dict[str, str]]:
    assert lab.inventory is not None
    inv = tmp_path_factory.mktemp("inv") / "hosts.yml"
    return inv, alias_inventory(lab.inventory, inv, N_NAMES, groups=2)


def host_results(stdout: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for event in json_events(stdout):
        if event["event"] == "host_result":
            out.setdefault(event["host"], []).append(event)
    return out


def comparable(results: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[Any, ...]]:
    return {
        h: tuple((e["status"], e["rc"], e["stdout"], e["msg"]) for e in r)
        for h, r in results.items()
    }


def test_exec_on_the_cluster_matches_a_local_run_every_time(
    cluster: DaskLab, names: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    inv, _ = names
    command = "hostname; echo $((6*7))"
    local = fleetkit("exec", "all", "-i", str(inv), "--json", "--", command, cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    expected = comparable(host_results(local.stdout))
    assert len(expected) == N_NAMES
    for _ in range(10):
        run = fleetkit(
            "exec",
            "all",
            "-i",
            str(inv),
            "--json",
            "--cluster",
            cluster.address,
            "--",
            command,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stderr
        got = host_results(run.stdout)
        assert all(len(r) == 1 for r in got.values())  # none twice
        assert comparable(got) == expected  # none missing, same per-host result
        summary = json_events(run.stdout)[-1]
        assert summary["event"] == "summary" and len(summary["hosts"]) == N_NAMES
    if deadlock_prone():  # each shard stopped its worker's thread profiler (worker_safety)
        with distributed.Client(cluster.address, timeout=20, set_as_default=False) as client:
            profiling = client.run(profiler_running)
        assert profiling and not any(profiling.values()), profiling


def test_tagged_workers_only_connect_to_their_groups_hosts(
    cluster: DaskLab, names: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    inv, _ = names
    env = {**os.environ, "FLEETKIT_CLUSTER": cluster.address}  # the environment form
    run = fleetkit(
        "exec", "all", "-i", str(inv), "--json", "--", "echo $SSH_CLIENT", cwd=tmp_path, env=env
    )
    assert run.returncode == 0, run.stderr
    sources: dict[str, set[str]] = {"group0": set(), "group1": set()}
    for host, events in host_results(run.stdout).items():
        index = int(host.removeprefix("node"))
        sources[f"group{index % 2}"].add(events[0]["stdout"].split()[0])
    assert sources == {"group0": {SOURCE["wa"]}, "group1": {SOURCE["wb"]}}


def test_hosts_no_worker_serves_are_unreachable_with_the_reason(
    cluster: DaskLab, lab: LabState, tmp_path: Path
) -> None:
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    alias_inventory(lab.inventory, inv, 9, groups=3)  # group2 has no worker
    run = fleetkit(
        "exec",
        "all",
        "-i",
        str(inv),
        "--json",
        "--cluster",
        cluster.address,
        "--",
        "true",
        cwd=tmp_path,
    )
    assert run.returncode == 3, run.stderr
    got = host_results(run.stdout)
    for host, events in got.items():
        if int(host.removeprefix("node")) % 3 == 2:
            assert events[0]["status"] == "unreachable"
            assert "no Dask worker serves this host's groups (group2)" in events[0]["msg"]
        else:
            assert events[0]["status"] == "ok"
    retry = (tmp_path / ".fleetkit" / "retry" / "exec.retry").read_text().split()
    assert sorted(h for h in retry if h.startswith("node")) == ["node002", "node005", "node008"]


def remote_sleeps(marker: str) -> int:
    """How many `sleep MARKER` processes run on the lab hosts (they share this pid space)."""
    out = subprocess.run(
        ["pgrep", "-fc", f"^sleep {marker}$"], capture_output=True, text=True, check=False
    )
    return int(out.stdout.strip() or 0)


def start_exec(
    inv: Path, address: str, command: str, cwd: Path, *extra: str
) -> subprocess.Popen[str]:
    argv = [*FLEETKIT, "exec", "all", "-i", str(inv), "--json", "--cluster", address, *extra]
    return subprocess.Popen(
        [*argv, "--", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


def wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_worker_killed_mid_shard_reports_its_hosts_lost_and_the_other_shard_completes(
    lab: LabState, tmp_path: Path
) -> None:
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    alias_inventory(lab.inventory, inv, 20, groups=2)
    marker = "4.321"
    with dask_lab(tmp_path, {"wa": WORKER_A, "wb": WORKER_B}) as dl:
        proc = start_exec(inv, dl.address, f"sleep {marker}; echo done", tmp_path)
        wait_for(lambda: remote_sleeps(marker) >= 20)  # both shards are mid-command
        killed_at = time.monotonic()
        dl.kill_worker("wa")
        out, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - killed_at
    assert proc.returncode == 3, err
    got = host_results(out)
    assert sorted(got) == [f"node{i:03d}" for i in range(20)]
    assert all(len(e) == 1 for e in got.values())  # nothing twice
    for host, (event,) in got.items():
        if int(host.removeprefix("node")) % 2 == 0:  # wa's group
            assert (event["status"], event["msg"]) == ("unreachable", "state unknown: worker lost")
        else:
            assert (event["status"], event["stdout"].strip()) == ("ok", "done")
    retry = (tmp_path / ".fleetkit" / "retry" / "exec.retry").read_text().split()
    assert sorted(h for h in retry if h.startswith("node")) == [
        f"node{i:03d}" for i in range(0, 20, 2)
    ]
    assert elapsed < 30


def test_a_scheduler_that_dies_ends_the_run_with_exit_3(lab: LabState, tmp_path: Path) -> None:
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    alias_inventory(lab.inventory, inv, 6)
    marker = "5.432"
    with dask_lab(tmp_path, {"wa": (WORKER_A[0], "")}) as dl:
        proc = start_exec(inv, dl.address, f"sleep {marker}", tmp_path)
        wait_for(lambda: remote_sleeps(marker) >= 6)
        dl.kill_scheduler()
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 3, err
    got = host_results(out)
    assert sorted(got) == [f"node{i:03d}" for i in range(6)]
    assert {e[0]["msg"] for e in got.values()} == {"state unknown: scheduler lost"}
    warnings = [e["msg"] for e in json_events(out) if e["event"] == "warning"]
    assert len(warnings) == 1 and "Dask scheduler" in warnings[0] and "went away" in warnings[0]
    assert json_events(out)[-1]["event"] == "summary"
    assert "Traceback" not in err


def test_ctrl_c_cancels_every_shard(lab: LabState, tmp_path: Path) -> None:
    """With one host at a time per shard, hosts keep starting until Ctrl-C; after it no
    new command starts (running commands end on their own, as in a local run)."""
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    alias_inventory(lab.inventory, inv, 12, groups=2)
    marker = "2.345"
    with dask_lab(tmp_path, {"wa": WORKER_A, "wb": WORKER_B}) as dl:
        proc = start_exec(inv, dl.address, f"sleep {marker}", tmp_path, "-f", "1")
        wait_for(lambda: remote_sleeps(marker) >= 2)  # the first host of each shard
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        wait_for(lambda: remote_sleeps(marker) == 0, timeout=20)
        time.sleep(3)  # a shard still running would have started its next host by now
        assert remote_sleeps(marker) == 0
    assert len(host_results(out)) < 12


def test_health_on_the_cluster_gives_the_local_verdicts(
    cluster: DaskLab, names: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    inv, _ = names
    checks = tmp_path / "checks.yml"
    checks.write_text(
        "thresholds:\n  load_per_cpu: 1000\n"
        "commands:\n  - name: echo\n    hosts: group1\n    command: echo ok\n"
    )
    argv = ["health", "-i", str(inv), "--checks", str(checks), "--json"]
    local = fleetkit(*argv, cwd=tmp_path)
    remote = fleetkit(*argv, "--cluster", cluster.address, cwd=tmp_path)
    assert remote.returncode == local.returncode, remote.stderr

    def verdicts(stdout: str) -> list[tuple[str, str, bool]]:
        events = [e for e in json_events(stdout) if "check" in e]
        return [(e["host"], e["check"], e["ok"]) for e in events]

    got, expected = verdicts(remote.stdout), verdicts(local.stdout)
    assert got == expected  # same checks, same order, same verdicts
    assert {h for h, c, _ in got if c == "command:echo"} == {
        f"node{i:03d}" for i in range(1, N_NAMES, 2)
    }
