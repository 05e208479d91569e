"""Running playbooks as ansible-core 2.19 does (issue 16): loops, verdicts, registered values,
play host lists, handlers and failure budgets on a fake fleet."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, run

from fleetkit.testing.fake_connection import table

pytestmark = pytest.mark.unit


def test_set_fact_in_a_loop_sees_the_earlier_items(tmp_path: Path) -> None:
    fleet = Fleet()
    run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          vars: {acc: []}
          tasks:
            - set_fact: {acc: "{{ acc + [item] }}"}
              loop: [a, b, c]
            - set_fact: {n: 0}
            - set_fact: {n: "{{ n | int + item }}"}
              loop: [1, 2, 3, 4]
            - shell: "echo {{ acc | join(',') }} {{ n }}"
        """,
        fleet=fleet,
    )
    assert fleet.commands("web1")[-1] == "echo a,b,c 10"


def test_a_failure_let_through_keeps_changed_and_failed_when_false_notifies(
    tmp_path: Path,
) -> None:
    fleet = Fleet(table({"^false": (1, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          tasks:
            - {name: let, command: "false", failed_when: false, register: a, notify: h}
            - {name: ign, command: "false", ignore_errors: true, register: b, notify: g}
            - shell: "echo {{ a is changed }} {{ b is changed }} {{ b is failed }}"
          handlers:
            - {name: h, shell: handled-h}
            - {name: g, shell: handled-g}
        """,
        fleet=fleet,
    )
    assert out.status("let") == {"web1": "changed"}
    assert out.status("ign") == {"web1": "changed"}
    assert out.results("ign")[0]["msg"].startswith("failed (ignored)")
    assert "echo True True True" in fleet.commands("web1")
    # failed_when: false made it a success: its handler runs; an ignored failure notifies none
    assert "handled-h" in fleet.commands("web1")
    assert "handled-g" not in fleet.commands("web1")
    counts = out.result.stats()["web1"]
    assert (counts.changed, counts.ignored, counts.failed) == (4, 1, 0)


def _keys(value: object) -> list[str]:
    assert isinstance(value, dict)
    return sorted(k for k in value if not k.startswith("_ansible"))


def test_registered_values_have_ansibles_keys(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          tasks:
            - {name: dbg, debug: msg=hi, register: a}
            - {name: var, debug: var=inventory_hostname, register: b}
            - {name: fact, set_fact: {x: 1}, register: c}
            - {name: failing, fail: msg=no, ignore_errors: true, register: d}
            - {name: skip, command: echo, when: false, register: e}
            - {name: loop, command: "echo {{ item }}", loop: [a], register: f}
            - {name: none, command: "echo {{ item }}", loop: [], register: g}
            - {name: ok, assert: {that: [1 == 1]}, register: h}
        """,
    )
    values = {s.task: dict(s.data) for s in out.result.steps}
    assert _keys(values["dbg"]) == ["changed", "failed", "msg"]
    assert _keys(values["var"]) == ["changed", "failed", "inventory_hostname"]
    assert _keys(values["fact"]) == ["ansible_facts", "changed", "failed"]
    assert _keys(values["failing"]) == ["changed", "exception", "failed", "msg"]
    assert _keys(values["skip"]) == ["changed", "false_condition", "skip_reason", "skipped"]
    assert values["skip"]["false_condition"] is False
    assert _keys(values["loop"]) == ["changed", "msg", "results", "skipped"]
    assert values["loop"]["msg"] == "All items completed"
    assert "invocation" in values["loop"]["results"][0]
    assert values["none"] == {
        "changed": False,
        "skipped": True,
        "skipped_reason": "No items in the list",
        "results": [],
    }
    assert values["ok"]["msg"] == "All assertions passed"


def test_undefined_is_chainable_and_its_message_names_plain_types(tmp_path: Path) -> None:
    fleet = Fleet()
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          vars: {a: {b: {}}}
          tasks:
            - shell: >-
                echo {{ a.x.y | default('d') }} {{ zz.b | default('z') }}
                {{ a.b.c is defined }} {{ a.x.y is defined }} {{ nope.x.y is undefined }}
            - {name: bad, shell: "echo {{ a.x.y }}"}
        """,
        fleet=fleet,
    )
    assert fleet.commands("web1")[0] == "echo d z False False True"
    msg = out.results("bad")[0]["msg"]
    assert "'dict object' has no attribute 'x'" in msg
    assert "YamlMap" not in msg and "fleetkit" not in msg


def test_a_name_only_an_unreached_operand_reads_is_no_pre_run_error(tmp_path: Path) -> None:
    fleet = Fleet()
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          vars: {a: 1}
          tasks:
            - {name: or, shell: "echo or", when: a == 1 or nope}
            - {name: cond, shell: "echo {{ 'x' if a == 1 else nope }}"}
        """,
        fleet=fleet,
    )
    assert fleet.commands("web1") == ["echo or", "echo x"]
    assert out.result.exit_code() == 0


HOSTS3 = ("h1", "h2", "h3")


def test_play_host_lists_follow_batches_and_failures(tmp_path: Path) -> None:
    fleet = Fleet(table({"^false": (1, "", "")}))
    run(
        tmp_path,
        """
        - hosts: all
          gather_facts: false
          serial: 2
          tasks:
            - shell: "{{ 'false' if inventory_hostname == 'h1' else 'true' }}"
            - shell: >-
                echo {{ ansible_play_batch }} {{ play_hosts }} {{ ansible_play_hosts }}
                {{ ansible_play_hosts_all }} {{ ansible_play_name }}
        """,
        fleet=fleet,
        hosts=HOSTS3,
    )
    assert fleet.commands("h2")[-1] == ("echo ['h2'] ['h2'] ['h2', 'h3'] ['h1', 'h2', 'h3'] all")
    assert fleet.commands("h3")[-1] == ("echo ['h3'] ['h3'] ['h2', 'h3'] ['h1', 'h2', 'h3'] all")


def test_run_once_notifies_its_handler_on_the_host_that_ran_it(tmp_path: Path) -> None:
    fleet = Fleet()
    run(
        tmp_path,
        """
        - hosts: all
          gather_facts: false
          tasks:
            - {shell: make, run_once: true, notify: h}
          handlers:
            - {name: h, shell: "handled {{ inventory_hostname }}"}
        """,
        fleet=fleet,
        hosts=HOSTS3,
    )
    assert fleet.commands("h1") == ["make", "handled h1"]
    assert fleet.commands("h2") == [] and fleet.commands("h3") == []


def test_hostvars_of_another_host_hold_no_play_vars(tmp_path: Path) -> None:
    fleet = Fleet()
    run(
        tmp_path,
        """
        - hosts: all
          gather_facts: false
          vars: {pv: play}
          tasks:
            - set_fact: {fv: fact}
            - shell: "echo {{ hostvars['h2'].pv | default('none') }} {{ hostvars['h2'].fv }}"
              when: inventory_hostname == 'h1'
        """,
        fleet=fleet,
        hosts=HOSTS3,
    )
    assert fleet.commands("h1") == ["echo none fact"]


def test_a_task_reading_the_play_hosts_waits_for_the_others(tmp_path: Path) -> None:
    fleet = Fleet(table({"^false": (1, "", "")}), delays={"h2": 0.2})
    run(
        tmp_path,
        """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: "{{ 'false' if inventory_hostname == 'h2' else 'true' }}"
            - shell: "echo {{ ansible_play_hosts }}"
        """,
        fleet=fleet,
        hosts=HOSTS3,
    )
    # h1 does not run ahead of slow h2's failure: it sees h2 gone, as under Ansible
    assert fleet.commands("h1")[-1] == "echo ['h1', 'h3']"


def test_a_condition_that_is_not_boolean_fails_the_task(tmp_path: Path) -> None:
    fleet = Fleet()
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          vars: {s: some text, items: [a], flag: "False"}
          tasks:
            - {name: str, shell: echo s, when: s, ignore_errors: true}
            - {name: list, shell: echo l, when: items, ignore_errors: true}
            - {name: changed, shell: echo c, changed_when: s, ignore_errors: true}
            - {name: ok, shell: echo ok, when: [items | length > 0, not flag | bool]}
            - {name: that, assert: {that: [s]}, ignore_errors: true}
        """,
        fleet=fleet,
    )
    for name in ("str", "list", "changed", "that"):
        (result,) = out.results(name)
        assert result["msg"].startswith("failed (ignored)"), name
        assert "must have a boolean result" in result["msg"], name
    assert "type 'str'" in out.results("str")[0]["msg"]
    assert "type 'list'" in out.results("list")[0]["msg"]
    assert fleet.commands("web1") == ["echo c", "echo ok"]


def test_none_prints_as_nothing_and_an_unnamed_failed_task_has_no_name(tmp_path: Path) -> None:
    fleet = Fleet(table({"^false": (1, "", "")}))
    run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          vars: {no_value: null}
          tasks:
            - block:
                - command: "false"
              rescue:
                - shell: >-
                    echo [{{ ansible_failed_task.name }}] [{{ no_value }}] {{ no_value is none }}
            - block:
                - {name: named, command: "false"}
              rescue:
                - shell: "echo [{{ ansible_failed_task.name }}]"
        """,
        fleet=fleet,
    )
    assert fleet.commands("web1") == ["false", "echo [] [] True", "false", "echo [named]"]
