"""One lab host misbehaves; the user must see exactly that host's trouble, in bounded time,
while the other hosts finish (issue 11's fault suite, on real sshd and real links).

The victim is the last lab host. Every scenario checks the statuses per host, the
exit code, the time it took, and what it left behind; then that the victim answers
again once the fault is gone (nothing stays broken for the next scenario).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.faults import lab_faults
from tests.faults.conftest import CONNECT_TIMEOUT_S
from tests.faults.lab_faults import Table
from tests.support import FLEETKIT

from fleetkit.lab import LabState

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@dataclass(frozen=True)
class Outcome:
    rc: int
    statuses: dict[str, str]
    messages: dict[str, str]
    summary: dict[str, Any]
    took_s: float
    stderr: str

    def describe(self, victim: str) -> str:
        others = sorted({s for h, s in self.statuses.items() if h != victim})
        return (
            f"{victim} {self.statuses.get(victim)} ({self.messages.get(victim, '')[:70]}),"
            f" others {'/'.join(others)}, exit {self.rc}, {self.took_s:.1f}s"
        )


def run_with_fault(
    argv: list[str], *, at_s: float | None, fault: Callable[[], Any], cwd: Path, timeout: float
) -> Outcome:
    """fleetkit argv --json; fault() is entered at_s seconds in (None: before the start)
    and left when the run ends."""
    with contextlib.ExitStack() as stack:
        if at_s is None:
            stack.enter_context(_entered(fault))
        start = time.monotonic()
        cut = argv.index("--") if "--" in argv else len(argv)
        proc = subprocess.Popen(
            [*FLEETKIT, *argv[:cut], "--json", *argv[cut:]],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if at_s is not None:
            time.sleep(at_s)
            stack.enter_context(_entered(fault))
        out, err = proc.communicate(timeout=timeout)
        took = time.monotonic() - start
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    statuses: dict[str, str] = {}
    messages: dict[str, str] = {}
    for e in events:
        if e["event"] == "host_result" and statuses.get(e["host"]) not in ("failed", "unreachable"):
            statuses[e["host"]] = e["status"]
            messages[e["host"]] = str(e.get("msg") or "")
    summary = next((e for e in events if e["event"] == "summary"), {})
    return Outcome(proc.returncode, statuses, messages, summary, took, err)


@contextlib.contextmanager
def _entered(fault: Callable[[], Any]) -> Iterator[Any]:
    made = fault()
    if hasattr(made, "__enter__"):
        with made as live:
            yield live
    else:
        yield made


@pytest.fixture
def victim(lab: LabState) -> str:
    return lab.hosts[-1].name


@pytest.fixture
def others(lab: LabState) -> list[str]:
    return [h.name for h in lab.hosts[:-1]]


def _answers_again(inventory: Path, host: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        proc = subprocess.run(
            [*FLEETKIT, "exec", host, "-i", str(inventory), "--", "true"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode == 0:
            return
        assert time.monotonic() < deadline, f"{host} did not recover: {proc.stdout}{proc.stderr}"
        time.sleep(1)


def _check(
    out: Outcome, victim: str, others: list[str], *, victim_status: str, rc: int, bound_s: float
) -> None:
    assert "Traceback" not in out.stderr, out.stderr
    assert out.statuses.get(victim) == victim_status, (out.statuses, out.messages)
    assert all(out.statuses.get(h) in ("ok", "changed") for h in others), out.statuses
    assert out.rc == rc, (out.rc, out.statuses, out.stderr[-500:])
    assert out.took_s < bound_s, out.took_s
    assert set(out.summary.get("hosts", {})) == {victim, *others}  # every host reported once


EXEC_SLOW = "sleep 4; echo done"


def test_session_sshd_killed_mid_command(
    fault_inventory: Path, victim: str, others: list[str], tmp_path: Path, outcomes: Table
) -> None:
    argv = ["exec", "all", "-i", str(fault_inventory), "--timeout", "30", "--", EXEC_SLOW]

    def kill_once_connected() -> list[int]:
        lab_faults.wait_for_sessions(victim)
        time.sleep(1.0)  # the command is running
        return lab_faults.killed_sessions(victim)

    out = run_with_fault(argv, at_s=0.5, fault=kill_once_connected, cwd=tmp_path, timeout=60)
    _check(out, victim, others, victim_status="unreachable", rc=3, bound_s=15)
    outcomes.add("exec: the victim's session sshd SIGKILLed mid-command", out.describe(victim))
    _answers_again(fault_inventory, victim)


PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: started
      copy: {content: "started\\n", dest: "/tmp/fkfault-{{ inventory_hostname }}-start"}
    - name: slow
      command: sleep 4
    - name: finished
      copy: {content: "finished\\n", dest: "/tmp/fkfault-{{ inventory_hostname }}-end"}
"""


