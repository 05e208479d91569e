"""Blocks, includes, imports and roles on a fake fleet: flattening, inheritance, recovery."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, run, write

from fleetkit.errors import PlaybookError
from fleetkit.playbook.blocks import BlockState
from fleetkit.playbook.load import load_playbook
from fleetkit.playbook.schema import Frame
from fleetkit.testing.fake_connection import table

pytestmark = pytest.mark.unit

FAILS = table({"false": (1, "", "boom\n"), "true": (0, "", "")})


def test_a_failure_in_a_block_runs_rescue_and_always_and_counts_as_rescued(
    tmp_path: Path,
) -> None:
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - block:
                - name: breaks
                  command: "false"
                - name: skipped after the failure
                  command: "true"
              rescue:
                - name: recover
                  debug:
                    msg: "failed {{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }}"
              always:
                - name: cleanup
                  command: "true"
        """,
        fleet=Fleet(FAILS),
    )
    assert out.status("breaks") == {"web1": "failed", "web2": "failed"}
    assert out.results("skipped after the failure") == []
    assert next(r["msg"] for r in out.results("recover")) == "failed breaks rc=1"
    assert set(out.status("cleanup")) == {"web1", "web2"}
    counts = out.result.counts()["web1"]
    assert counts["rescued"] == 1 and counts["failed"] == 0
    assert out.result.exit_code() == 0


def test_a_block_without_rescue_runs_always_then_fails_the_host(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - block:
                - name: breaks
                  command: "false"
              always:
                - name: cleanup
                  command: "true"
            - name: after
              command: "true"
        """,
        fleet=Fleet(FAILS),
    )
    assert set(out.status("cleanup")) == {"web1", "web2"}
    assert out.results("after") == []
    assert out.result.exit_code() == 1


def test_block_keywords_are_inherited_by_nested_tasks(tmp_path: Path) -> None:
    path = write(
        tmp_path / "site.yml",
        """
        - hosts: all
          tasks:
            - when: a
              become: true
              tags: [outer]
              vars: {x: 1}
              block:
                - when: b
                  tags: inner
                  vars: {y: 2}
                  block:
                    - name: deep
                      command: "true"
                      vars: {x: 3}
        """,
    )
    task = load_playbook(path).plays[0].tasks[0]
    assert task.when == ("a", "b") and task.become is True
    assert task.tags == {"outer", "inner"} and dict(task.vars) == {"x": 3, "y": 2}
    assert [f.section for f in task.frames] == ["block", "block"]


def test_block_state_defers_a_failure_until_always_is_left() -> None:
    outer = Frame(1, "block", rescue=True)
    inner = Frame(2, "block", always=True)
    state = BlockState()
    assert state.fail((outer, inner)) is None  # always first
    assert state.runs((outer, Frame(2, "always", always=True)))
    assert not state.runs((outer, inner))
    assert state.leave((outer,)) is False  # re-raised into outer, which rescues
    assert state.runs((Frame(1, "rescue", rescue=True),))


def test_import_tasks_expands_at_load_and_errors_name_the_including_task(
    tmp_path: Path,
) -> None:
    write(tmp_path / "ok.yml", "- name: one\n  command: 'true'\n")
    write(tmp_path / "bad.yml", "- name: typo\n  comand: 'true'\n")
    path = write(
        tmp_path / "site.yml",
        "- hosts: all\n  tasks:\n    - import_tasks: ok.yml\n      tags: [t]\n",
    )
    (task,) = load_playbook(path).plays[0].tasks
    assert task.name == "one" and task.tags == {"t"}
    path = write(tmp_path / "site.yml", "- hosts: all\n  tasks:\n    - import_tasks: bad.yml\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert "did you mean 'command'" in info.value.message
    assert f"included from {tmp_path}/site.yml:3" in info.value.message
    assert info.value.position is not None and str(info.value.position.path).endswith("bad.yml")


def test_an_include_loop_is_refused_with_the_chain(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", "- include_tasks: b.yml\n")
    write(tmp_path / "b.yml", "- import_tasks: a.yml\n")
    path = write(tmp_path / "site.yml", "- hosts: all\n  tasks:\n    - include_tasks: a.yml\n")
    with pytest.raises(PlaybookError, match=r"include loop: a\.yml -> b\.yml -> a\.yml"):
        load_playbook(path)


def test_include_tasks_runs_per_loop_item_with_vars_and_when(tmp_path: Path) -> None:
    write(tmp_path / "one.yml", "- name: per item\n  shell: echo {{ thing }} {{ extra }}\n")
    fleet = Fleet(table({"echo": (0, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - include_tasks: one.yml
              loop: [a, b]
              loop_control: {loop_var: thing}
              vars: {extra: z}
              when: inventory_hostname == 'web1'
        """,
        fleet=fleet,
    )
    assert fleet.commands("web1") == ["echo a z", "echo b z"]
    assert fleet.commands("web2") == []
    assert out.status("include_tasks: one.yml") == {"web1": "ok", "web2": "skipped"}
    assert out.result.counts()["web1"]["ok"] == 2


