"""Values that came out of a vault never show: console, --json, diffs, registered results,
retry files, metrics and error messages are grepped for the planted plaintexts, while
the tasks themselves get the real values (a file written, a command's output checked)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.vault.conftest import inline, vaulted, write

from fleetkit.cli import main

pytestmark = pytest.mark.unit

DB = "Plant-Db-Secret-41"  # whole-file vault in group_vars/all.yml
FILE = 'Inline "quoted" \\ secret-42'  # inline !vault in a vars_files file (JSON-escaped chars)
EXTRA = "Extra-Key-Secret-43"  # vaulted -e @file
PLANTED = (DB, FILE, EXTRA)

PLAYBOOK = """\
- hosts: all
  vars_files: [secrets.yml]
  tasks:
    - debug: var=db_password
    - name: echo it
      shell: echo "pw={{ db_password }} key={{ api_key }}"
      register: echoed
    - debug: var=echoed
    - assert:
        that: echoed.stdout == 'pw=' ~ db_password ~ ' key=' ~ api_key
    - copy: {content: "{{ file_secret }}", dest: "{{ out }}/{{ inventory_hostname }}"}
    - debug: msg="token {{ file_secret }}"
    - fail: msg="boom {{ db_password }}"
      when: inventory_hostname == 'node2'
"""


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "inv" / "hosts.yml",
        "all:\n  hosts:\n"
        "    node1: {ansible_connection: local}\n    node2: {ansible_connection: local}\n",
    )
    write(tmp_path / "inv" / "group_vars" / "all.yml", vaulted(f"db_password: {DB}\n"))
    write(tmp_path / "secrets.yml", inline("file_secret", FILE))
    write(tmp_path / "extra.yml", vaulted(f"api_key: {EXTRA}\n"))
    write(tmp_path / "pw", "pw-main\n")
    write(tmp_path / "site.yml", PLAYBOOK)
    (tmp_path / "out").mkdir()
    return tmp_path


def fleetkit(*args: str) -> int:
    return int(main(list(args)))


def assert_masked(text: str) -> None:
    for secret in PLANTED:
        assert secret not in text
    assert "Plant-Db" not in text and "secret-42" not in text


def test_no_output_of_a_run_shows_a_vaulted_value(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["site.yml", "-i", "inv", "--vault-password-file", "pw", "-e", "@extra.yml"]
    common += ["-e", f"out={fleet / 'out'}"]
    assert fleetkit("run", *common, "--diff", "--metrics-textfile", "run.prom") == 1
    human = capsys.readouterr()
    assert fleetkit("run", *common, "--json") == 1
    machine = capsys.readouterr()

    # the tasks got the real values
    assert (fleet / "out" / "node1").read_text() == FILE
    assert "node1  ok" in human.out  # the assert on the registered stdout passed
    # ...and every output masks them
    assert "pw=******** key=********" in human.out
    assert "boom ********" in human.out and "+********" in human.out  # failure msg, diff
    assert '\\"stdout\\": \\"pw=******** key=********\\"' in machine.out or (
        '"stdout": "pw=******** key=********"' in machine.out
    )
    retry = (fleet / ".fleetkit" / "retry" / "site.retry").read_text()
    assert retry.splitlines()[-1] == "node2"
    for text in (
        human.out,
        human.err,
        machine.out,
        machine.err,
        retry,
        Path("run.prom").read_text(),
    ):
        assert_masked(text)


def test_an_error_message_masks_a_vaulted_value(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(fleet / "site.yml", "- hosts: all\n  tasks:\n    - debug: msg='{{ {}[api_key] }}'\n")
    code = fleetkit(
        "run", "site.yml", "-i", "inv", "--vault-password-file", "pw", "-e", "@extra.yml"
    )
    out, err = capsys.readouterr()
    assert code == 1 and "undefined variable: 'dict object' has no attribute" in out
    assert "********" in out
    assert_masked(out + err)


def test_inventory_output_masks_vaulted_values(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fleetkit("inventory", "-i", "inv", "--host", "node1", "--vault-password-file", "pw") == 0
    out = capsys.readouterr().out
    assert '"db_password": "********"' in out
    assert_masked(out)


def test_a_cli_error_is_masked_at_the_one_redaction_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fleetkit.cli.common import print_error
    from fleetkit.errors import FleetkitError
    from fleetkit.report.redact import redacting, register_secret

    with redacting():
        register_secret(DB)
        print_error(FleetkitError(f"cannot use {DB}", hint=f"not {DB} again"))
    err = capsys.readouterr().err
    assert err == "fleetkit: error: cannot use ********\n  hint: not ******** again\n"