def _remote_files(inventory: Path, hosts: list[str]) -> dict[str, str]:
    proc = subprocess.run(
        [*FLEETKIT, "exec", "all", "-i", str(inventory), "--json", "--",
         "cd /tmp && ls fkfault-* 2>/dev/null | tr '\\n' ' '; rm -f /tmp/fkfault-*"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    found = {}
    for line in proc.stdout.splitlines():
        e = json.loads(line)
        if e["event"] == "host_result":
            found[e["host"]] = e["stdout"].strip()
    return {h: found.get(h, "") for h in hosts}


def test_session_sshd_killed_mid_playbook_retries_only_that_host(
    fault_inventory: Path, victim: str, others: list[str], tmp_path: Path, outcomes: Table
) -> None:
    (tmp_path / "slow.yml").write_text(PLAYBOOK)
    _remote_files(fault_inventory, [victim, *others])  # none left by an earlier run
    argv = ["run", "slow.yml", "-i", str(fault_inventory)]

    def kill_once_started() -> list[int]:  # the slow task is running on the victim
        deadline = time.monotonic() + 30
        marker = f"/tmp/fkfault-{victim}-start"
        while lab_faults.in_host(victim, "test", "-e", marker).returncode != 0:
            assert time.monotonic() < deadline, "the playbook never started on the victim"
            time.sleep(0.1)
        time.sleep(0.5)
        return lab_faults.killed_sessions(victim)

    out = run_with_fault(argv, at_s=0.5, fault=kill_once_started, cwd=tmp_path, timeout=90)
    _check(out, victim, others, victim_status="unreachable", rc=3, bound_s=30)
    retry = (tmp_path / ".fleetkit/retry/slow.retry").read_text().splitlines()
    assert [ln for ln in retry if not ln.startswith("#")] == [victim]
    files = _remote_files(fault_inventory, [victim, *others])
    assert files[victim] == f"fkfault-{victim}-start"  # stopped where it was cut
    for h in others:
        assert files[h] == f"fkfault-{h}-end fkfault-{h}-start"
    outcomes.add(
        "run: the victim's session sshd SIGKILLed mid-playbook",
        out.describe(victim) + f", retry file [{victim}]",
    )


def test_frozen_listener_is_unreachable_within_the_connect_timeout(
    fault_inventory: Path, victim: str, others: list[str], tmp_path: Path, outcomes: Table
) -> None:
    argv = ["exec", "all", "-i", str(fault_inventory), "--", "true"]
    out = run_with_fault(
        argv,
        at_s=None,
        fault=lambda: lab_faults.frozen(victim, listener=True, sessions=False),
        cwd=tmp_path,
        timeout=60,
    )
    _check(out, victim, others, victim_status="unreachable", rc=3, bound_s=CONNECT_TIMEOUT_S + 8)
    outcomes.add("exec: the victim's sshd listener frozen (SIGSTOP)", out.describe(victim))
    _answers_again(fault_inventory, victim)


def test_frozen_session_mid_command_ends_at_the_deadline(
    fault_inventory: Path, victim: str, others: list[str], tmp_path: Path, outcomes: Table
) -> None:
    argv = ["exec", "all", "-i", str(fault_inventory), "--timeout", "6", "--", "sleep 3; echo ok"]

    def freeze() -> Any:
        lab_faults.wait_for_sessions(victim)
        return lab_faults.frozen(victim)

    out = run_with_fault(argv, at_s=1.5, fault=freeze, cwd=tmp_path, timeout=60)
    # the remote `timeout` cannot run on a frozen session: the client gives up 3 s later
    _check(out, victim, others, victim_status="failed", rc=1, bound_s=6 + 3 + 6)
    assert "timed out" in out.messages[victim]
    outcomes.add("exec: the victim's sshd and session frozen mid-command", out.describe(victim))
    _answers_again(fault_inventory, victim)


def test_link_down_mid_command_ends_at_the_deadline(
    fault_inventory: Path, victim: str, others: list[str], tmp_path: Path, outcomes: Table
) -> None:
    argv = ["exec", "all", "-i", str(fault_inventory), "--timeout", "6", "--", "sleep 3; echo ok"]
    out = run_with_fault(
        argv, at_s=1.5, fault=lambda: lab_faults.link_down(victim), cwd=tmp_path, timeout=60
    )
    _check(out, victim, others, victim_status="failed", rc=1, bound_s=6 + 3 + 6)
    outcomes.add("exec: the victim's veth down mid-command", out.describe(victim))
    _answers_again(fault_inventory, victim)


@pytest.mark.parametrize(
    ("kind", "bound_s", "scenario"),
    [
        ("drop", CONNECT_TIMEOUT_S + 8, "exec: SSH to the victim dropped by nftables (blackhole)"),
        ("reject", 8, "exec: SSH to the victim rejected by nftables (TCP reset)"),
    ],
)
def test_traffic_dropped_or_rejected_is_unreachable(
    kind: str,
    bound_s: float,
    scenario: str,
    fault_inventory: Path,
    victim: str,
    others: list[str],
    tmp_path: Path,
    outcomes: Table,
) -> None:
    argv = ["exec", "all", "-i", str(fault_inventory), "--", "true"]
    with lab_faults.nft(victim, kind) as fault:
        out = run_with_fault(argv, at_s=None, fault=lambda: None, cwd=tmp_path, timeout=60)
        hit = fault.packets()
    assert hit > 0
    _check(out, victim, others, victim_status="unreachable", rc=3, bound_s=bound_s)
    outcomes.add(scenario, out.describe(victim) + f" ({hit} packets hit)")
    _answers_again(fault_inventory, victim)


LOSSY_PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
""" + "".join(f"    - name: step {i}\n      command: echo {i}\n" for i in range(10))


def test_packet_loss_slows_but_every_task_completes(
    fault_inventory: Path, victim: str, others: list[str], tmp_path: Path, outcomes: Table
) -> None:
    (tmp_path / "lossy.yml").write_text(LOSSY_PLAYBOOK)
    argv = ["run", "lossy.yml", "-i", str(fault_inventory)]
    with lab_faults.nft(victim, "loss", percent=20) as fault:
        out = run_with_fault(argv, at_s=None, fault=lambda: None, cwd=tmp_path, timeout=300)
        lost = fault.packets()
    assert lost > 0
    assert "Traceback" not in out.stderr
    assert out.rc == 0, (out.statuses, out.messages)
    assert out.summary["hosts"][victim]["changed"] == 10
    assert out.took_s < 240
    outcomes.add(
        "run: 20% of the victim's inbound SSH packets lost (10 tasks)",
        f"every task ok on every host, exit 0, {out.took_s:.1f}s ({lost} packets dropped)",
    )


FULL_PLAYBOOK = """\
- hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: big file
      copy: {content: "{{ 'x' * 200000 }}", dest: /srv/fkfull/conf}
      register: copied
      ignore_errors: true
    - name: the copy failed on the full disk only
      assert: {that: ["copied is failed == (inventory_hostname == victim)"]}
    - name: big template
      template: {src: big.j2, dest: /srv/fkfull/templated}
"""


def test_disk_full_during_copy_leaves_the_old_file_whole(
    fault_inventory: Path, victim: str, others: list[str], tmp_path: Path, outcomes: Table
) -> None:
    (tmp_path / "full.yml").write_text(FULL_PLAYBOOK)
    (tmp_path / "big.j2").write_text("{{ 'y' * 200000 }}\n")
    prepare = (
        "mkdir -p /srv/fkfull && echo old > /srv/fkfull/conf && echo old > /srv/fkfull/templated"
    )
    with lab_faults.full_disk(victim, "/srv/fkfull", size="64k"):
        subprocess.run(
            [*FLEETKIT, "exec", "all", "-i", str(fault_inventory), "--become", "--", prepare],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        argv = ["run", "full.yml", "-i", str(fault_inventory), "-e", f"victim={victim}"]
        out = run_with_fault(argv, at_s=None, fault=lambda: None, cwd=tmp_path, timeout=90)
        listing = lab_faults.in_host(
            victim, "sh", "-c", "ls -A /srv/fkfull; cat /srv/fkfull/conf /srv/fkfull/templated"
        ).stdout
    _check(out, victim, others, victim_status="failed", rc=1, bound_s=30)
    assert "space" in out.messages[victim].lower(), out.messages[victim]
    assert listing.split() == ["conf", "templated", "old", "old"], listing  # no temp file left
    subprocess.run(
        [*FLEETKIT, "exec", "all", "-i", str(fault_inventory), "--become", "--",
         "rm -rf /srv/fkfull"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    outcomes.add(
        "run: the victim's disk full during copy and template (64 KiB tmpfs, 200 KB files)",
        out.describe(victim) + ", both old files intact, no temp file left",
    )
