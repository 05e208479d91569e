"""with_<lookup> loops, loop_control, lookup()/query(), until/retries, failed_when/changed_when
lists: on a fake fleet, the commands each host ran say what the task saw."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, run, write

from fleetkit.errors import PlaybookError
from fleetkit.testing.fake_connection import FakeCall

pytestmark = pytest.mark.unit


def _one(tmp: Path, tasks: str, fleet: Fleet | None = None, **kw: object) -> list[str]:
    fleet = fleet or Fleet()
    body = "\n".join("    " + line for line in tasks.strip("\n").splitlines())
    out = run(tmp, f"- hosts: web1\n  gather_facts: false\n  tasks:\n{body}\n", fleet=fleet,
              hosts=("web1",), **kw)  # fmt: skip
    assert out.result.exit_code() in (0, 1)
    return fleet.commands("web1")


def test_with_items_flattens_one_level_and_with_list_does_not(tmp_path: Path) -> None:
    cmds = _one(
        tmp_path,
        """
        - shell: "i {{ item }}"
          with_items: [[1, 2], 3, [[4]]]
        - shell: "l {{ item }}"
          with_list: [[1, 2], 3]
        """,
    )
    assert cmds == ["i 1", "i 2", "i 3", "i [4]", "l [1, 2]", "l 3"]


def test_with_dict_together_nested_cartesian(tmp_path: Path) -> None:
    cmds = _one(
        tmp_path,
        """
        - shell: "d {{ item.key }}={{ item.value }}"
          with_dict: {b: 1, a: 2}
        - shell: "t {{ item | join(',') }}"
          with_together: [[1, 2, 3], [x, y]]
        - shell: "n {{ item | join(',') }}"
          with_nested: [[1, 2], [x, y]]
        - shell: "c {{ item | join(',') }}"
          with_cartesian: [[1], [x, y]]
        """,
    )
    assert cmds == [
        "d b=1",
        "d a=2",
        "t 1,x",
        "t 2,y",
        "t 3,None",
        "n 1,x",
        "n 1,y",
        "n 2,x",
        "n 2,y",
        "c 1,x",
        "c 1,y",
    ]


def test_with_sequence_forms(tmp_path: Path) -> None:
    cmds = _one(
        tmp_path,
        """
        - shell: "s {{ item }}"
          with_sequence: start=1 end=9 stride=4 format=n%02d
        - shell: "c {{ item }}"
          with_sequence: count=2
        - shell: "k {{ item }}"
          with_sequence: 4-6
        """,
    )
    assert cmds == ["s n01", "s n05", "s n09", "c 1", "c 2", "k 4", "k 5", "k 6"]


def test_with_subelements_pairs_each_parent_without_its_list_and_skips_missing(
    tmp_path: Path,
) -> None:
    cmds = _one(
        tmp_path,
        """
        - shell: "{{ item.0.name }} {{ item.1 }} {{ item.0.keys() | list | join(',') }}"
          with_subelements:
            - [{name: a, k: [1, 2]}, {name: b, k: [3]}, {name: c}]
            - k
            - skip_missing: true
        """,
    )
    assert cmds == ["a 1 name", "a 2 name", "b 3 name"]


def test_with_subelements_refuses_a_missing_key_without_skip_missing(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          tasks:
            - shell: "{{ item.1 }}"
              with_subelements: [[{name: c}], k]
        """,
        hosts=("web1",),
    )
    assert out.status("shell: {{ item.1 }}") == {"web1": "failed"}
    assert "could not find 'k'" in out.results()[0]["msg"]


def test_with_fileglob_searches_files_beside_the_playbook(tmp_path: Path) -> None:
    write(tmp_path / "files" / "b.conf", "b")
    write(tmp_path / "files" / "a.conf", "a")
    write(tmp_path / "files" / "c.txt", "c")
    cmds = _one(
        tmp_path,
        """
        - shell: "g {{ item | basename }}"
          with_fileglob: "*.conf"
        """,
    )
    assert cmds == ["g a.conf", "g b.conf"]


