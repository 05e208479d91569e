"""`fleetkit run` on real lab hosts: check mode, idempotence, handlers, failures and retries.

The story of playbooks/setup-hosts.yml runs in order on the session's lab:
`--check` first (nothing changes on the hosts, testinfra confirms, and it
predicts the changes), then the real run (the predicted changes, a handler once
per host), then a second run (0 changed). A failing playbook then shows partial
failure as data, the retry file, and `-l @retry` rerunning only that host.
"""

from __future__ import annotations

import subprocess
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra
from tests.support import fleetkit as run_fleetkit
from tests.support import json_events

from fleetkit.lab.model import LabState

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "playbooks" / "setup-hosts.yml"
HEALTH = REPO / "playbooks" / "health.yml"
HANDLER = "Restart node_exporter"


def fleetkit(
    *args: str, cwd: Path = REPO, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return run_fleetkit(*args, cwd=cwd, timeout=timeout)


def events(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return json_events(proc.stdout)


def changed(evts: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (e["host"], e["task"])
        for e in evts
        if e["event"] == "host_result" and e["status"] == "changed"
    }


def summary(evts: list[dict[str, Any]]) -> dict[str, Any]:
    assert evts[-1]["event"] == "summary"
    return evts[-1]


@pytest.fixture(scope="module")
def inventory(lab: LabState) -> str:
    assert lab.inventory is not None
    return str(lab.inventory)


@pytest.fixture(scope="module")
def hosts(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """testinfra hosts over plain ssh with the lab's key and known_hosts."""
    config = tmp_path_factory.mktemp("ssh") / "config"
    config.write_text(
        "".join(
            f"Host {h.name}\n  HostName {h.address}\n  User fleet\n  IdentityFile {lab.key}\n"
            f"  IdentitiesOnly yes\n  UserKnownHostsFile {lab.known_hosts}\n"
            "  StrictHostKeyChecking yes\n  BatchMode yes\n"
            for h in lab.hosts
        )
    )
    return {
        h.name: testinfra.get_host(f"ssh://{h.name}", ssh_config=str(config), sudo=True)
        for h in lab.hosts
    }


def listening(host: Any, port: int, wait_s: float = 5.0) -> bool:
    """Whether something listens on port on host (a just-restarted daemon gets wait_s)."""
    deadline = time.monotonic() + wait_s
    while not host.socket(f"tcp://{port}").is_listening:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def snapshot(host: Any) -> dict[str, Any]:
    """What setup-hosts.yml changes, as seen on one host."""
    motd = host.file("/etc/motd")
    default = host.file("/etc/default/prometheus-node-exporter")
    return {
        "motd": motd.content_string if motd.exists else None,
        "default": default.content_string if default.exists else None,
        "exporter": host.socket("tcp://9100").is_listening,
    }


@pytest.fixture(scope="module")
def check_run(
    inventory: str, hosts: dict[str, Any]
) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]]:
    before = {name: snapshot(h) for name, h in hosts.items()}
    proc = fleetkit("run", str(SETUP), "-i", inventory, "--check", "--diff", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = {name: snapshot(h) for name, h in hosts.items()}
    yield events(proc), before, after
    # leave no node_exporter behind on the shared lab hosts
    fleetkit(
        "exec",
        "all",
        "-i",
        inventory,
        "--become",
        "--",
        "systemctl stop prometheus-node-exporter || service prometheus-node-exporter stop",
    )


@pytest.fixture(scope="module")
def first_run(check_run: object, inventory: str) -> list[dict[str, Any]]:
    proc = fleetkit("run", str(SETUP), "-i", inventory, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return events(proc)


@pytest.fixture(scope="module")
def second_run(first_run: object, inventory: str) -> list[dict[str, Any]]:
    proc = fleetkit("run", str(SETUP), "-i", inventory, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return events(proc)


def test_check_mode_changes_nothing_on_the_hosts(
    check_run: tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]],
) -> None:
    evts, before, after = check_run
    assert before == after
    assert all(not s["exporter"] for s in after.values())
    assert changed(evts), "check mode should predict changes on a fresh lab"


def test_check_mode_predicts_exactly_what_the_real_run_changes(
    check_run: tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]],
    first_run: list[dict[str, Any]],
) -> None:
    assert changed(check_run[0]) == changed(first_run)


