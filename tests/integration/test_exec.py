"""`fleetkit exec` against real lab hosts: parallel SSH, failures as data, exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support import FLEETKIT, fleetkit, json_events

from fleetkit.lab import LabState, lab_status

pytestmark = pytest.mark.integration


def derived_inventory(lab: LabState, tmp: Path, **all_vars: Any) -> Path:
    """A copy of the lab inventory with extra or changed variables under all.vars."""
    assert lab.inventory is not None
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"].update(all_vars)
    path = tmp / "hosts.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def inventory(lab: LabState) -> str:
    assert lab.inventory is not None
    return str(lab.inventory)


@pytest.fixture
def stopped_host(lab: LabState) -> Iterator[str]:
    """The last lab host with its sshd frozen (SIGSTOP); thawed afterwards."""
    live = lab_status()
    assert live is not None
    host = live.hosts[-1]
    assert host.sshd_pid
    os.kill(host.sshd_pid, signal.SIGSTOP)
    try:
        yield host.name
    finally:
        os.kill(host.sshd_pid, signal.SIGCONT)


def test_each_host_answers_with_its_own_hostname(lab: LabState, inventory: str) -> None:
    proc = fleetkit("exec", "all", "-i", inventory, "--json", "--", "hostname")
    assert proc.returncode == 0, proc.stderr
    events = json_events(proc.stdout)
    answers = {e["host"]: e["stdout"].strip() for e in events if e["event"] == "host_result"}
    assert answers == {h.name: h.name for h in lab.hosts}
    assert len(set(answers.values())) == len(lab.hosts)
    assert events[-1]["event"] == "summary"


def test_human_output_prefixes_every_line_with_its_host(lab: LabState, inventory: str) -> None:
    proc = fleetkit("exec", "all", "-i", inventory, "--", "echo one; echo two")
    assert proc.returncode == 0, proc.stderr
    for h in lab.hosts:
        assert any(
            line.startswith(h.name) and line.endswith("one") for line in proc.stdout.splitlines()
        )
        assert any(
            line.startswith(h.name) and line.endswith("two") for line in proc.stdout.splitlines()
        )
    assert "RECAP" in proc.stdout


def test_become_runs_as_root(lab: LabState, inventory: str) -> None:
    proc = fleetkit("exec", "all", "-i", inventory, "--become", "--json", "--", "id -u")
    assert proc.returncode == 0, proc.stderr
    outs = [e["stdout"].strip() for e in json_events(proc.stdout) if e["event"] == "host_result"]
    assert outs == ["0"] * len(lab.hosts)


def test_a_failing_host_is_exit_1_and_the_others_succeed(lab: LabState, inventory: str) -> None:
    first = lab.hosts[0].name
    proc = fleetkit(
        "exec", "all", "-i", inventory, "--json", "--", f'test "$(hostname)" != {first}'
    )
    assert proc.returncode == 1
    status = {
        e["host"]: e["status"] for e in json_events(proc.stdout) if e["event"] == "host_result"
    }
    assert status[first] == "failed"
    assert all(s == "ok" for h, s in status.items() if h != first)
    retry = json_events(proc.stdout)[-1]["retry_file"]
    assert retry == ".fleetkit/retry/exec.retry"
    assert [ln for ln in Path(retry).read_text().splitlines() if not ln.startswith("#")] == [first]
    again = fleetkit("exec", "all", "-i", inventory, "-l", f"@{retry}", "--json", "--", "true")
    assert [e["host"] for e in json_events(again.stdout) if e["event"] == "host_result"] == [first]


def test_an_unreachable_host_is_exit_3_while_the_others_succeed(
    lab: LabState, stopped_host: str, tmp_path: Path
) -> None:
    inv = derived_inventory(lab, tmp_path, ansible_ssh_timeout=2)
    start = time.monotonic()
    proc = fleetkit("exec", "all", "-i", str(inv), "--json", "--", "true")
    assert time.monotonic() - start < 20
    assert proc.returncode == 3, proc.stdout + proc.stderr
    status = {
        e["host"]: e["status"] for e in json_events(proc.stdout) if e["event"] == "host_result"
    }
    assert status.pop(stopped_host) == "unreachable"
    assert set(status.values()) == {"ok"}


def test_connection_refused_is_unreachable(lab: LabState, tmp_path: Path) -> None:
    inv = derived_inventory(lab, tmp_path, ansible_port=1)
    proc = fleetkit("exec", lab.hosts[0].name, "-i", str(inv), "--", "true")
    assert proc.returncode == 3
    assert "unreachable" in proc.stdout


def test_an_unknown_host_key_is_refused_by_default(lab: LabState, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    inv = derived_inventory(lab, tmp_path, fleetkit_known_hosts=str(empty))
    proc = fleetkit("exec", "all", "-i", str(inv), "--", "true")
    assert proc.returncode == 3
    assert "unknown host key" in proc.stdout
    assert "accept-new" in proc.stdout
    assert empty.read_text() == ""


def test_accept_new_records_unknown_keys_once(lab: LabState, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    inv = derived_inventory(
        lab, tmp_path, fleetkit_known_hosts=str(known), fleetkit_host_key_policy="accept-new"
    )
    assert fleetkit("exec", "all", "-i", str(inv), "--", "true").returncode == 0
    lines = known.read_text().splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(h.address for h in lab.hosts)
    assert fleetkit("exec", "all", "-i", str(inv), "--", "true").returncode == 0
    assert known.read_text().splitlines() == lines


def test_a_hung_command_is_cut_by_timeout_and_killed(lab: LabState, inventory: str) -> None:
    start = time.monotonic()
    proc = fleetkit(
        "exec", "all", "-i", inventory, "--timeout", "1", "--json", "--", "sleep 611; sleep 612"
    )
    assert time.monotonic() - start < 15
    assert proc.returncode == 1
    results = [e for e in json_events(proc.stdout) if e["event"] == "host_result"]
    assert {r["status"] for r in results} == {"failed"}
    assert all("timed out" in r["msg"] for r in results)
    time.sleep(0.5)
    # lab hosts share the machine's PID namespace: look for the sleeps right here
    left = subprocess.run(
        ["pgrep", "-f", "sleep 61[12]"], check=False, capture_output=True, text=True
    )
    assert left.stdout == ""


def test_a_hung_sudo_command_is_killed_too(lab: LabState, inventory: str) -> None:
    proc = fleetkit("exec", "all", "-i", inventory, "--become", "--timeout", "1", "--", "sleep 613")
    assert proc.returncode == 1
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "sleep 613"], check=False, capture_output=True, text=True)
    assert left.stdout == ""


def test_ctrl_c_stops_the_run_and_reports_what_finished(lab: LabState, inventory: str) -> None:
    proc = subprocess.Popen(
        [*FLEETKIT, "exec", "all", "-i", inventory, "--json", "--", "sleep 30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert json_events(out)[-1]["event"] == "summary"


def test_a_pattern_that_matches_nothing_is_exit_2_and_runs_nothing(inventory: str) -> None:
    proc = fleetkit("exec", "nosuchgroup", "-i", inventory, "--", "touch /tmp/ran")
    assert proc.returncode == 2
    assert "nosuchgroup" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_limit_restricts_the_hosts(lab: LabState, inventory: str) -> None:
    first = lab.hosts[0].name
    proc = fleetkit("exec", "all", "-i", inventory, "-l", first, "--json", "--", "true")
    hosts = [e["host"] for e in json_events(proc.stdout) if e["event"] == "host_result"]
    assert hosts == [first]


def test_ssh_config_host_aliases_user_and_identity_are_honoured(
    lab: LabState, tmp_path: Path
) -> None:
    target = lab.hosts[1]
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host web-alias\n  HostName {target.address}\n  User fleet\n  IdentityFile {lab.key}\n"
    )
    inv = tmp_path / "alias.yml"
    inv.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {"web-alias": None},
                    "vars": {"fleetkit_known_hosts": str(lab.known_hosts)},
                }
            }
        )
    )
    proc = fleetkit(
        "exec", "all", "-i", str(inv), "--json", "--", "hostname",
        env={**os.environ, "HOME": str(home)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = next(e for e in json_events(proc.stdout) if e["event"] == "host_result")
    assert (result["host"], result["stdout"].strip()) == ("web-alias", target.name)


def test_hosts_behind_a_jump_host_are_reached_through_it(lab: LabState, tmp_path: Path) -> None:
    bastion, *behind = lab.hosts
    inv = derived_inventory(lab, tmp_path, fleetkit_jump=f"fleet@{bastion.address}:22")
    names = ",".join(h.name for h in behind)
    proc = fleetkit("exec", names, "-i", str(inv), "--json", "--", "echo $SSH_CONNECTION")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [e for e in json_events(proc.stdout) if e["event"] == "host_result"]
    assert len(results) == len(behind)
    for r in results:
        # the connection arrives from the bastion's address, not the machine's bridge address
        assert r["stdout"].split()[0] == bastion.address