def test_two_loop_keys_on_one_task_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="with_items and with_dict together"):
        _one(tmp_path, "- shell: x\n  with_items: [1]\n  with_dict: {a: 1}\n")


def test_ansible_loop_exists_only_with_extended_and_has_ansibles_fields(tmp_path: Path) -> None:
    cmds = _one(
        tmp_path,
        """
        - shell: "plain {{ ansible_loop is defined }} {{ ansible_loop_var }}"
          loop: [a]
        - shell: >-
            x {{ letter }} {{ i }} {{ ansible_loop.index }} {{ ansible_loop.revindex0 }}
            {{ ansible_loop.first }} {{ ansible_loop.last }} {{ ansible_loop.length }}
            {{ ansible_loop.previtem | default('-') }} {{ ansible_loop.nextitem | default('-') }}
            {{ ansible_index_var }}
          loop: [a, b]
          loop_control: {extended: true, loop_var: letter, index_var: i}
        """,
    )
    assert cmds == [
        "plain False item",
        "x a 0 1 1 True False 2 - b i",
        "x b 1 2 0 False True 2 a - i",
    ]


def test_loop_results_carry_the_loop_var_its_name_and_the_label(tmp_path: Path) -> None:
    cmds = _one(
        tmp_path,
        """
        - shell: "run {{ item }}"
          loop: [a, b]
          loop_control: {label: "L{{ item }}", index_var: n}
          register: r
        - shell: >-
            {{ r.results | map(attribute='ansible_loop_var') | join(',') }}
            {{ r.results | map(attribute='item') | join(',') }}
            {{ r.results | map(attribute='n') | join(',') }}
            {{ r.results | map(attribute='_ansible_item_label') | join(',') }}
        """,
    )
    assert cmds[-1] == "item,item a,b 0,1 La,Lb"


def test_loop_pause_sleeps_between_items_only(tmp_path: Path) -> None:
    slept: list[float] = []
    _one(
        tmp_path,
        """
        - shell: "p {{ item }}"
          loop: [1, 2, 3]
          loop_control: {pause: 2}
        """,
        sleep=slept.append,
    )
    assert slept == [2.0, 2.0]


def test_unknown_loop_control_key_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="did you mean 'label'"):
        _one(tmp_path, "- shell: x\n  loop: [1]\n  loop_control: {lable: x}\n")


def test_lookups_file_env_template_fileglob_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEETKIT_LOOKUP_TEST", "from-env")
    write(tmp_path / "files" / "note.txt", "a note\n\n")
    write(tmp_path / "files" / "x.conf", "x")
    write(tmp_path / "templates" / "t.j2", "hi {{ who }}{{ extra | default('') }}\n")
    cmds = _one(
        tmp_path,
        """
        - shell: "f {{ lookup('file', 'note.txt') }}"
        - shell: "e {{ lookup('env', 'FLEETKIT_LOOKUP_TEST') }} [{{ lookup('env', 'NOPE_X_Y') }}]"
        - shell: "t {{ lookup('template', 't.j2') | trim }}"
          vars: {who: there}
        - shell: "v {{ lookup('template', 't.j2', template_vars={'extra': '!'}) | trim }}"
          vars: {who: you}
        - shell: "g {{ query('fileglob', '*.conf') | map('basename') | list }}"
        - shell: "p {{ lookup('pipe', 'echo a', 'echo b') }} {{ query('pipe', 'echo a') }}"
        - shell: "w {{ lookup('pipe', 'echo a', wantlist=True) }} {{ q('env', 'NOPE_X_Y') }}"
        """,
    )
    assert cmds == [
        "f a note",
        "e from-env []",
        "t hi there",
        "v hi you!",
        "g ['x.conf']",
        "p a,b ['a']",
        "w ['a'] ['']",
    ]


