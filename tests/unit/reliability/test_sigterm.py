"""SIGTERM stops exec and run the way Ctrl-C does: a summary for every host, the retry file
naming the hosts that did not finish, exit 130 (issue 11).

Before the fix SIGTERM ended the process at once (Python's default): no recap, no
summary event, no retry file. The hosts here are local-connection hosts, so the
commands really run (as children of the controller) and really are cut.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support import FLEETKIT

from fleetkit.results import RunResult, Status, StepResult

pytestmark = pytest.mark.unit

HOSTS = ("h1", "h2", "h3", "h4")
PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: quick
      command: "true"
    - name: slow
      command: sleep 30
    - name: never reached
      command: "true"
"""


def _inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  vars:\n    ansible_connection: local\n  hosts:\n"
        + "".join(f"    {h}:\n" for h in HOSTS)
    )
    return inv


def _terminated(argv: list[str], cwd: Path, after_s: float) -> tuple[int, str, str, float]:
    proc = subprocess.Popen(
        [*FLEETKIT, *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(after_s)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, out, err, time.monotonic() - sent


def _summary(out: str) -> dict[str, object]:
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert events and events[-1]["event"] == "summary", out
    return events[-1]


def _retry_hosts(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]


def test_sigterm_during_a_playbook_reports_every_host_and_retries_the_unfinished(
    tmp_path: Path,
) -> None:
    (tmp_path / "slow.yml").write_text(PLAYBOOK)
    argv = ["run", "slow.yml", "-i", str(_inventory(tmp_path)), "--json"]
    rc, out, err, took = _terminated(argv, tmp_path, after_s=2.5)
    assert rc == 130, err
    assert "Traceback" not in err
    assert took < 10
    summary = _summary(out)
    assert sorted(summary["hosts"]) == sorted(HOSTS)  # type: ignore[arg-type]
    assert summary["interrupted"] is True
    assert sorted(summary["unfinished"]) == sorted(HOSTS)  # type: ignore[arg-type]
    assert summary["retry_file"] == ".fleetkit/retry/slow.retry"
    assert sorted(_retry_hosts(tmp_path / ".fleetkit/retry/slow.retry")) == sorted(HOSTS)


def test_sigterm_during_exec_prints_the_recap_with_the_hosts_that_did_not_finish(
    tmp_path: Path,
) -> None:
    argv = ["exec", "all", "-i", str(_inventory(tmp_path)), "--", "sleep 30"]
    rc, out, err, took = _terminated(argv, tmp_path, after_s=2.0)
    assert rc == 130, err
    assert "Traceback" not in err
    assert took < 10
    assert "RECAP" in out
    assert "interrupted: 4 hosts did not finish: h1 h2 h3 h4" in out
    assert sorted(_retry_hosts(tmp_path / ".fleetkit/retry/exec.retry")) == sorted(HOSTS)


def test_a_sigterm_handler_set_by_the_embedding_program_is_left_alone() -> None:
    code = (
        "import signal, sys\n"
        "from fleetkit.cli.common import terminate_as_interrupt\n"
        "def mine(s, f): pass\n"
        "signal.signal(signal.SIGTERM, mine)\n"
        "with terminate_as_interrupt():\n"
        "    assert signal.getsignal(signal.SIGTERM) is mine\n"
        "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "with terminate_as_interrupt():\n"
        "    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL\n"
        "assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def _step(host: str, status: Status) -> StepResult:
    return StepResult(host=host, task="t", status=status)


def test_unfinished_hosts_of_an_interrupted_run() -> None:
    hosts = ("a", "b", "c")
    steps = (_step("a", Status.OK), _step("b", Status.FAILED))
    exec_run = RunResult(steps=steps, hosts=hosts, duration_s=1.0, interrupted=True)
    assert exec_run.unfinished == ("c",)
    play_run = RunResult(steps=steps, hosts=hosts, duration_s=1.0, interrupted=True, playbook=True)
    assert play_run.unfinished == ("a", "c")
    assert RunResult(steps=steps, hosts=hosts, duration_s=1.0).unfinished == ()