def test_the_first_run_configures_every_host(
    first_run: list[dict[str, Any]], hosts: dict[str, Any]
) -> None:
    for name, host in hosts.items():
        assert host.file("/etc/motd").contains(f"{name} -- managed by fleetkit")
        assert host.file("/var/lib/prometheus/node-exporter").is_directory
        assert host.file("/etc/default/prometheus-node-exporter").contains(
            "collector.textfile.directory=/var/lib/prometheus/node-exporter"
        )
        assert listening(host, 9100), f"node_exporter does not listen on {name}"


def test_the_handler_runs_once_per_host(first_run: list[dict[str, Any]], lab: LabState) -> None:
    runs = Counter(
        e["host"] for e in first_run if e["event"] == "host_result" and e["task"] == HANDLER
    )
    assert runs == {h.name: 1 for h in lab.hosts}
    assert all(
        e["status"] == "changed"
        for e in first_run
        if e["event"] == "host_result" and e["task"] == HANDLER
    )


def test_a_second_run_reports_zero_changed_on_every_host(
    second_run: list[dict[str, Any]], lab: LabState
) -> None:
    stats = summary(second_run)["hosts"]
    assert set(stats) == {h.name for h in lab.hosts}
    assert all(s["changed"] == 0 and s["failed"] == 0 for s in stats.values()), stats
    assert not [e for e in second_run if e["event"] == "host_result" and e["task"] == HANDLER]


def test_health_playbook_passes_on_the_lab(inventory: str) -> None:
    # Lab hosts report the machine's load average, which other runs on a shared
    # machine push over 4 per CPU: the load check still runs, with a bound for that.
    proc = fleetkit("run", str(HEALTH), "-i", inventory, "--json", "-e", "max_load_per_cpu=1000")
    assert proc.returncode == 0, proc.stdout + proc.stderr


FAILING = """
- name: partial failure
  hosts: all
  vars:
    fixed: false
  tasks:
    - name: break one host
      shell: "exit {{ 3 if inventory_hostname == broken and not (fixed | bool) else 0 }}"
    - name: mark finished
      copy:
        content: "finished\\n"
        dest: "/tmp/fleetkit-it-{{ inventory_hostname }}"
"""


@pytest.fixture
def failing(tmp_path: Path, lab: LabState, hosts: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    (tmp_path / "partial.yml").write_text(textwrap.dedent(FAILING))
    broken = lab.hosts[1].name
    yield tmp_path, broken
    for name, host in hosts.items():
        host.run(f"rm -f /tmp/fleetkit-it-{name}")


def test_a_failing_task_on_one_host_leaves_the_others_to_finish_and_writes_the_retry_file(
    failing: tuple[Path, str], inventory: str, hosts: dict[str, Any]
) -> None:
    workdir, broken = failing
    proc = fleetkit("run", "partial.yml", "-i", inventory, "-e", f"broken={broken}", cwd=workdir)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "--limit @.fleetkit/retry/partial.retry" in proc.stdout
    retry = workdir / ".fleetkit" / "retry" / "partial.retry"
    assert [ln for ln in retry.read_text().splitlines() if not ln.startswith("#")] == [broken]
    for name, host in hosts.items():
        assert host.file(f"/tmp/fleetkit-it-{name}").exists == (name != broken)


def test_limit_at_the_retry_file_reruns_only_the_failed_host(
    failing: tuple[Path, str], inventory: str, hosts: dict[str, Any]
) -> None:
    workdir, broken = failing
    first = fleetkit("run", "partial.yml", "-i", inventory, "-e", f"broken={broken}", cwd=workdir)
    assert first.returncode == 1
    proc = fleetkit(
        "run",
        "partial.yml",
        "-i",
        inventory,
        "-e",
        f"broken={broken}",
        "-e",
        "fixed=true",
        "-l",
        "@.fleetkit/retry/partial.retry",
        "--json",
        cwd=workdir,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    evts = events(proc)
    assert {e["host"] for e in evts if e["event"] == "host_result"} == {broken}
    assert hosts[broken].file(f"/tmp/fleetkit-it-{broken}").exists


def test_a_typo_is_one_line_with_file_line_and_nothing_runs(tmp_path: Path, inventory: str) -> None:
    (tmp_path / "typo.yml").write_text(
        "- hosts: all\n  tasks:\n    - name: greet\n      shel: echo hi\n"
    )
    proc = fleetkit("run", "typo.yml", "-i", inventory, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        "fleetkit: error: typo.yml:4: play 'all', task 'greet': unknown task keyword or module"
        " 'shel' (did you mean 'shell'?)"
    )
