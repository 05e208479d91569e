"""`fleetkit run --cluster` on an in-process Dask cluster (two workers, inproc transport)
with a fake fleet: the merged report equals a local run's (JSON events, console lines,
recap, retry file, exit code) over a playbook whose shards take different paths, hosts
keep their state from play to play, a lost worker's hosts come back worker-lost (in the
retry file, nothing run twice), a worker without the project runs nothing.

Each shard runs in a process of its own (fleetkit.distributed.shard_child), so the fake
fleet logs what ran to a file, with the pid of the process that ran it.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.unit.distributed.fake_fleet import LoggedFleet, ran
from tests.unit.playbook.helpers import inventory, write

from fleetkit.distributed.client import WORKER_LOST
from fleetkit.distributed.merge import CLUSTER_TASK
from fleetkit.distributed.run_client import run_playbook_on_cluster
from fleetkit.playbook.session import RunRequest, execute, finish, prepare
from fleetkit.report.base import Reporters
from fleetkit.report.console import ConsoleReporter
from fleetkit.report.jsonl import JsonLinesReporter
from fleetkit.results import RunResult

pytestmark = pytest.mark.unit

distributed = pytest.importorskip("distributed")

HOSTS = tuple(f"h{i}" for i in range(8))
SHARD_0 = ("h1", "h6")  # hashmod(name, 2) == 0: the other six are shard 1
PLAYBOOK = """
- name: first
  hosts: all
  gather_facts: false
  vars:
    greeting: hi
  tasks:
    - name: say
      command: echo {{ greeting }} {{ inventory_hostname }}
      register: said
    - name: show
      debug:
        msg: "{{ hostvars[inventory_hostname].said.stdout }}"
    - name: only web
      command: echo web
      when: "'web' in group_names"
    - name: loop
      command: echo {{ item }}
      loop: [a, b]
    - name: tolerated
      command: echo fail-on-h2
      ignore_errors: true
    - block:
        - name: risky
          command: echo fail-on-h4
        - name: after risky
          command: echo fine
      rescue:
        - name: rescue it
          command: echo rescued
    - name: notify
      command: echo notify
      changed_when: inventory_hostname in ['h1', 'h3']
      notify: restart
    - name: break h3
      command: echo fail-on-h3
  handlers:
    - name: restart
      command: echo restart
- name: second
  hosts: web
  gather_facts: false
  tasks:
    - name: on web
      command: echo second {{ said.stdout }}
- name: third
  hosts: h3
  gather_facts: false
  tasks:
    - command: echo never
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    lc = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    )
    yield lc
    lc.close()


def client_of(cluster: Any) -> Any:
    return lambda _address: distributed.Client(cluster, set_as_default=False)


def prepared_run(tmp_path: Path, playbook: str = PLAYBOOK) -> Any:
    book = write(tmp_path / "site.yml", playbook)
    inv = inventory(tmp_path, HOSTS, groups={"web": ["h1", "h2", "h5"]})
    return prepare(RunRequest(playbook=book, inventory=inv, cwd=tmp_path))


class Captured:
    """A run's JSON events and plain console lines."""

    def __init__(self) -> None:
        self.json = io.StringIO()
        self.console = io.StringIO()
        self.reporter = Reporters(JsonLinesReporter(self.json), ConsoleReporter(self.console))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.json.getvalue().splitlines()]


def finished(prepared: Any, result: RunResult, out: Captured, tmp_path: Path) -> dict[str, Any]:
    """What a run leaves: its events, console lines, exit code and retry file."""
    result = finish(prepared, result)
    out.reporter.summary(result)
    retry = tmp_path / ".fleetkit" / "retry" / "site.retry"
    hosts = [line for line in retry.read_text().splitlines() if not line.startswith("#")]
    retry.unlink()
    return {
        "events": out.events(),
        "console": out.console.getvalue(),
        "exit": result.exit_code(),
        "retry": hosts,
        "retry_file": result.retry_file,
    }


Block = tuple[dict[str, Any], tuple[tuple[Any, ...], ...]]


