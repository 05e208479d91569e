"""include_tasks/include_role arguments as ansible-core 2.19 reads them: `args:` under the
action's own mapping, apply: given to the included tasks only, and the keywords an include
refuses (TaskInclude's VALID_INCLUDE_KEYWORDS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, run, write

from fleetkit.errors import PlaybookError
from fleetkit.playbook.load import load_playbook
from fleetkit.testing.fake_connection import table

pytestmark = pytest.mark.unit

ECHO = table({"echo": (0, "", ""), "false": (1, "", "boom\n")})


def _error(tmp: Path, tasks: str) -> PlaybookError:
    body = "\n".join("    " + line for line in tasks.strip("\n").splitlines())
    path = write(tmp / "site.yml", f"- hosts: all\n  tasks:\n{body}\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    return info.value


def test_apply_under_args_reaches_the_included_tasks(tmp_path: Path) -> None:
    write(tmp_path / "sub.yml", "- shell: echo {{ x }}\n- command: 'false'\n- shell: echo after\n")
    fleet = Fleet(ECHO)
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - include_tasks: sub.yml
              args:
                apply: {vars: {x: applied}, ignore_errors: true, tags: [t]}
              tags: [t]
        """,
        fleet=fleet,
        hosts=("web1",),
        tags=frozenset({"t"}),
    )
    assert fleet.commands("web1") == ["echo applied", "false", "echo after"]
    assert out.result.counts()["web1"]["ignored"] == 1


def test_the_actions_own_apply_wins_over_args(tmp_path: Path) -> None:
    write(tmp_path / "sub.yml", "- shell: echo {{ x }}\n")
    fleet = Fleet(ECHO)
    run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - include_tasks: {file: sub.yml, apply: {vars: {x: inline}}}
              args: {apply: {vars: {x: args}}}
        """,
        fleet=fleet,
        hosts=("web1",),
    )
    assert fleet.commands("web1") == ["echo inline"]


def test_include_role_takes_apply_from_args_and_role_as_a_name_alias(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "r" / "tasks" / "main.yml", "- command: 'false'\n- shell: echo r\n")
    fleet = Fleet(ECHO)
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - include_role: {role: r}
              args: {apply: {ignore_errors: true}}
        """,
        fleet=fleet,
        hosts=("web1",),
    )
    assert fleet.commands("web1") == ["false", "echo r"]
    assert out.result.exit_code() == 0


def test_apply_as_a_task_keyword_is_refused_as_ansible_does(tmp_path: Path) -> None:
    err = _error(tmp_path, "- include_tasks: sub.yml\n  apply: {tags: [a]}\n")
    assert "apply: is an argument of include_tasks" in err.message
    assert err.position is not None and err.position.line == 4


@pytest.mark.parametrize("keyword", ["become: true", "delegate_to: x", "notify: h", "diff: true"])
def test_keywords_ansible_refuses_on_an_include_are_refused(tmp_path: Path, keyword: str) -> None:
    write(tmp_path / "sub.yml", "- shell: echo\n")
    err = _error(tmp_path, f"- include_tasks: sub.yml\n  {keyword}\n")
    name = keyword.split(":", maxsplit=1)[0]
    assert f"'{name}' is not a valid keyword for include_tasks" in err.message
    assert err.hint is not None and "apply:" in err.hint


def test_include_role_refuses_them_too_and_import_role_refuses_apply(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "r" / "tasks" / "main.yml", "- shell: echo\n")
    err = _error(tmp_path, "- include_role: {name: r}\n  become: true\n")
    assert "'become' is not a valid keyword for include_role" in err.message
    err = _error(tmp_path, "- import_role: {name: r, apply: {tags: [a]}}\n")
    assert "apply is only valid for include_role" in err.message


def test_unknown_include_arguments_and_a_non_mapping_apply(tmp_path: Path) -> None:
    write(tmp_path / "sub.yml", "- shell: echo\n")
    err = _error(tmp_path, "- include_tasks: {file: sub.yml, fiel: x}\n")
    assert "invalid options for include_tasks: fiel" in err.message
    err = _error(tmp_path, "- include_tasks: {file: sub.yml, apply: [tags]}\n")
    assert "apply must be a mapping of keywords, got a list" in err.message
    err = _error(tmp_path, "- include_tasks: {file: sub.yml, apply: {tagz: [a]}}\n")
    assert "unknown keyword 'tagz'" in err.message
