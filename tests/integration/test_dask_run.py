"""`fleetkit run --cluster` on the real lab, alongside test_dask.py's exec tests: a real
`dask scheduler` on the lab bridge and `dask worker` processes inside lab2's and lab3's
network namespaces (tagged with group0 and group1), over 50 inventory names on the 3 lab
hosts.

Pinned: a multi-play playbook (registered values read in a later play, a `when:` skip,
failures rescued on some hosts and not on others, a handler only some hosts notify)
gives per-host results, the recap, the retry file and the exit code of a local run, ten
times over (no host missing, none twice); each shard connects from its own worker's
address; kill -9 of a worker mid-task reports its hosts worker-lost (unreachable, in the
retry file) while the other shard completes; a scheduler that dies ends the run with exit
3; Ctrl-C exits 130 and no shard starts another task.
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
from tests.integration.test_dask import (
    SOURCE,
    WORKER_A,
    WORKER_B,
    host_results,
    remote_sleeps,
    wait_for,
)
from tests.lab_aliases import alias_inventory
from tests.support import FLEETKIT, fleetkit, json_events

from fleetkit.lab import LabState

pytestmark = pytest.mark.integration

pytest.importorskip("distributed")

N_NAMES = 50
LOST = "state unknown: worker lost"
PLAYBOOK = """
- name: gather
  hosts: all
  gather_facts: false
  tasks:
    - name: which host
      command: hostname
      register: which
    - name: arithmetic
      shell: echo $((6*7)) {{ inventory_hostname }}
    - name: group1 only
      command: echo in group1
      when: "'group1' in group_names"
    - block:
        - name: fails on every seventh name
          command: "{{ 'false' if inventory_hostname[-1] == '7' else 'true' }}"
      rescue:
        - name: rescued
          command: echo rescued
    - name: fails on node013
      command: "{{ 'false' if inventory_hostname == 'node013' else 'true' }}"
    - name: notify on group0
      command: echo notify
      changed_when: "'group0' in group_names"
      notify: restarted
  handlers:
    - name: restarted
      command: echo restarted
- name: again
  hosts: group0
  gather_facts: false
  tasks:
    - name: the first play's value
      command: echo {{ which.stdout }}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, lab: LabState) -> Iterator[DaskLab]:
    with dask_lab(tmp_path_factory.mktemp("dask-run"), {"wa": WORKER_A, "wb": WORKER_B}) as dl:
        yield dl


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, lab: LabState) -> Path:
    """A folder with the playbook and 50 names in groups group0/group1 (the workers are
    in the same mount namespace, so the folder is at the same path for them)."""
    assert lab.inventory is not None
    folder = tmp_path_factory.mktemp("project")
    alias_inventory(lab.inventory, folder / "hosts.yml", N_NAMES, groups=2)
    (folder / "site.yml").write_text(PLAYBOOK)
    return folder


def per_host(stdout: str) -> dict[str, tuple[Any, ...]]:
    return {
        h: tuple((e["task"], e["status"], e["rc"], e["stdout"], e["msg"]) for e in events)
        for h, events in host_results(stdout).items()
    }


def retry(folder: Path, name: str = "site") -> list[str]:
    path = folder / ".fleetkit" / "retry" / f"{name}.retry"
    return sorted(h for h in path.read_text().split() if h.startswith("node"))


def test_a_playbook_on_the_cluster_matches_a_local_run_every_time(
    cluster: DaskLab, project: Path
) -> None:
    argv = ["run", "site.yml", "-i", "hosts.yml", "--json"]
    local = fleetkit(*argv, cwd=project, timeout=120)
    assert local.returncode == 1, local.stderr  # node013 fails
    expected = per_host(local.stdout)
    expected_summary = json_events(local.stdout)[-1]["hosts"]
    expected_retry = retry(project)
    assert len(expected) == N_NAMES and expected_retry == ["node013"]
    for _ in range(10):
        run = fleetkit(*argv, "--cluster", cluster.address, cwd=project, timeout=120)
        assert run.returncode == 1, run.stderr
        got = per_host(run.stdout)
        assert got == expected  # every host, each result once and as a local run gives it
        events = json_events(run.stdout)
        assert events[-1]["event"] == "summary" and events[-1]["hosts"] == expected_summary
        assert retry(project) == expected_retry
        tasks = [e["task"] for e in events if e["event"] == "task_start"]
        assert len(tasks) == len(set(tasks))  # each task's header once, for both shards
        assert "Traceback" not in run.stderr