def blocks(events: list[dict[str, Any]]) -> list[Block]:
    """Headers (without durations) in order, each with its results sorted (hosts finish
    in any order)."""
    out: list[Block] = []
    for e in events:
        if e["event"] == "host_result":
            row = (e["host"], e["task"], e["status"], e["rc"], e["stdout"], e["msg"])
            out[-1] = (out[-1][0], tuple(sorted((*out[-1][1], row))))
        else:
            out.append(({k: v for k, v in e.items() if k != "duration_s"}, ()))
    return out


def same_blocks(got: list[Block], expected: list[Block], divergent: set[str]) -> None:
    """got shows expected's blocks; a task only some shards reach lists just those shards'
    hosts (a local run also lists the other shards' hosts still busy in the same run of
    tasks)."""
    assert [r for _, r in got] == [r for _, r in expected]
    for (header, results), (local, _) in zip(got, expected, strict=True):
        if header.get("task") in divergent:
            ran_it = {r[0] for r in results}
            assert ran_it <= set(header["hosts"]) <= set(local["hosts"])
            assert dict(header, hosts=[]) == dict(local, hosts=[])
        else:
            assert header == local


DURATION = re.compile(r"  \d+(\.\d+)?m?s\b|\(\d+(\.\d+)?m?s\)")


