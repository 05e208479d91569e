"""Finding 2a: a task's name never carries the argument values of a no_log task or of an
argument declared `Arg(secret=True)`: names are printed in the console, in task_start
and host_result JSON events, and in retries' messages.

The run goes through the real CLI against a host with `ansible_connection: local`
(the controller's own shell), so what is grepped is exactly what a user would see.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fleetkit.cli import main
from fleetkit.playbook.load import load_playbook

pytestmark = pytest.mark.unit

PW = "Planted-Name-Pw-93"
TOKEN = "SWMTKN-1-plantedtokenvalue"


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def inv(tmp_path: Path) -> Path:
    return write(
        tmp_path / "hosts.yml",
        """
        all:
          hosts:
            ctl: {ansible_connection: local}
        """,
    )


def run(tmp_path: Path, inv: Path, play: str, *extra: str) -> int:
    book = write(tmp_path / "play.yml", play)
    return int(main(["run", str(book), "-i", str(inv), *extra]))


def test_an_unnamed_no_log_task_is_not_named_after_its_command(
    tmp_path: Path, inv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    play = f"""
        - hosts: all
          gather_facts: false
          vars: {{pw: {PW}}}
          tasks:
            - shell: "echo -p{{{{ pw }}}} > /dev/null"
              no_log: true
        """
    assert run(tmp_path, inv, play, "--json") == 0
    out = capsys.readouterr()
    assert '"event": "task_start"' in out.out
    assert PW not in out.out and PW not in out.err
    assert "-p" not in out.out  # not even the template: the name is the module's
    assert run(tmp_path, inv, play) == 0
    console = capsys.readouterr()
    assert PW not in console.out + console.err
    assert "shell" in console.out + console.err


def test_no_log_inherited_from_a_block_hides_the_arguments_too(tmp_path: Path) -> None:
    book = write(
        tmp_path / "play.yml",
        f"""
        - hosts: all
          tasks:
            - block:
                - command: "mysql -p{PW}"
              no_log: true
        """,
    )
    task = next(t for t in load_playbook(book).plays[0].tasks if t.module == "command")
    assert task.no_log
    assert PW not in task.name and task.name == "command"


def test_a_secret_argument_never_names_a_task(tmp_path: Path) -> None:
    book = write(
        tmp_path / "play.yml",
        f"""
        - hosts: all
          tasks:
            - swarm_join: {{token: {TOKEN}, remote_addrs: [198.18.0.2]}}
            - get_url: {{url_password: {TOKEN}, url: "http://127.0.0.1/x", dest: /tmp/x}}
        """,
    )
    names = [t.name for t in load_playbook(book).plays[0].tasks if t.module != "meta"]
    assert names and all(TOKEN not in name for name in names), names
    assert names[1] == "get_url: /tmp/x"


def test_url_credentials_never_name_a_task(tmp_path: Path) -> None:
    book = write(
        tmp_path / "play.yml",
        f"""
        - hosts: all
          tasks:
            - uri: {{url: "https://deploy:{PW}@registry.example/v2/"}}
        """,
    )
    (task,) = [t for t in load_playbook(book).plays[0].tasks if t.module == "uri"]
    assert PW not in task.name
    assert task.name == "uri: https://deploy:********@registry.example/v2/"


def test_a_named_task_keeps_its_name(tmp_path: Path) -> None:
    book = write(
        tmp_path / "play.yml",
        """
        - hosts: all
          tasks:
            - name: set the database password
              shell: "mysql -p{{ pw }}"
              no_log: true
        """,
    )
    (task,) = [t for t in load_playbook(book).plays[0].tasks if t.module == "shell"]
    assert task.name == "set the database password"