def test_lookup_in_a_role_finds_the_roles_files_first(tmp_path: Path) -> None:
    write(tmp_path / "files" / "n.txt", "playbook's")
    write(tmp_path / "roles" / "r" / "files" / "n.txt", "role's")
    write(
        tmp_path / "roles" / "r" / "tasks" / "main.yml",
        "- shell: \"{{ lookup('file', 'n.txt') }}\"\n",
    )
    fleet = Fleet()
    run(tmp_path, "- hosts: web1\n  gather_facts: false\n  roles: [r]\n", fleet=fleet,
        hosts=("web1",))  # fmt: skip
    assert fleet.commands("web1") == ["role's"]


def test_a_lookup_failure_fails_the_task_and_an_unknown_plugin_names_the_close_one(
    tmp_path: Path,
) -> None:
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          tasks:
            - name: missing file
              shell: "{{ lookup('file', 'nope.txt') }}"
              ignore_errors: true
            - name: bad plugin
              shell: "{{ lookup('fiel', 'x') }}"
            - name: bad pipe
              shell: "{{ lookup('pipe', 'exit 3') }}"
        """,
        hosts=("web1",),
    )
    msgs = {e["task"]: e["msg"] for e in out.results()}
    assert "could not locate file 'nope.txt'" in msgs["missing file"]
    assert "did you mean 'file'" in msgs["bad plugin"]
    assert "bad pipe" not in msgs  # the host failed at "bad plugin"


def _counter(fail_times: int) -> tuple[Fleet, list[str]]:
    seen: list[str] = []

    def handle(call: FakeCall) -> tuple[int, str, str]:
        seen.append(call.command)
        n = len(seen)
        return (1 if n <= fail_times else 0, f"{n}\n", "")

    return Fleet(handle), seen


def test_retries_without_until_retry_until_the_task_succeeds(tmp_path: Path) -> None:
    fleet, seen = _counter(2)
    slept: list[float] = []
    _one(
        tmp_path,
        """
        - command: flaky
          retries: 5
          delay: 1
          register: r
        - command: "echo {{ r.attempts }} {{ r.failed }}"
        """,
        fleet=fleet,
        sleep=slept.append,
    )
    assert seen == ["flaky", "flaky", "flaky", "echo 3 False"]
    assert slept == [1.0, 1.0]


def test_until_defaults_to_three_retries_and_reports_attempts_as_ansible_does(
    tmp_path: Path,
) -> None:
    fleet, _ = _counter(0)
    out_cmds = _one(
        tmp_path,
        """
        - name: never true
          command: poll
          until: false
          delay: 0
          register: r
          ignore_errors: true
        - command: "echo {{ r.attempts }} {{ r.failed }}"
        """,
        fleet=fleet,
    )
    assert out_cmds == ["poll"] * 4 + ["echo 3 True"]


def test_failed_when_and_changed_when_lists_mean_all_of_them(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          tasks:
            - name: not failed
              command: "true"
              failed_when: [true, false]
            - name: not changed
              command: "true"
              changed_when: [true, false]
            - name: changed
              command: "true"
              changed_when: [true, "1 == 1"]
            - name: failed
              command: "true"
              failed_when: ["1 == 1", true]
        """,
        hosts=("web1",),
    )
    assert {e["task"]: e["status"] for e in out.results()} == {
        "not failed": "changed",
        "not changed": "ok",
        "changed": "changed",
        "failed": "failed",
    }


def test_per_task_check_mode_and_diff_override_the_run(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    out = run(
        tmp_path,
        f"""
        - hosts: web1
          gather_facts: false
          tasks:
            - name: predicted only
              copy: {{content: "x", dest: "{target}"}}
              check_mode: true
              diff: true
              delegate_to: localhost
        """,
        hosts=("web1",),
    )
    assert out.status("predicted only") == {"web1": "changed"}
    assert not target.exists()
    assert os.path.exists(tmp_path)