def console_blocks(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Console lines without durations: each header with its (sorted) lines."""
    out: list[tuple[str, tuple[str, ...]]] = []
    lines: list[str] = []
    for line in (DURATION.sub("", x) for x in text.splitlines()):
        if line.startswith(("PLAY", "TASK", "RECAP", "warning:", "retry")):
            if out:
                out[-1] = (out[-1][0], tuple(sorted(lines)))
            lines = []
            out.append((line, ()))
        else:
            lines.append(line)
    if out:
        out[-1] = (out[-1][0], tuple(sorted(lines)))
    return out


def test_a_sharded_run_reports_exactly_what_a_local_run_reports(
    cluster: Any, tmp_path: Path
) -> None:
    prepared = prepared_run(tmp_path)
    local_out = Captured()
    local = execute(prepared, local_out.reporter, connect=LoggedFleet(tmp_path / "local.log"))
    expected = finished(prepared, local, local_out, tmp_path)

    out = Captured()
    log = tmp_path / "cluster.log"
    result = run_playbook_on_cluster(
        prepared,
        out.reporter,
        "inproc",
        client_factory=client_of(cluster),
        connect_host=LoggedFleet(log),
    )
    got = finished(prepared, result, out, tmp_path)

    same_blocks(blocks(got["events"]), blocks(expected["events"]), {"rescue it", "restart"})
    assert console_blocks(got["console"]) == console_blocks(expected["console"])
    assert (got["exit"], got["retry"], got["retry_file"]) == (
        1,
        ["h3"],
        expected["retry_file"],
    )
    assert expected["retry"] == ["h3"]
    summary = got["events"][-1]
    assert summary["hosts"] == expected["events"][-1]["hosts"]
    # both shards ran, each in its own process, and every command ran once
    pids = {pid for pid, _, _ in ran(log)}
    by_host = {h: {pid for pid, host, _ in ran(log) if host == h} for h in HOSTS}
    assert len(pids) == 2 and by_host["h1"] == by_host["h6"] != by_host["h0"]
    commands = [(h, c) for _, h, c in ran(log)]
    assert sorted(commands) == sorted((h, c) for _, h, c in ran(tmp_path / "local.log"))
    # the shapes this playbook is about: paths that only one shard takes
    names = [e.get("task") for e in got["events"] if e["event"] == "task_start"]
    assert "rescue it" in names and "restart" in names
    assert got["events"][-2] == {
        "event": "warning",
        "msg": "play 'third': no hosts left to run on, skipped",
    }


def test_hosts_no_worker_serves_are_unreachable_and_sent_nowhere(
    tmp_path: Path,
) -> None:
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address="127.0.0.1:0",
        resources={"group-web": 1},
    ) as lc:
        prepared = prepared_run(
            tmp_path, "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo x\n"
        )
        out = Captured()
        log = tmp_path / "cluster.log"
        result = run_playbook_on_cluster(
            prepared,
            out.reporter,
            "inproc",
            client_factory=client_of(lc),
            connect_host=LoggedFleet(log),
        )
        got = finished(prepared, result, out, tmp_path)
    assert {h for _, h, _ in ran(log)} == {"h1", "h2", "h5"}
    unreachable = {
        e["host"]: e
        for e in got["events"]
        if e["event"] == "host_result" and e["status"] == "unreachable"
    }
    assert sorted(unreachable) == sorted(set(HOSTS) - {"h1", "h2", "h5"}) == got["retry"]
    assert all(e["task"] == CLUSTER_TASK for e in unreachable.values())
    assert "no Dask worker serves this host's groups (ungrouped)" in unreachable["h0"]["msg"]
    assert got["exit"] == 3


def test_a_worker_killed_mid_shard_reports_its_hosts_worker_lost_and_nothing_runs_twice(
    tmp_path: Path,
) -> None:
    """Workers in processes of their own here, so that one can be killed (-9) as a crash
    would: its shard's hosts are worker-lost, the other shard completes, and the shard is
    not run again (the restarted worker's second start of it refuses)."""
    playbook = (
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - {name: one, command: echo one}\n"
        "    - {name: two, command: echo hold two}\n"
        "    - {name: three, command: echo three}\n"
    )
    prepared = prepared_run(tmp_path, playbook)
    log, release = tmp_path / "cluster.log", tmp_path / "release"
    fleet = LoggedFleet(log, hold_hosts=frozenset(SHARD_0), release=release)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as lc,
        distributed.Client(lc, set_as_default=False) as watcher,
        ThreadPoolExecutor(1) as pool,
    ):
        out = Captured()
        future: Future[RunResult] = pool.submit(
            run_playbook_on_cluster,
            prepared,
            out.reporter,
            "tcp",
            client_factory=client_of(lc),
            connect_host=fleet,
        )
        try:
            # shard 0 is held in task two, and the client has its results of task one
            wait_for(lambda: set(SHARD_0) <= {h for _, h, c in ran(log) if "hold" in c}, 120)
            wait_for(lambda: set(SHARD_0) <= {e.get("host") for e in out.events()}, 120)
            os.kill(worker_pid(watcher, "-run-0"), signal.SIGKILL)
            result = future.result(timeout=90)
        finally:
            release.touch()
        got = finished(prepared, result, out, tmp_path)
    results = [e for e in got["events"] if e["event"] == "host_result"]
    per_host = {
        h: [(e["task"], e["status"], e["msg"]) for e in results if e["host"] == h] for h in HOSTS
    }
    for host in SHARD_0:
        assert per_host[host] == [
            ("one", "changed", ""),
            (CLUSTER_TASK, "unreachable", WORKER_LOST),
        ]
    for host in set(HOSTS) - set(SHARD_0):
        assert [t for t, s, _ in per_host[host] if s == "changed"] == ["one", "two", "three"]
    assert got["exit"] == 3 and got["retry"] == sorted(SHARD_0)
    commands = [(h, c) for _, h, c in ran(log)]
    assert len(commands) == len(set(commands))  # nothing ran twice (no silent re-run)
    assert not [h for h, c in commands if h in SHARD_0 and "three" in c]


def test_a_worker_without_the_project_folder_runs_nothing(cluster: Any, tmp_path: Path) -> None:
    prepared = prepared_run(
        tmp_path, "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo x\n"
    )
    moved = tmp_path.with_name(tmp_path.name + "-moved")
    out = Captured()
    log = moved / "cluster.log"
    tmp_path.rename(moved)  # the client's folder is not on the worker's machine
    try:
        result = run_playbook_on_cluster(
            prepared,
            out.reporter,
            "inproc",
            client_factory=client_of(cluster),
            connect_host=LoggedFleet(log),
        )
    finally:
        moved.rename(tmp_path)
    assert not ran(tmp_path / "cluster.log")
    assert result.exit_code() == 3
    assert {s.host for s in result.steps} == set(HOSTS)
    for step in result.steps:
        assert step.msg.startswith("not run: worker ") and str(tmp_path) in step.msg


def worker_pid(client: Any, key_part: str) -> int:
    """The pid of the worker process running the task whose key contains key_part."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any(key_part in str(k) for k in keys):
                return int(pids[address])
        time.sleep(0.05)
    raise AssertionError(f"no worker is running {key_part}")


def wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


CLI_PLAYBOOK = """
- hosts: all
  tasks:
    - name: where
      command: cat {{ playbook_dir }}/files/marker
      register: where
    - name: who
      shell: echo {{ inventory_hostname }} {{ where.stdout }}
    - name: fail one
      command: "false"
      when: inventory_hostname == 'node3'
- hosts: node1
  tasks:
    - name: again
      debug: {msg: "{{ where.stdout }}"}
"""


def test_the_cli_over_tcp_gives_a_local_runs_output_retry_file_and_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fleetkit run site.yml --cluster tcp://...` from the playbook's folder: relative
    paths resolve on the worker as on the client (hosts are this machine: local
    connections), and stdout, the retry file and the exit code are a local run's."""
    from fleetkit.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEETKIT_CLUSTER", raising=False)
    hosts = {f"node{i}": {"ansible_connection": "local"} for i in range(1, 5)}
    write(tmp_path / "inv" / "hosts.yml", json.dumps({"all": {"hosts": hosts}}))
    write(tmp_path / "site.yml", CLI_PLAYBOOK)
    write(tmp_path / "files" / "marker", "here\n")
    argv = ["run", "site.yml", "-i", "inv", "--json", "--metrics-textfile", "m.prom"]
    assert main(argv) == 1
    local = capsys.readouterr().out
    local_retry = (tmp_path / ".fleetkit" / "retry" / "site.retry").read_text().split("\n", 1)[1]
    local_metrics = (tmp_path / "m.prom").read_text()
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as lc:
        assert main([*argv, "--cluster", lc.scheduler_address]) == 1
    got = capsys.readouterr().out
    events = [json.loads(line) for line in got.splitlines()]
    same_blocks(blocks(events), blocks([json.loads(x) for x in local.splitlines()]), set())
    results = [e for e in events if e["event"] == "host_result"]
    assert {e["stdout"] for e in results if e["task"] == "who"} == {
        f"node{i} here\n" for i in range(1, 5)
    }
    retry = (tmp_path / ".fleetkit" / "retry" / "site.retry").read_text().split("\n", 1)[1]
    assert retry == local_retry == "node3\n"
    metric = re.compile(r"^fleetkit_run_(tasks_total|hosts)\{.*$", re.M)
    assert metric.findall((tmp_path / "m.prom").read_text()) == metric.findall(local_metrics)


def test_ctrl_c_stops_every_shard_and_reports_what_came(cluster: Any, tmp_path: Path) -> None:
    """Ctrl-C while both shards are mid-task: exit 130, the recap of what came back, every
    unfinished host in the retry file, and no shard starts another task."""
    playbook = (
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - {name: one, command: echo one}\n"
        "    - {name: two, command: echo hold two}\n"
        "    - {name: three, command: echo three}\n"
    )
    prepared = prepared_run(tmp_path, playbook)
    log, release = tmp_path / "cluster.log", tmp_path / "release"
    fleet = LoggedFleet(log, hold_hosts=frozenset(HOSTS), release=release)
    out = Captured()
    main_thread = threading.get_ident()

    def interrupt_when_held() -> None:
        wait_for(lambda: set(HOSTS) <= {h for _, h, c in ran(log) if "hold" in c})
        signal.pthread_kill(main_thread, signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_when_held)
    interrupter.start()
    try:
        result = run_playbook_on_cluster(
            prepared,
            out.reporter,
            "inproc",
            client_factory=client_of(cluster),
            connect_host=fleet,
        )
    finally:
        interrupter.join()
    got = finished(prepared, result, out, tmp_path)
    assert result.interrupted and got["exit"] == 130
    assert got["retry"] == sorted(HOSTS)
    summary = got["events"][-1]
    assert summary["interrupted"] is True and sorted(summary["unfinished"]) == sorted(HOSTS)
    # each shard's process ends at SIGINT (held commands and all): nothing else starts
    children = {pid for pid, _, _ in ran(log)}
    assert len(children) == 2
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), timeout=20)
    release.touch()
    assert not [c for _, _, c in ran(log) if "three" in c]