def test_a_role_with_defaults_vars_dependency_template_and_handler(tmp_path: Path) -> None:
    role = tmp_path / "roles" / "web"
    write(role / "defaults" / "main.yml", "port: 80\nname: d\n")
    write(role / "vars" / "main.yml", "user: www\n")
    write(role / "meta" / "main.yml", "dependencies: [base, base]\n")
    write(tmp_path / "roles" / "base" / "tasks" / "main.yml", "- name: base\n  shell: echo base\n")
    write(role / "templates" / "c.j2", "{{ port }} {{ name }} {{ user }} {{ ansible_role_name }}\n")
    write(
        role / "tasks" / "main.yml",
        "- name: conf\n  template: {src: c.j2, dest: /etc/c}\n  notify: restart\n"
        "- shell: echo {{ port }} {{ name }} {{ user }} {{ ansible_role_name }}\n",
    )
    write(role / "handlers" / "main.yml", "- name: restart\n  shell: echo restart\n")
    fleet = Fleet(table({"echo": (0, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          vars: {port: 8080, user: play-loses}
          roles:
            - role: web
              vars: {name: param}
            - base
        """,
        fleet=fleet,
        hosts=("web1",),
    )
    commands = fleet.commands("web1")
    assert commands.count("echo base") == 1  # a dependency runs once
    assert "echo restart" in commands
    assert "echo 8080 param www web" in commands  # play vars beat defaults, role vars play's
    assert out.result.exit_code() == 0


def test_an_unknown_module_in_a_role_names_the_role_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "r" / "tasks" / "main.yml", "- name: x\n  copyy: {dest: /a}\n")
    path = write(tmp_path / "site.yml", "- hosts: all\n  roles: [r]\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert "role 'r', task 'x'" in info.value.message
    assert "did you mean 'copy'" in info.value.message
    assert info.value.position is not None and info.value.position.line == 2


@pytest.mark.parametrize(
    ("entry", "key", "instead"),
    [
        ("- {role: r, port: 2222}", "port", "ansible_port"),
        ("- role: r\n    remote_user: bob", "remote_user", "ansible_user"),
        ("- {role: r, module_defaults: {}}", "module_defaults", "remove it"),
    ],
)
def test_an_ansible_keyword_on_a_role_entry_is_never_taken_as_a_role_param(
    tmp_path: Path, entry: str, key: str, instead: str
) -> None:
    # ansible-core 2.19 takes these as keywords of the entry (RoleInclude attributes),
    # so the role does not see them as variables; fleetkit does not implement them there
    write(tmp_path / "roles" / "r" / "tasks" / "main.yml", "- debug: {msg: hi}\n")
    path = write(tmp_path / "site.yml", f"- hosts: all\n  roles:\n  {entry}\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert f"'{key}' on a role entry is an Ansible keyword" in info.value.message
    assert instead in info.value.message
    assert info.value.position is not None and info.value.position.line in (3, 4)


def test_a_dependency_with_an_ansible_keyword_is_refused_the_same_way(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "r" / "tasks" / "main.yml", "- debug: {msg: hi}\n")
    write(tmp_path / "roles" / "r" / "meta" / "main.yml", "dependencies:\n  - {role: b, port: 1}\n")
    write(tmp_path / "roles" / "b" / "tasks" / "main.yml", "- debug: {msg: b}\n")
    path = write(tmp_path / "site.yml", "- hosts: all\n  roles: [r]\n")
    with pytest.raises(PlaybookError, match="role 'r' dependency: 'port' on a role entry"):
        load_playbook(path)


def test_other_keys_of_a_role_entry_are_role_params(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "r" / "tasks" / "main.yml", "- shell: echo {{ listen }}\n")
    fleet = Fleet(table({"echo": (0, "", "")}))
    out = run(
        tmp_path,
        "- hosts: all\n  roles:\n    - {role: r, listen: 8443, tags: [web]}\n",
        fleet=fleet,
        hosts=("web1",),
    )
    assert "echo 8443" in fleet.commands("web1") and out.result.exit_code() == 0


def test_include_vars_reads_a_file_chosen_at_run_time(tmp_path: Path) -> None:
    write(tmp_path / "vars" / "debian.yml", "pkg: deb\n")
    fleet = Fleet(table({"echo": (0, "", "")}))
    run(
        tmp_path,
        """
        - hosts: all
          vars: {os: debian}
          tasks:
            - include_vars: "{{ os }}.yml"
            - shell: echo {{ pkg }}
        """,
        fleet=fleet,
        hosts=("web1",),
    )
    assert fleet.commands("web1") == ["echo deb"]
