"""`fleetkit verify` on the lab: testinfra files over fleetkit's connections, one
result per test per host, exit codes; role layouts unchanged; health --checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.support import FLEETKIT, json_events

from fleetkit.lab import LabState

pytestmark = pytest.mark.integration

LAB_TESTS = """
def test_hostname_file(host):
    assert host.file("/etc/hostname").exists

def test_fleet_user(host):
    assert host.user("fleet").exists

def test_hostname_is_the_inventory_name(host):
    assert host.run("hostname").stdout.strip() == host.backend.get_hostname()

def test_sudo_is_root(host):
    with host.sudo():
        assert host.check_output("id -u") == "0"
"""

ONLY_LAB1 = """
def test_named_lab1(host):
    assert host.check_output("hostname") == "lab1"
"""


def verify(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLEETKIT, "verify", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=cwd,
        env=env,
    )


def results(stdout: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["host"], e["task"]): e for e in json_events(stdout) if e["event"] == "host_result"}


@pytest.fixture
def inventory(lab: LabState) -> str:
    assert lab.inventory is not None
    return str(lab.inventory)


@pytest.fixture
def tests_dir(tmp_path: Path) -> Path:
    (tmp_path / "test_lab.py").write_text(textwrap.dedent(LAB_TESTS))
    (tmp_path / "test_only_lab1.py").write_text(textwrap.dedent(ONLY_LAB1))
    return tmp_path


def test_every_test_runs_on_every_host_and_one_host_only_fails_one(
    lab: LabState, inventory: str, tests_dir: Path
) -> None:
    proc = verify("test_lab.py", "test_only_lab1.py", "-i", inventory, "--json", cwd=tests_dir)
    assert proc.returncode == 1, proc.stderr
    got = results(proc.stdout)
    names = [h.name for h in lab.hosts]
    tasks = [f"test_lab.py::{t}" for t in ("test_hostname_file", "test_fleet_user")]
    tasks += ["test_lab.py::test_hostname_is_the_inventory_name", "test_lab.py::test_sudo_is_root"]
    tasks += ["test_only_lab1.py::test_named_lab1"]
    assert set(got) == {(h, t) for h in names for t in tasks}
    failed = {k for k, e in got.items() if e["status"] == "failed"}
    assert failed == {(h, "test_only_lab1.py::test_named_lab1") for h in names if h != "lab1"}
    assert all(got[(h, t)]["status"] == "ok" for h in names for t in tasks[:4])
    assert "assert 'lab2' == 'lab1'" in got[("lab2", tasks[4])]["msg"]
    summary = json_events(proc.stdout)[-1]
    assert summary["event"] == "summary"
    assert summary["hosts"]["lab1"] == {
        "ok": 5,
        "changed": 0,
        "failed": 0,
        "unreachable": 0,
        "skipped": 0,
    }
    assert summary["hosts"]["lab2"]["failed"] == 1 and summary["hosts"]["lab2"]["ok"] == 4


def test_console_lines_name_host_and_test_and_limit_selects_hosts(
    inventory: str, tests_dir: Path
) -> None:
    proc = verify("test_only_lab1.py", "-i", inventory, "-l", "lab1", cwd=tests_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(
        line.startswith("lab1  ok") and "test_only_lab1.py::test_named_lab1" in line
        for line in lines
    ), proc.stdout
    assert "RECAP" in proc.stdout and "lab2" not in proc.stdout
    failing = verify("test_only_lab1.py", "-i", inventory, "-l", "lab2", cwd=tests_dir)
    assert failing.returncode == 1
    assert "lab2  failed" in failing.stdout and "assert 'lab2' == 'lab1'" in failing.stdout


def test_become_runs_the_tests_commands_as_root(inventory: str, tmp_path: Path) -> None:
    (tmp_path / "test_root.py").write_text(
        'def test_root(host):\n    assert host.check_output("id -u") == "0"\n'
    )
    plain = verify("test_root.py", "-i", inventory, "-l", "lab3", "--json", cwd=tmp_path)
    root = verify("test_root.py", "-i", inventory, "-l", "lab3", "--json", "-b", cwd=tmp_path)
    assert (plain.returncode, root.returncode) == (1, 0), plain.stderr + root.stderr


def test_a_roles_tests_run_unchanged(inventory: str, tmp_path: Path) -> None:
    for role in ("web", "db"):
        tests = tmp_path / "roles" / role / "tests"
        tests.mkdir(parents=True)
        (tests / "conftest.py").write_text(
            f"import pytest\n\n@pytest.fixture\ndef role_name():\n    return {role!r}\n"
        )
        (tests / "test_default.py").write_text(
            textwrap.dedent(
                """
                import os

                def test_hosts_file(host, role_name):
                    f = host.file("/etc/hosts")
                    assert f.exists
                    assert f.user == "root"
                    assert os.path.basename(os.path.dirname(os.path.dirname(__file__))) == role_name
                """
            )
        )
    scenario = tmp_path / "molecule" / "default" / "tests"
    scenario.mkdir(parents=True)
    (scenario / "test_default.py").write_text(
        "def test_sshd(host):\n    assert host.process.filter(comm='sshd')\n"
    )
    proc = verify(
        "roles/web/tests", "roles/db/tests/test_default.py", "molecule", "-i", inventory,
        "-l", "lab1", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {task for _, task in results(proc.stdout)} == {
        "roles/web/tests/test_default.py::test_hosts_file",
        "roles/db/tests/test_default.py::test_hosts_file",
        "molecule/default/tests/test_default.py::test_sshd",
    }


def test_bad_input_is_exit_2_and_touches_no_host(inventory: str, tmp_path: Path) -> None:
    (tmp_path / "test_broken.py").write_text("import no_such_module_anywhere\n")
    broken = verify("test_broken.py", "-i", inventory, cwd=tmp_path)
    assert broken.returncode == 2 and "no_such_module_anywhere" in broken.stderr
    assert "host_result" not in broken.stdout
    assert verify("missing.py", "-i", inventory, cwd=tmp_path).returncode == 2
    (tmp_path / "test_ok.py").write_text("def test_x(host):\n    pass\n")
    assert verify("test_ok.py", "-i", inventory, "-l", "nosuchhost", cwd=tmp_path).returncode == 2


def test_an_unreachable_host_is_exit_3(lab: LabState, tmp_path: Path) -> None:
    assert lab.inventory is not None
    text = Path(lab.inventory).read_text()
    lab3 = next(h for h in lab.hosts if h.name == "lab3")
    # 198.18.0.250: a lab address no host has (the lab range, nothing beyond it)
    (tmp_path / "hosts.yml").write_text(text.replace(lab3.address, "198.18.0.250"))
    (tmp_path / "test_ok.py").write_text("def test_x(host):\n    assert host.run('true').rc == 0\n")
    proc = verify("test_ok.py", "-i", "hosts.yml", "-l", "lab3", "--json", cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    got = results(proc.stdout)
    assert [e["status"] for e in got.values()] == ["unreachable"]


def test_health_checks_accept_a_testinfra_file(inventory: str, tests_dir: Path) -> None:
    checks = tests_dir / "checks.yml"
    checks.write_text("thresholds:\n  load_per_cpu: 1000\ntestinfra: [test_only_lab1.py]\n")
    textfile = tests_dir / "health.prom"
    proc = subprocess.run(
        [*FLEETKIT, "health", "-i", inventory, "--checks", str(checks), "--json",
         "--textfile", str(textfile)],
        capture_output=True, text=True, timeout=240, check=False, cwd=tests_dir,
    )  # fmt: skip
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    check = "test:test_only_lab1.py::test_named_lab1"
    verdicts = {r["host"]: r for r in rows if r.get("check") == check}
    assert set(verdicts) == {"lab1", "lab2", "lab3"}, proc.stdout + proc.stderr
    assert [h for h, r in sorted(verdicts.items()) if not r["ok"]] == ["lab2", "lab3"]
    assert proc.returncode == 1
    metrics = textfile.read_text()
    assert f'fleetkit_health_check_ok{{check="{check}",host="lab1"}} 1' in metrics
    assert f'fleetkit_health_check_ok{{check="{check}",host="lab2"}} 0' in metrics
    direct = subprocess.run(
        [*FLEETKIT, "health", "-i", inventory, "-l", "lab1", "--checks", "test_lab.py", "--json"],
        capture_output=True, text=True, timeout=240, check=False, cwd=tests_dir,
    )  # fmt: skip
    rows = [json.loads(line) for line in direct.stdout.splitlines() if line.strip()]
    tests = {r["check"]: r["ok"] for r in rows if str(r.get("check", "")).startswith("test:")}
    assert tests == {
        "test:test_lab.py::test_hostname_file": True,
        "test:test_lab.py::test_fleet_user": True,
        "test:test_lab.py::test_hostname_is_the_inventory_name": True,
        "test:test_lab.py::test_sudo_is_root": True,
    }


MOLECULE_ERA = """
import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ['MOLECULE_INVENTORY_FILE']).get_hosts('all')


def test_hosts_file(host):
    f = host.file('/etc/hosts')

    assert f.exists
    assert f.user == 'root'
    assert f.group == 'root'
"""


def test_a_molecule_era_file_reading_its_inventory_runs_unchanged(
    inventory: str, tmp_path: Path
) -> None:
    pytest.importorskip("ansible", reason="Molecule-era files parse the inventory with Ansible")
    # ansible-inventory sits beside the interpreter (the venv's bin), as after pip install
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    tests = tmp_path / "molecule" / "default" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_default.py").write_text(MOLECULE_ERA)
    proc = verify("molecule", "-i", inventory, "-l", "lab2", "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(results(proc.stdout)) == [
        ("lab2", "molecule/default/tests/test_default.py::test_hosts_file")
    ]