def test_plays_stay_in_order_across_shards(cluster: Any, tmp_path: Path) -> None:
    """A play whose hosts are all in one shard starts only once the previous play has
    ended on every host, in whichever shard (as a local run orders plays)."""
    playbook = (
        "- hosts: h1:h6\n  gather_facts: false\n  tasks:\n"
        "    - {name: migrate, command: echo hold migrate}\n"
        "- hosts: h0:h2\n  gather_facts: false\n  tasks:\n"
        "    - {name: deploy, command: echo deploy}\n"
    )
    prepared = prepared_run(tmp_path, playbook)
    log, release = tmp_path / "cluster.log", tmp_path / "release"
    fleet = LoggedFleet(log, hold_hosts=frozenset(SHARD_0), release=release)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            run_playbook_on_cluster,
            prepared,
            Captured().reporter,
            "inproc",
            client_factory=client_of(cluster),
            connect_host=fleet,
        )
        try:
            wait_for(lambda: set(SHARD_0) <= {h for _, h, c in ran(log) if "migrate" in c})
            time.sleep(1.5)  # the other shard's process is up, waiting at its play's gate
            assert not [c for _, _, c in ran(log) if "deploy" in c]
        finally:
            release.touch()
        result = future.result(timeout=60)
    assert result.exit_code() == 0
    order = [c for _, _, c in ran(log)]
    assert order == ["echo hold migrate"] * 2 + ["echo deploy"] * 2


