"""The controller misbehaves or is crowded: signals mid-run, runs side by side (issue 11).

50 inventory names on the lab's 3 hosts (tests/lab_aliases.py) stand in for a
50-host fleet: each name is its own connection, as it would be to its own host.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.faults.lab_faults import Table
from tests.lab_aliases import alias_inventory
from tests.support import FLEETKIT

from fleetkit.lab import LabState

pytestmark = [pytest.mark.integration, pytest.mark.faults]

N_NAMES = 50
PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: quick
      command: "true"
    - name: slow
      command: sleep 2
    - name: never reached
      copy: {content: "done\\n", dest: "/tmp/fkfault-sig-{{ inventory_hostname }}"}
"""


@pytest.fixture(scope="module")
def names(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert lab.inventory is not None
    inv = tmp_path_factory.mktemp("fault-names") / "hosts.yml"
    alias_inventory(lab.inventory, inv, N_NAMES)
    data = yaml.safe_load(inv.read_text())
    data["all"]["vars"]["ansible_ssh_timeout"] = 30  # crowded controller: slow handshakes
    inv.write_text(yaml.safe_dump(data))
    return inv


def _events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_playbook_reports_every_host_and_retries_the_unfinished(
    sig: signal.Signals, names: Path, tmp_path: Path, outcomes: Table
) -> None:
    (tmp_path / "sig.yml").write_text(PLAYBOOK)
    proc = subprocess.Popen(
        [*FLEETKIT, "run", "sig.yml", "-i", str(names), "--forks", "10", "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:  # wait until the slow task has finished on some hosts
        lines.append(line)
        e = json.loads(line)
        if e["event"] == "host_result" and e["task"] == "slow":
            break
    sent = time.monotonic()
    proc.send_signal(sig)
    rest, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    events = _events("".join(lines) + rest)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert took < 10
    summary = events[-1]
    assert summary["event"] == "summary"
    assert len(summary["hosts"]) == N_NAMES
    assert sorted(summary["unfinished"]) == sorted(summary["hosts"])
    seen = [(e["host"], e["task"]) for e in events if e["event"] == "host_result"]
    assert len(seen) == len(set(seen))  # nothing reported twice
    assert not any(task == "never reached" for _, task in seen)
    slow_done = sum(1 for _, task in seen if task == "slow")
    assert 0 < slow_done < N_NAMES
    retry = (tmp_path / ".fleetkit/retry/sig.retry").read_text().splitlines()
    assert sorted(ln for ln in retry if not ln.startswith("#")) == sorted(summary["hosts"])
    outcomes.add(
        f"run: {sig.name} mid-playbook on {N_NAMES} hosts (forks 10)",
        f"exit 130 in {took:.1f}s, summary for all {N_NAMES} hosts ({slow_done} had finished"
        f" the slow task), retry file = the {len(summary['unfinished'])} unfinished hosts",
    )


TWO = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: write
      copy: {content: "{{ run }}\\n", dest: "/tmp/fkfault-two-{{ run }}-{{ inventory_hostname }}"}
    - name: read back
      command: cat /tmp/fkfault-two-{{ run }}-{{ inventory_hostname }}
      register: back
    - name: check
      assert: {that: ["back.stdout == run"]}
    - name: clean
      file: {path: "/tmp/fkfault-two-{{ run }}-{{ inventory_hostname }}", state: absent}
"""


def test_two_runs_against_the_same_hosts_at_once(
    names: Path, tmp_path: Path, outcomes: Table
) -> None:
    (tmp_path / "two.yml").write_text(TWO)

    def one(run: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*FLEETKIT, "run", "two.yml", "-i", str(names), "-e", f"run={run}", "--json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(one, ["a", "b"])
    took = time.monotonic() - start
    for proc in (a, b):
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        summary = _events(proc.stdout)[-1]
        assert all(c["failed"] == 0 for c in summary["hosts"].values())
    outcomes.add(
        f"run: two runs at once on the same {N_NAMES} hosts",
        f"both exit 0, every host's own file right in both, {took:.1f}s",
    )


N_RUNS = 60


def test_sixty_concurrent_runs_do_not_crash(lab: LabState, tmp_path: Path, outcomes: Table) -> None:
    assert lab.inventory is not None
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"].setdefault("vars", {})["ansible_ssh_timeout"] = 60  # 60 handshakes per sshd
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump(data))

    def one(i: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*FLEETKIT, "exec", "all", "-i", str(inv), "--json", "--", f"echo {i}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    start = time.monotonic()
    with ThreadPoolExecutor(N_RUNS) as pool:
        procs = list(pool.map(one, range(N_RUNS)))
    took = time.monotonic() - start
    codes = sorted({p.returncode for p in procs})
    crashed = [p for p in procs if "Traceback" in p.stderr or p.returncode not in (0, 3)]
    assert not crashed, crashed[0].stderr[-3000:]
    right = 0
    for i, p in enumerate(procs):
        results = [e for e in _events(p.stdout) if e["event"] == "host_result"]
        assert _events(p.stdout)[-1]["event"] == "summary"
        right += all(e["stdout"].strip() == str(i) for e in results if e["status"] == "ok")
    assert right == N_RUNS
    assert codes == [0], f"exit codes {codes}"
    outcomes.add(
        f"exec: {N_RUNS} runs at once on the 3 hosts",
        f"no crash, all exit 0 with their own output, {took:.1f}s",
    )
