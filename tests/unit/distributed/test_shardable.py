"""What `fleetkit run --cluster` refuses before sending anything (exit 2, file:line, the
play and the keyword), and what it lets through: no Dask needed, nothing connects."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.unit.playbook.helpers import inventory, write

from fleetkit.cli import main
from fleetkit.distributed.shardable import check_shardable
from fleetkit.errors import PlaybookError
from fleetkit.playbook.session import RunRequest, prepare

pytestmark = pytest.mark.unit

HEAD = "- name: deploy\n  hosts: all\n  gather_facts: false\n"


def check(tmp_path: Path, playbook: str, **request: object) -> None:
    book = write(tmp_path / "site.yml", playbook)
    inv = inventory(
        tmp_path,
        ("web1", "web2"),
        host_vars={"web1": {"peer_ip": "{{ hostvars['web2'].ansible_host | default('') }}"}},
    )
    check_shardable(prepare(RunRequest(playbook=book, inventory=inv, cwd=tmp_path, **request)))


REFUSED = {
    "run_once": (
        HEAD + "  tasks:\n    - name: pick\n      command: echo x\n      run_once: true\n",
        "site.yml:5: play 'deploy', task 'pick': run_once cannot be sharded",
    ),
    "run_once in a block": (
        HEAD + "  tasks:\n    - block:\n        - name: inner\n          command: echo x\n"
        "      run_once: true\n",
        "site.yml:6: play 'deploy', task 'inner': run_once cannot be sharded",
    ),
    "serial": (
        HEAD + "  serial: 1\n  tasks:\n    - command: echo x\n",
        "site.yml:1: play 'deploy': serial cannot be sharded",
    ),
    "max_fail_percentage": (
        HEAD + "  max_fail_percentage: 10\n  tasks:\n    - command: echo x\n",
        "site.yml:1: play 'deploy': max_fail_percentage cannot be sharded",
    ),
    "any_errors_fatal": (
        HEAD + "  any_errors_fatal: true\n  tasks:\n    - command: echo x\n",
        "site.yml:1: play 'deploy': any_errors_fatal cannot be sharded",
    ),
    "throttle": (
        HEAD + "  tasks:\n    - name: slow\n      command: echo x\n      throttle: 1\n",
        "site.yml:5: play 'deploy', task 'slow': throttle cannot be sharded",
    ),
    "delegate_facts": (
        HEAD + "  tasks:\n    - name: facts\n      setup: {}\n      delegate_to: web2\n"
        "      delegate_facts: true\n",
        "site.yml:5: play 'deploy', task 'facts': delegate_facts cannot be sharded",
    ),
    "a handler's run_once": (
        HEAD + "  tasks:\n    - {command: echo x, notify: h}\n  handlers:\n"
        "    - name: h\n      command: echo y\n      run_once: true\n",
        "site.yml:7: play 'deploy', handler 'h': run_once cannot be sharded",
    ),
    "refresh_inventory": (
        HEAD + "  tasks:\n    - meta: refresh_inventory\n",
        "meta: refresh_inventory cannot be sharded",
    ),
    "end_play under when": (
        HEAD + "  tasks:\n    - meta: end_play\n      when: inventory_hostname == 'web1'\n",
        "meta: end_play with when: cannot be sharded",
    ),
    "templated include": (
        HEAD + "  vars: {which: a}\n  tasks:\n    - include_tasks: '{{ which }}.yml'\n",
        "include_tasks of a templated name cannot be sharded",
    ),
    "fetch": (
        HEAD + "  tasks:\n    - fetch: {src: /etc/hostname, dest: out/}\n",
        "fetch cannot be sharded",
    ),
    "hostvars of another host": (
        HEAD + "  tasks:\n    - name: peer\n      debug:\n"
        "        msg: \"{{ hostvars['web2'].ansible_host | default('') }}\"\n",
        "site.yml:5: play 'deploy', task 'peer' reads other hosts' state (hostvars['web2'])",
    ),
    "hostvars in a loop": (
        HEAD
        + "  tasks:\n    - name: all\n      debug: {msg: '{{ hostvars[item] | default(1) }}'}\n"
        "      loop: \"{{ groups['all'] }}\"\n",
        "reads other hosts' state (hostvars[item])",
    ),
    "hostvars as a whole": (
        HEAD + "  tasks:\n    - debug: {msg: '{{ hostvars | length }}'}\n",
        "reads other hosts' state (hostvars)",
    ),
    "hostvars in a condition": (
        HEAD + "  tasks:\n    - command: echo x\n      when: hostvars.web2 is defined\n",
        "reads other hosts' state (hostvars.web2)",
    ),
    "the play's host list": (
        HEAD + "  tasks:\n    - debug: {msg: '{{ ansible_play_hosts | length }}'}\n",
        "reads other hosts' state (ansible_play_hosts)",
    ),
    "through a play variable": (
        HEAD + "  vars:\n    first: \"{{ hostvars[groups['all'][0]].x | default(1) }}\"\n"
        "  tasks:\n    - debug: {msg: '{{ first }}'}\n",
        "site.yml:1: play 'deploy': variable 'first' (play vars) reads other hosts' state"
        " (hostvars[...])",
    ),
    "through an inventory variable": (
        HEAD + "  tasks:\n    - debug: {msg: '{{ peer_ip }}'}\n",
        "play 'deploy': inventory variable 'peer_ip' of host 'web1' reads other hosts' state"
        " (hostvars['web2'])",
    ),
    "in a template file": (
        HEAD + "  tasks:\n    - template: {src: peers.j2, dest: /tmp/peers}\n",
        "reads other hosts' state (hostvars[h] in its template)",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_needs_other_hosts_is_refused_with_its_place(tmp_path: Path, case: str) -> None:
    playbook, message = REFUSED[case]
    write(
        tmp_path / "templates" / "peers.j2",
        "{% for h in groups.all %}{{ hostvars[h] }}{% endfor %}",
    )
    write(tmp_path / "a.yml", "- command: echo a\n")
    with pytest.raises(PlaybookError) as err:
        check(tmp_path, playbook)
    assert message in str(err.value)
    assert err.value.hint is not None and "without --cluster" in err.value.hint


ALLOWED = {
    "own hostvars": "  tasks:\n    - debug: {msg: '{{ hostvars[inventory_hostname].x | d(1) }}'}\n",
    "groups and group_names": "  tasks:\n    - debug: {msg: '{{ groups.all }} {{ group_names }}'}\n"
    "    - debug: {msg: '{{ groups.all }}'}\n",
    "delegate_to another host": "  tasks:\n    - command: echo x\n      delegate_to: web2\n",
    "delegate_to localhost": "  tasks:\n    - command: echo x\n      delegate_to: localhost\n",
    "end_play without when": "  tasks:\n    - meta: end_play\n",
    "flush_handlers": "  tasks:\n    - meta: flush_handlers\n",
    "a static include": "  tasks:\n    - include_tasks: a.yml\n",
    "an unused inventory variable": "  tasks:\n    - command: echo x\n",
}


@pytest.mark.parametrize("case", sorted(ALLOWED))
def test_what_a_shard_can_run_alone_is_let_through(tmp_path: Path, case: str) -> None:
    write(tmp_path / "a.yml", "- command: echo a\n")
    check(tmp_path, HEAD + ALLOWED[case])


def test_a_task_that_tags_leave_out_is_not_held_against_the_run(tmp_path: Path) -> None:
    playbook = (
        HEAD + "  tasks:\n    - {name: once, command: echo x, run_once: true, tags: [setup]}\n"
        "    - {name: each, command: echo y, tags: [deploy]}\n"
    )
    check(tmp_path, playbook, tags=frozenset({"deploy"}))
    with pytest.raises(PlaybookError, match="run_once"):
        check(tmp_path, playbook)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEETKIT_CLUSTER", raising=False)
    hosts = {"node1": {"ansible_connection": "local"}, "node2": {"ansible_connection": "local"}}
    write(tmp_path / "inv" / "hosts.yml", yaml.safe_dump({"all": {"hosts": hosts}}))
    write(
        tmp_path / "site.yml",
        "- hosts: all\n  tasks:\n    - {name: pick, command: 'touch ran', run_once: true}\n",
    )
    return tmp_path


@pytest.mark.parametrize("how", ["option", "environment", "inventory"])
def test_the_cli_refuses_before_sending_anything_whichever_way_the_cluster_is_named(
    workdir: Path, how: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = "tcp://127.0.0.1:9"  # nothing listens: a connection attempt would exit 3
    argv = ["run", "site.yml", "-i", "inv"]
    if how == "option":
        argv += ["--cluster", closed]
    elif how == "environment":
        monkeypatch.setenv("FLEETKIT_CLUSTER", closed)
    else:
        data = yaml.safe_load((workdir / "inv" / "hosts.yml").read_text())
        data["all"]["vars"] = {"fleetkit_cluster": closed}
        (workdir / "inv" / "hosts.yml").write_text(yaml.safe_dump(data))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    first = captured.err.splitlines()[0]
    assert first == (
        "fleetkit: error: site.yml:3: play 'all', task 'pick': run_once cannot be sharded:"
        " one host runs it for every host of the play"
    )
    assert not (workdir / "ran").exists()


def test_input_errors_come_first_exactly_as_without_a_cluster(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "site.yml", "- hosts: all\n  tasks:\n    - shell: echo\n      whn: true\n")
    assert main(["run", "site.yml", "-i", "inv"]) == 2
    local = capsys.readouterr().err
    assert main(["run", "site.yml", "-i", "inv", "--cluster", "tcp://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err == local
    write(workdir / "site.yml", "- hosts: all\n  tasks:\n    - command: echo hi\n")
    assert main(["run", "site.yml", "-i", "inv", "--cluster", "http://x"]) == 2
    assert "expected a Dask scheduler address" in capsys.readouterr().err