def test_each_shard_connects_from_its_own_worker(
    cluster: DaskLab, project: Path, tmp_path: Path
) -> None:
    (tmp_path / "where.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - {name: source, shell: 'echo $SSH_CLIENT'}\n"
    )
    env = {**os.environ, "FLEETKIT_CLUSTER": cluster.address}  # the environment form
    run = fleetkit(
        "run",
        str(tmp_path / "where.yml"),
        "-i",
        str(project / "hosts.yml"),
        "--json",
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    sources: dict[str, set[str]] = {"group0": set(), "group1": set()}
    for host, events in host_results(run.stdout).items():
        index = int(host.removeprefix("node"))
        sources[f"group{index % 2}"].add(events[0]["stdout"].split()[0])
    assert sources == {"group0": {SOURCE["wa"]}, "group1": {SOURCE["wb"]}}


def sleeping_playbook(folder: Path, first: str, second: str) -> Path:
    book = folder / "sleep.yml"
    book.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - {{name: nap, command: sleep {first}}}\n"
        f"    - {{name: after, command: sleep {second}}}\n"
    )
    return book


def start_run(book: Path, inv: Path, address: str, cwd: Path) -> subprocess.Popen[str]:
    argv = [*FLEETKIT, "run", str(book), "-i", str(inv), "--json", "--cluster", address]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )


def test_a_worker_killed_mid_task_reports_its_hosts_lost_and_the_other_shard_completes(
    lab: LabState, tmp_path: Path
) -> None:
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    alias_inventory(lab.inventory, inv, 20, groups=2)
    book = sleeping_playbook(tmp_path, "4.321", "0.01")
    with dask_lab(tmp_path, {"wa": WORKER_A, "wb": WORKER_B}) as dl:
        proc = start_run(book, inv, dl.address, tmp_path)
        wait_for(lambda: remote_sleeps("4.321") >= 20)  # both shards are mid-task
        killed_at = time.monotonic()
        dl.kill_worker("wa")
        out, err = proc.communicate(timeout=90)
        elapsed = time.monotonic() - killed_at
    assert proc.returncode == 3, err
    got = host_results(out)
    assert sorted(got) == [f"node{i:03d}" for i in range(20)]
    for host, events in got.items():
        if int(host.removeprefix("node")) % 2 == 0:  # wa's group: lost mid-nap
            assert [(e["task"], e["status"], e["msg"]) for e in events] == [
                ("dask shard", "unreachable", LOST)
            ]
        else:
            assert [(e["task"], e["status"]) for e in events] == [
                ("nap", "changed"),
                ("after", "changed"),
            ]
    assert retry(tmp_path, "sleep") == [f"node{i:03d}" for i in range(0, 20, 2)]
    assert elapsed < 30
    assert "Traceback" not in err


def test_a_scheduler_that_dies_ends_the_run_with_exit_3(lab: LabState, tmp_path: Path) -> None:
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    alias_inventory(lab.inventory, inv, 6)
    book = sleeping_playbook(tmp_path, "5.432", "0.01")
    with dask_lab(tmp_path, {"wa": (WORKER_A[0], "")}) as dl:
        proc = start_run(book, inv, dl.address, tmp_path)
        wait_for(lambda: remote_sleeps("5.432") >= 6)
        dl.kill_scheduler()
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 3, err
    got = host_results(out)
    assert sorted(got) == [f"node{i:03d}" for i in range(6)]
    assert {e[-1]["msg"] for e in got.values()} == {"state unknown: scheduler lost"}
    warnings = [e["msg"] for e in json_events(out) if e["event"] == "warning"]
    assert len(warnings) == 1 and "Dask scheduler" in warnings[0] and "went away" in warnings[0]
    assert json_events(out)[-1]["event"] == "summary"
    assert "Traceback" not in err


def test_ctrl_c_stops_every_shard(lab: LabState, tmp_path: Path) -> None:
    """Ctrl-C while both shards nap: exit 130, and once the naps end no host starts the
    next task (a local Ctrl-C's contract, per shard)."""
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    alias_inventory(lab.inventory, inv, 12, groups=2)
    book = sleeping_playbook(tmp_path, "2.345", "6.789")
    with dask_lab(tmp_path, {"wa": WORKER_A, "wb": WORKER_B}) as dl:
        proc = start_run(book, inv, dl.address, tmp_path)
        wait_for(lambda: remote_sleeps("2.345") >= 12)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        wait_for(lambda: remote_sleeps("2.345") == 0, timeout=20)
        time.sleep(3)  # a shard still running would have started the next task by now
        assert remote_sleeps("6.789") == 0
    summary = json_events(out)[-1]
    assert summary["event"] == "summary" and summary["interrupted"] is True
    assert retry(tmp_path, "sleep") == [f"node{i:03d}" for i in range(12)]