def test_a_group_shard_moved_to_a_busy_worker_still_runs_past_the_play_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers served group web when the run was planned (two web shards); one is
    gone before its shard starts, so Dask gives that shard to the other, which is
    already running the first shard. The first waits at play 2's gate for the second:
    if the first held the group (a Dask resource unit), the second could never start
    and the run hung. Shards are placed by worker address, so both run."""
    from fleetkit.distributed import run_client
    from fleetkit.distributed.shard import WorkerInfo

    gone = WorkerInfo("tcp://127.0.0.1:9", "gone", frozenset({"web"}))
    real = run_client.workers_of
    monkeypatch.setattr(run_client, "workers_of", lambda client: [*real(client), gone])
    playbook = (
        "- hosts: web\n  gather_facts: false\n  tasks:\n    - {name: one, command: echo one}\n"
        "- hosts: web\n  gather_facts: false\n  tasks:\n    - {name: two, command: echo two}\n"
    )
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address="127.0.0.1:0",
        resources={"group-web": 1},
    ) as lc:
        prepared = prepared_run(tmp_path, playbook)
        out = Captured()
        log = tmp_path / "cluster.log"
        results: list[RunResult] = []
        running = threading.Thread(
            target=lambda: results.append(
                run_playbook_on_cluster(
                    prepared,
                    out.reporter,
                    "inproc",
                    client_factory=client_of(lc),
                    connect_host=LoggedFleet(log),
                )
            ),
            daemon=True,
        )
        running.start()
        running.join(90)
        if not results:  # a hung run: stop its shards so the cluster can close
            with distributed.Client(lc, set_as_default=False) as watcher:
                for name in watcher.run_on_scheduler(_event_names):
                    distributed.Event(name, client=watcher).set()
            running.join(30)
            pytest.fail(f"the run hung at a play gate; ran: {ran(log)}")
        assert finish(prepared, results[0]).exit_code() == 0, out.events()
    commands = sorted((h, c) for _, h, c in ran(log))
    web = ("h1", "h2", "h5")
    assert commands == sorted([(h, "echo one") for h in web] + [(h, "echo two") for h in web])
    assert len({pid for pid, _, _ in ran(log)}) == 2  # two shards, one after the other's gate


def _event_names(dask_scheduler: Any) -> list[str]:
    """Every Event the scheduler holds (a hung run's gates and stop)."""
    return list(dask_scheduler.extensions["events"]._events)
