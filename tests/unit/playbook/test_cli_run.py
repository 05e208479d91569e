"""`fleetkit run`: exit codes, one-line errors, human and JSON output, retry file, metrics.

Hosts use `ansible_connection: local` (commands run on this machine, no network), except
the unreachable one, which points at a closed loopback port.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.unit.playbook.helpers import write

from fleetkit.cli import main

pytestmark = pytest.mark.unit


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    hosts = {"node1": {"ansible_connection": "local"}, "node2": {"ansible_connection": "local"}}
    inv = {"all": {"hosts": hosts, "vars": {"greeting": "hello"}}}
    write(tmp_path / "inv" / "hosts.yml", yaml.safe_dump(inv))
    return tmp_path


def fleetkit(*args: str) -> int:
    return int(main(list(args)))


def test_a_good_run_exits_0_with_task_lines_and_a_recap(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        workdir / "site.yml",
        "- hosts: all\n  tasks:\n    - {name: greet, shell: 'echo {{ greeting }}'}\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv") == 0
    out = capsys.readouterr().out
    assert "TASK greet" in out and "RECAP" in out
    assert any(line.startswith("node1") and line.endswith("hello") for line in out.splitlines())


def test_a_typo_exits_2_with_one_line_and_runs_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = workdir / "ran"
    write(
        workdir / "site.yml",
        f"- hosts: all\n  tasks:\n    - shell: touch {marker}\n"
        "    - shell: echo\n      whn: true\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv") == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "fleetkit: error: site.yml:5: play 'all', task (unnamed): unknown task keyword"
        " or module 'whn' (did you mean 'when'?)"
    )
    assert not marker.exists()


def test_an_undefined_variable_exits_2_before_any_host(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = workdir / "ran"
    write(
        workdir / "site.yml",
        f"- name: p\n  hosts: all\n  tasks:\n    - shell: touch {marker}\n"
        "    - name: use\n      debug: {msg: '{{ greting }}'}\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv") == 2
    err = capsys.readouterr().err
    assert "site.yml:5: play 'p', task 'use': undefined variable 'greting'" in err
    assert "(did you mean 'greeting'?)" in err
    assert not marker.exists()


def test_a_failed_host_exits_1_and_the_recap_names_the_retry_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        workdir / "site.yml",
        "- hosts: all\n  tasks:\n"
        "    - shell: \"{{ 'exit 1' if inventory_hostname == 'node2' else 'true' }}\"\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv") == 1
    out = capsys.readouterr().out
    assert "--limit @.fleetkit/retry/site.retry" in out
    assert "node2" in (workdir / ".fleetkit" / "retry" / "site.retry").read_text()
    assert (
        fleetkit("run", "site.yml", "-i", "inv", "-l", "@.fleetkit/retry/site.retry", "--json") == 1
    )
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["host"] for e in events if e["event"] == "host_result"} == {"node2"}


def test_json_lines_follow_the_output_contract(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        workdir / "site.yml",
        "- name: p\n  hosts: all\n  tasks:\n    - {name: t, command: echo hi}\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv", "--json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    start = next(e for e in events if e["event"] == "task_start")
    assert start == {"event": "task_start", "play": "p", "task": "t", "hosts": ["node1", "node2"]}
    result = next(e for e in events if e["event"] == "host_result")
    assert set(result) == {
        "event",
        "host",
        "task",
        "status",
        "rc",
        "stdout",
        "stderr",
        "msg",
        "duration_s",
    }
    assert result["stdout"] == "hi\n" and result["status"] == "changed"
    summary = events[-1]
    assert summary["event"] == "summary" and summary["retry_file"] is None
    assert summary["hosts"]["node1"] == {
        "ok": 0,
        "changed": 1,
        "failed": 0,
        "unreachable": 0,
        "skipped": 0,
        "rescued": 0,
        "ignored": 0,
    }


def test_check_never_claims_a_command_ran(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = workdir / "ran"
    write(
        workdir / "site.yml",
        f"- hosts: node1\n  tasks:\n    - {{name: t, shell: touch {marker}}}\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv", "--check", "--json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["status"] for e in events if e["event"] == "host_result"] == ["skipped"]
    assert events[-1]["hosts"]["node1"]["skipped"] == 1
    assert not marker.exists()


def test_diff_shows_a_unified_diff(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = workdir / "app.conf"
    target.write_text("port=1\n")
    write(
        workdir / "site.yml",
        "- hosts: node1\n  tasks:\n"
        f"    - {{name: t, copy: {{content: 'port=2\\n', dest: {target}}}}}\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv", "--check", "--diff") == 0
    out = capsys.readouterr().out
    assert "-port=1" in out and "+port=2" in out
    assert target.read_text() == "port=1\n"


def test_extra_vars_win(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        workdir / "site.yml",
        "- hosts: node1\n  tasks:\n    - {name: t, debug: {msg: '{{ greeting }}'}}\n",
    )
    assert fleetkit("run", "site.yml", "-i", "inv", "-e", "greeting=bonjour", "--json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert next(e for e in events if e["event"] == "host_result")["msg"] == "bonjour"


def test_a_limit_that_matches_nothing_exits_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "site.yml", "- hosts: all\n  tasks: []\n")
    assert fleetkit("run", "site.yml", "-i", "inv", "-l", "nosuchhost") == 2
    assert "nosuchhost" in capsys.readouterr().err


def test_a_missing_playbook_exits_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fleetkit("run", "nope.yml", "-i", "inv") == 2
    assert "playbook 'nope.yml' not found" in capsys.readouterr().err


def test_unreachable_only_exits_3(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = {
        "all": {
            "hosts": {
                "dead": {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_ssh_timeout": 2}
            }
        }
    }
    write(workdir / "inv2" / "hosts.yml", yaml.safe_dump(inv))
    write(workdir / "site.yml", "- hosts: all\n  tasks:\n    - {name: t, command: uptime}\n")
    assert fleetkit("run", "site.yml", "-i", "inv2", "--json") == 3
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["status"] for e in events if e["event"] == "host_result"] == ["unreachable"]


def test_metrics_textfile_is_written(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir / "site.yml", "- hosts: all\n  tasks:\n    - {name: t, command: 'true'}\n")
    prom = workdir / "textfile" / "fleetkit_run.prom"
    assert fleetkit("run", "site.yml", "-i", "inv", "--metrics-textfile", str(prom)) == 0
    text = prom.read_text()
    assert 'fleetkit_run_tasks_total{playbook="site",status="changed"} 2.0' in text
    assert 'fleetkit_run_hosts{playbook="site",status="changed"} 2.0' in text
    assert "fleetkit_run_last_success_timestamp_seconds" in text


def test_a_play_on_localhost_runs_on_the_implicit_localhost(tmp_path: Path) -> None:
    """Ansible's implicit localhost (issue 16): `hosts: localhost` with no such host in
    the inventory runs locally instead of "no play matches any host" (exit 2)."""
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    (tmp_path / "site.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - command: echo implicit\n      register: out\n"
    )
    code = main(["run", str(tmp_path / "site.yml"), "-i", str(tmp_path / "hosts.ini")])
    assert code == 0
