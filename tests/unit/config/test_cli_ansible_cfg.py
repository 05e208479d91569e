"""`fleetkit run` and `fleetkit exec` with an ansible.cfg in the working directory: the
inventory without -i, forks, remote_user and become from the file, flags over it, -v,
a malformed file (exit 2, nothing run). Playbook hosts are a fake fleet (the session's
execute gets its connect= hook); exec's hosts use the local connection."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.unit.playbook.helpers import Fleet, write

from fleetkit.cli import main
from fleetkit.playbook import session
from fleetkit.playbook.session import Prepared

pytestmark = pytest.mark.unit

CFG = """
[defaults]
inventory = inv/hosts.yml
forks = 1
remote_user = deploy
nocows = 1
[privilege_escalation]
become = True
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository laid out for Ansible: ansible.cfg, inv/hosts.yml, site.yml."""
    for name in list(os.environ):
        if name.startswith("ANSIBLE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    tmp_path.chmod(0o755)
    hosts = {"web1": {}, "web2": {"ansible_user": "admin"}}
    write(tmp_path / "inv" / "hosts.yml", yaml.safe_dump({"all": {"hosts": hosts}}))
    write(tmp_path / "site.yml", "- hosts: all\n  tasks:\n    - shell: echo hi\n")
    write(tmp_path / "ansible.cfg", CFG)
    return tmp_path


class Spy:
    """The session's execute, on a fake fleet, remembering what it was given."""

    def __init__(self) -> None:
        self.fleet = Fleet()
        self.prepared: Prepared | None = None

    def __call__(self, prepared: Prepared, reporter: Any, **kwargs: Any) -> Any:
        self.prepared = prepared
        return REAL_EXECUTE(prepared, reporter, connect=self.fleet, **kwargs)


REAL_EXECUTE = session.execute


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    caught = Spy()
    monkeypatch.setattr(session, "execute", caught)
    yield caught


def fleetkit(*args: str) -> int:
    return int(main(list(args)))


def test_a_run_takes_inventory_forks_remote_user_and_become_from_ansible_cfg(
    repo: Path, spy: Spy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fleetkit("run", "site.yml") == 0
    assert spy.prepared is not None
    request = spy.prepared.request
    assert request.inventory == repo / "inv" / "hosts.yml"
    assert request.forks == 1
    assert spy.prepared.specs["web1"].user == "deploy"
    assert spy.prepared.specs["web2"].user == "admin"  # the inventory's ansible_user wins
    for host in ("web1", "web2"):
        [call] = [c for c in spy.fleet.conns[host].calls if "echo hi" in c.command]
        assert call.become is True
    out = capsys.readouterr()
    assert "RECAP" in out.out and "warning" not in out.out


def test_flags_beat_ansible_cfg(repo: Path, spy: Spy) -> None:
    write(repo / "other" / "hosts.yml", yaml.safe_dump({"all": {"hosts": {"db1": {}}}}))
    assert fleetkit("run", "site.yml", "-i", "other/hosts.yml", "-f", "4") == 0
    assert spy.prepared is not None
    assert spy.prepared.request.inventory == Path("other/hosts.yml")
    assert spy.prepared.request.forks == 4
    assert spy.prepared.hosts == ("db1",)


def test_the_environment_beats_ansible_cfg(
    repo: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANSIBLE_FORKS", "3")
    monkeypatch.setenv("ANSIBLE_BECOME", "no")
    assert fleetkit("run", "site.yml") == 0
    assert spy.prepared is not None and spy.prepared.request.forks == 3
    [call] = [c for c in spy.fleet.conns["web1"].calls if "echo hi" in c.command]
    assert call.become is False


def test_verbose_lists_the_file_what_it_sets_and_what_is_unused(
    repo: Path, spy: Spy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fleetkit("run", "site.yml", "-v") == 0
    err = capsys.readouterr().err.splitlines()
    assert f"fleetkit: ansible.cfg: {repo / 'ansible.cfg'}" in err
    assert "fleetkit: ansible.cfg: forks = 1 (ansible.cfg:3)" in err
    assert "fleetkit: ansible.cfg: not used by fleetkit: [defaults] nocows (ansible.cfg:5)" in err


def test_host_key_checking_off_warns_in_the_run_output(
    repo: Path, spy: Spy, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "ansible.cfg", CFG + "[ssh_connection]\nhost_key_checking = False\n")
    assert fleetkit("run", "site.yml", "--json") == 0
    events = [yaml.safe_load(line) for line in capsys.readouterr().out.splitlines()]
    warnings = [e["msg"] for e in events if e["event"] == "warning"]
    assert warnings == [
        "host_key_checking is off (ansible.cfg:9): host keys no known_hosts file knows are"
        " accepted and recorded (accept-new); a changed key is still refused"
    ]
    assert spy.prepared is not None
    assert spy.prepared.specs["web1"].host_key_policy == "accept-new"


def test_a_malformed_ansible_cfg_is_exit_2_with_its_line_and_nothing_runs(
    repo: Path, spy: Spy, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "ansible.cfg", "[defaults]\ninventory = inv/hosts.yml\nforks: lots\n")
    assert fleetkit("run", "site.yml") == 2
    assert capsys.readouterr().err.startswith(
        "fleetkit: error: ansible.cfg:3: forks = 'lots' is not an integer"
    )
    assert spy.prepared is None


def test_without_i_or_a_configured_inventory_the_error_says_how_to_give_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "ansible.cfg").unlink()
    assert fleetkit("run", "site.yml") == 2
    err = capsys.readouterr().err
    assert "fleetkit: error: no inventory given" in err
    assert "[defaults] inventory = PATH" in err


def test_exec_takes_the_inventory_from_ansible_cfg(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = {"all": {"hosts": {"here": {"ansible_connection": "local"}}}}
    write(repo / "inv" / "hosts.yml", yaml.safe_dump(local))
    write(
        repo / "ansible.cfg",
        textwrap.dedent("""
        [defaults]
        inventory = inv/hosts.yml
        retry_files_enabled = False
        """),
    )
    assert fleetkit("exec", "all", "--", "echo from-cfg; exit 3") == 1
    out = capsys.readouterr().out
    assert "here | from-cfg" in out
    assert not (repo / ".fleetkit" / "retry" / "exec.retry").exists()
