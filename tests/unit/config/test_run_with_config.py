"""A playbook run under an ansible.cfg's settings (ConfigDefaults in the RunRequest), on a
fake fleet: gathering, become, allow_broken_conditionals, retry files, connection settings,
interpreter_python."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.modules.test_setup import OUT as FACTS_OUT
from tests.unit.playbook.helpers import Fleet, inventory, run, write

from fleetkit.config.defaults import ConfigDefaults
from fleetkit.errors import TemplateError
from fleetkit.executor.facts import FACTS_SCRIPT
from fleetkit.modules.ansible_fallback.run import interpreter_of
from fleetkit.playbook.session import RunRequest, prepare
from fleetkit.testing.fake_connection import FakeCall

pytestmark = pytest.mark.unit

PLAY = "- hosts: all\n  tasks:\n    - shell: echo hi\n"


def facts_fleet() -> Fleet:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        return (0, FACTS_OUT, "") if call.command == FACTS_SCRIPT else (0, "", "")

    return Fleet(handler=handle)


def gathered(fleet: Fleet, host: str = "web1") -> int:
    return fleet.commands(host).count(FACTS_SCRIPT)


@pytest.mark.parametrize(
    ("gathering", "gather_facts", "expected"),
    [
        (None, None, 0),  # fleetkit's auto: this play reads no facts
        ("implicit", None, 1),
        ("implicit", False, 0),
        ("smart", None, 1),
        ("explicit", None, 0),
        ("explicit", True, 1),
    ],
)
def test_gathering_decides_a_play_without_gather_facts_as_ansible_does(
    tmp_path: Path, gathering: str | None, gather_facts: bool | None, expected: int
) -> None:
    fleet = facts_fleet()
    keyword = "" if gather_facts is None else f"  gather_facts: {gather_facts}\n"
    out = run(
        tmp_path,
        f"- hosts: all\n{keyword}  tasks:\n    - shell: echo hi\n",
        fleet=fleet,
        defaults=ConfigDefaults(gathering=gathering),
    )
    assert out.result.exit_code() == 0
    assert gathered(fleet) == expected


def test_smart_gathering_contacts_a_host_once_per_run(tmp_path: Path) -> None:
    fleet = facts_fleet()
    out = run(tmp_path, PLAY + PLAY, fleet=fleet, defaults=ConfigDefaults(gathering="smart"))
    assert out.result.exit_code() == 0
    assert gathered(fleet) == 1
    assert len(out.results("gather facts")) == 2  # the second play gathers nothing


def test_implicit_gathering_defines_ansibles_fact_names_for_the_load_check(
    tmp_path: Path,
) -> None:
    book = "- hosts: all\n  tasks:\n    - debug: {msg: '{{ ansible_distribution }}'}\n"
    with pytest.raises(TemplateError, match="ansible_distribution"):
        run(tmp_path, book, fleet=facts_fleet())
    out = run(tmp_path, book, fleet=facts_fleet(), defaults=ConfigDefaults(gathering="implicit"))
    assert out.result.exit_code() == 0


@pytest.mark.parametrize(
    ("play_keyword", "host_var", "expected"),
    [
        ("", None, True),
        ("  become: false\n", None, False),
        ("", False, False),
    ],
)
def test_configured_become_is_under_keywords_and_variables(
    tmp_path: Path, play_keyword: str, host_var: bool | None, expected: bool
) -> None:
    fleet = Fleet()
    inv = inventory(
        tmp_path, host_vars={"web1": {"ansible_become": host_var}} if host_var is not None else None
    )
    run(
        tmp_path,
        f"- hosts: web1\n{play_keyword}  tasks:\n    - shell: echo hi\n",
        fleet=fleet,
        inv=inv,
        defaults=ConfigDefaults(become=True),
    )
    [call] = [c for c in fleet.conns["web1"].calls if "echo hi" in c.command]
    assert call.become is expected


@pytest.mark.parametrize("allow", [False, True])
def test_allow_broken_conditionals_takes_a_non_boolean_condition_as_bool(
    tmp_path: Path, allow: bool
) -> None:
    book = (
        "- hosts: web1\n  vars: {items_left: [a]}\n  tasks:\n"
        "    - {shell: echo when, when: items_left}\n"
        "    - {assert: {that: [items_left]}}\n"
    )
    out = run(tmp_path, book, defaults=ConfigDefaults(allow_broken_conditionals=allow))
    statuses = [e["status"] for e in out.results()]
    assert statuses == (["changed", "ok"] if allow else ["failed"])


@pytest.mark.parametrize(("enabled", "written"), [(True, True), (False, False)])
def test_retry_files_enabled_false_writes_no_retry_file(
    tmp_path: Path, enabled: bool, written: bool
) -> None:
    fleet = Fleet(handler=lambda call: (1, "", "boom"))
    out = run(tmp_path, PLAY, fleet=fleet, defaults=ConfigDefaults(retry_files_enabled=enabled))
    assert out.result.exit_code() == 1
    assert (tmp_path / ".fleetkit" / "retry" / "site.retry").exists() is written
    assert (out.result.retry_file is not None) is written


def test_connection_settings_reach_the_hosts_specs(tmp_path: Path) -> None:
    book = write(tmp_path / "site.yml", PLAY)
    inv = inventory(tmp_path, host_vars={"web2": {"ansible_user": "admin"}})
    defaults = ConfigDefaults(remote_user="deploy", private_key_file="/k/id", timeout=3.0)
    prepared = prepare(RunRequest(playbook=book, inventory=inv, cwd=tmp_path, defaults=defaults))
    one, two = prepared.specs["web1"], prepared.specs["web2"]
    assert (one.user, one.ssh_key, one.connect_timeout) == ("deploy", "/k/id", 3.0)
    assert (two.user, two.ssh_key) == ("admin", "/k/id")


def test_interpreter_python_is_under_ansible_python_interpreter() -> None:
    assert interpreter_of({}, "/opt/py3") == "/opt/py3"
    assert interpreter_of({"ansible_python_interpreter": "/usr/bin/python3"}, "/opt/py3") == (
        "/usr/bin/python3"
    )
    assert interpreter_of({"ansible_python_interpreter": "auto"}, "/opt/py3") is None
    assert interpreter_of({}, None) is None
