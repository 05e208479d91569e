"""with_<lookup> for every lookup fleetkit has, the lookups added for issue 17 (indexed_items,
flattened, random_choice, lines, inventory_hostnames, varnames, vars), fully qualified
lookup names, and set_fact with templated keys: on a fake fleet, the commands each host
ran say what the task saw."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, inventory, run, write

from fleetkit.errors import PlaybookError, TemplateError
from fleetkit.playbook.keywords import LOOP_KEYS
from fleetkit.playbook.kv import parse_kv
from fleetkit.playbook.lookups import PLUGINS, plugin_name

pytestmark = pytest.mark.unit


def _cmds(tmp: Path, tasks: str, *, play: str = "", **kw: object) -> list[str]:
    fleet = Fleet()
    body = "\n".join("    " + line for line in tasks.strip("\n").splitlines())
    extra = "".join(f"  {line}\n" for line in play.strip("\n").splitlines())
    text = f"- hosts: web1\n  gather_facts: false\n{extra}  tasks:\n{body}\n"
    out = run(tmp, text, fleet=fleet, hosts=("web1",), **kw)  # type: ignore[arg-type]
    assert out.result.exit_code() in (0, 1)
    return fleet.commands("web1")


def test_every_lookup_is_a_with_loop() -> None:
    assert {f"with_{name}" for name in PLUGINS} <= set(LOOP_KEYS)
    assert {"with_lines", "with_indexed_items", "with_flattened", "with_varnames"} <= set(LOOP_KEYS)


def test_indexed_items_flattened_random_choice(tmp_path: Path) -> None:
    cmds = _cmds(
        tmp_path,
        """
        - shell: "i {{ item.0 }} {{ item.1 }}"
          with_indexed_items: [a, [b, c]]
        - shell: "f {{ item }}"
          with_flattened: [[1, [2, [3]]], x, [[[y]]]]
        - shell: "n {{ item }}"
          with_flattened: [1, [2, 'None', 3], 4]
        - shell: "r {{ item }}"
          with_random_choice: [only]
        """,
    )
    flat = ["f 1", "f 2", "f 3", "f x", "f y"]
    assert cmds == ["i 0 a", "i 1 b", "i 2 c", *flat, "n 1", "n 2", "n 4", "r only"]


def test_random_choice_picks_one_of_the_terms(tmp_path: Path) -> None:
    cmds = _cmds(tmp_path, '- shell: "r {{ item }}"\n  with_random_choice: [p, q, s]\n')
    assert len(cmds) == 1 and cmds[0] in ("r p", "r q", "r s")


def test_together_and_nested_flatten_one_level_as_ansibles_lookups(tmp_path: Path) -> None:
    cmds = _cmds(
        tmp_path,
        """
        - shell: "t {{ item | to_json }}"
          with_together: [[[1, 2], 3], [a, [[b]]]]
        - shell: "n {{ item | to_json }}"
          with_nested: [[1, 2], [a], [[x, y]]]
        """,
    )
    assert cmds == [
        't [1, 2, "a"]',
        't [3, ["b"]]',
        'n [1, "a", "x", "y"]',
        'n [2, "a", "x", "y"]',
    ]


def test_lines_and_pipe_run_in_the_playbook_folder_also_for_a_role(tmp_path: Path) -> None:
    write(tmp_path / "data.txt", "alpha\nbeta\n")
    write(tmp_path / "roles" / "r" / "data.txt", "the role's\n")
    write(
        tmp_path / "roles" / "r" / "tasks" / "main.yml",
        "- shell: \"l {{ item }} {{ lookup('pipe', 'head -1 data.txt') }}\"\n"
        "  with_lines: cat data.txt\n",
    )
    fleet = Fleet()
    run(tmp_path, "- hosts: web1\n  gather_facts: false\n  roles: [r]\n", fleet=fleet,
        hosts=("web1",))  # fmt: skip
    assert fleet.commands("web1") == ["l alpha alpha", "l beta alpha"]


def test_a_failing_lines_command_fails_the_task(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "- hosts: web1\n  gather_facts: false\n  tasks:\n"
        "    - shell: x {{ item }}\n      with_lines: exit 4\n",
        hosts=("web1",),
    )
    assert "lookup lines: 'exit 4' returned 4" in out.results()[0]["msg"]


def test_inventory_hostnames_matches_patterns_over_the_groups(tmp_path: Path) -> None:
    inv = inventory(
        tmp_path, ("web1", "web2", "db1"), groups={"web": ["web1", "web2"], "db": ["db1"]}
    )
    cmds = _cmds(
        tmp_path,
        """
        - shell: "a {{ item }}"
          with_inventory_hostnames: ["all:!db"]
        - shell: "b {{ item }}"
          with_inventory_hostnames: [db, nosuch]
        - shell: "c {{ item }}"
          with_inventory_hostnames: "web:&web2"
        - shell: "d {{ lookup('inventory_hostnames', 'web*') }}"
        - shell: "e {{ query('inventory_hostnames', 'nosuch') }}"
        """,
        inv=inv,
    )
    assert cmds == ["a web1", "a web2", "b db1", "c web2", "d web1,web2", "e []"]


def test_varnames_and_vars(tmp_path: Path) -> None:
    cmds = _cmds(
        tmp_path,
        """
        - shell: "n {{ item }}"
          with_varnames: ['^qz_']
        - shell: "v {{ item }}"
          with_vars: [qz_a, qz_b]
        - shell: >-
            l {{ lookup('varnames', '^qz_') }} {{ query('varnames', 'qz_a$', '^range$') }}
            {{ lookup('vars', 'nope', default='dflt') }}
            {{ lookup('ansible.builtin.vars', 'qz_a') }}
        """,
        play="vars:\n  qz_b: 2\n  qz_a: '{{ qz_b + 1 }}'\n",
    )
    assert cmds == ["n qz_b", "n qz_a", "v 3", "v 2", "l qz_b,qz_a ['qz_a'] dflt 3"]


def test_vars_of_an_undefined_name_without_default_fails(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "- hosts: web1\n  gather_facts: false\n  tasks:\n"
        "    - shell: \"{{ lookup('vars', 'nope_' ~ 'x') }}\"\n",
        hosts=("web1",),
    )
    assert "no variable named 'nope_x' was found" in out.results()[0]["msg"]


def test_fully_qualified_lookup_names() -> None:
    assert plugin_name("ansible.builtin.file") == "file"
    assert plugin_name("ansible.legacy.varnames") == "varnames"
    assert plugin_name("community.general.flattened") == "flattened"
    assert plugin_name("ansible.builtin.flattened") == "ansible.builtin.flattened"
    assert plugin_name("community.general.file") == "community.general.file"


def test_set_fact_templated_keys_in_both_forms_pass_the_pre_run_check(tmp_path: Path) -> None:
    cmds = _cmds(
        tmp_path,
        """
        - set_fact:
            "{{ prefix }}_port": 8080
            "{{ item }}_seen": "{{ item | upper }}"
          loop: [a, b]
        - set_fact: "{{ prefix }}_kv=1 plain=2"
        - shell: "{{ app_port }} {{ a_seen }} {{ b_seen }} {{ app_kv }} {{ plain }}"
        """,
        play="vars:\n  prefix: app\n",
    )
    assert cmds == ["8080 A B 1 2"]


def test_a_name_no_task_defines_is_still_refused_before_the_run(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="undefined variable 'other'"):
        _cmds(
            tmp_path,
            '- set_fact:\n    "{{ prefix }}_port": 1\n- shell: "{{ other }}"\n',
            play="vars:\n  prefix: app\n",
        )


def test_set_fact_refuses_a_key_that_is_no_variable_name_and_no_key(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: web1
          gather_facts: false
          tasks:
            - name: bad
              set_fact:
                "{{ 'bad-name' }}": 1
              ignore_errors: true
            - name: keyword
              set_fact:
                "{{ 'true' }}": 1
              ignore_errors: true
            - name: empty
              set_fact: {}
              ignore_errors: true
        """,
        hosts=("web1",),
    )
    msgs = {e["task"]: e["msg"] for e in out.results()}
    assert msgs["bad"].endswith(": Task failed: Invalid variable name 'bad-name'.")
    assert msgs["keyword"].endswith(": Task failed: Invalid variable name 'true'.")
    assert "No key/value pairs provided, at least one is required" in msgs["empty"]


def test_key_value_text_takes_templated_keys() -> None:
    assert parse_kv("{{ p }}_kv=1 b='x y' a{{ q }}b=2") == {
        "{{ p }}_kv": "1",
        "b": "x y",
        "a{{ q }}b": "2",
    }
    with pytest.raises(PlaybookError, match="expected key=value"):
        parse_kv("{{ p }}")
