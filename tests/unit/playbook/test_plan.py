"""Planning: serial batch sizes, tag selection, where hosts must wait for each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import write

from fleetkit.playbook.load import load_playbook
from fleetkit.playbook.plan import batches, plan_play
from fleetkit.playbook.render import Renderer

pytestmark = pytest.mark.unit

HOSTS = [f"h{i}" for i in range(10)]


@pytest.mark.parametrize(
    ("serial", "sizes"),
    [
        ((), [10]),
        ((3,), [3, 3, 3, 1]),
        (("30%",), [3, 3, 3, 1]),
        (("5%",), [1] * 10),
        ((1, 2, "50%"), [1, 2, 5, 2]),
        ((20,), [10]),
    ],
)
def test_serial_batch_sizes(serial: tuple[int | str, ...], sizes: list[int]) -> None:
    got = batches(HOSTS, serial)
    assert [len(b) for b in got] == sizes
    assert [h for b in got for h in b] == HOSTS


def plan(tmp_path: Path, text: str, **kw: object):  # type: ignore[no-untyped-def]
    play = load_playbook(write(tmp_path / "site.yml", text)).plays[0]
    return plan_play(play, HOSTS[:2], Renderer(), **kw)  # type: ignore[arg-type]


def test_hosts_run_ahead_through_independent_tasks(tmp_path: Path) -> None:
    p = plan(tmp_path, "- hosts: all\n  tasks:\n    - shell: a\n    - shell: b\n    - shell: c\n")
    assert [(s.kind, len(s.tasks)) for s in p.segments] == [("free", 3)]


def test_run_once_hostvars_and_flushes_cut_segments(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        """
        - hosts: all
          tasks:
            - shell: a
            - {shell: b, run_once: true}
            - shell: c
            - debug: {msg: "{{ hostvars['h1'].x | default(1) }}"}
            - meta: flush_handlers
            - shell: d
          handlers:
            - {name: h, shell: h}
        """,
    )
    assert [(s.kind, len(s.tasks)) for s in p.segments] == [
        ("free", 1),
        ("once", 1),
        ("free", 1),
        ("free", 1),
        ("flush", 1),
        ("free", 1),
        ("flush", 0),
    ]


def test_a_failure_budget_makes_every_task_a_step_for_all(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        "- hosts: all\n  max_fail_percentage: 10\n  tasks:\n    - shell: a\n    - shell: b\n",
    )
    assert [len(s.tasks) for s in p.segments] == [1, 1]


def test_gather_facts_auto_follows_use_of_facts(tmp_path: Path) -> None:
    assert not plan(tmp_path, "- hosts: all\n  tasks: [{shell: a}]\n").gather_facts
    assert plan(
        tmp_path, "- hosts: all\n  tasks: [{shell: 'echo {{ facts.arch }}'}]\n"
    ).gather_facts
    assert not plan(
        tmp_path, "- hosts: all\n  gather_facts: no\n  tasks: [{shell: a}]\n"
    ).gather_facts
    assert plan(tmp_path, "- hosts: all\n  gather_facts: yes\n  tasks: []\n").gather_facts


def test_play_tags_apply_to_its_tasks(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        "- hosts: all\n  tags: [base]\n  tasks:\n    - {shell: a, tags: x}\n    - shell: b\n",
        tags=frozenset({"base"}),
    )
    assert p.task_count == 2
