"""Loading playbooks: shape, keywords, modules and arguments checked with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import write

from fleetkit.errors import PlaybookError
from fleetkit.playbook.load import load_playbook

pytestmark = pytest.mark.unit


def load_error(tmp_path: Path, text: str) -> PlaybookError:
    path = write(tmp_path / "site.yml", text)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    return info.value


def test_a_misspelt_task_keyword_is_one_line_with_file_line_and_a_suggestion(
    tmp_path: Path,
) -> None:
    err = load_error(
        tmp_path,
        """
        - hosts: all
          tasks:
            - name: greet
              shell: echo hi
              whne: true
        """,
    )
    assert str(err) == (
        f"{tmp_path}/site.yml:5: play 'all', task 'greet': unknown task keyword or module"
        " 'whne' (did you mean 'when'?)"
    )
    assert "\n" not in str(err)


def test_an_unknown_module_suggests_the_closest(tmp_path: Path) -> None:
    err = load_error(
        tmp_path,
        """
        - name: web
          hosts: all
          tasks:
            - name: conf
              templte: {src: a.j2, dest: /etc/a}
        """,
    )
    assert err.position is not None and err.position.line == 5
    assert "unknown task keyword or module 'templte' (did you mean 'template'?)" in err.message
    assert "play 'web', task 'conf'" in err.message


def test_a_missing_required_argument_names_play_task_and_line(tmp_path: Path) -> None:
    err = load_error(
        tmp_path,
        """
        - name: web
          hosts: all
          tasks:
            - name: conf
              copy:
                content: x
        """,
    )
    assert str(err).startswith(f"{tmp_path}/site.yml:5: play 'web', task 'conf':")
    assert "missing required argument 'dest'" in err.message


def test_a_misspelt_play_keyword_is_named(tmp_path: Path) -> None:
    err = load_error(tmp_path, "- hosts: all\n  taks: []\n")
    assert err.position is not None and err.position.line == 2
    assert err.message == "unknown play keyword 'taks' (did you mean 'tasks'?)"


def test_invalid_yaml_has_a_position(tmp_path: Path) -> None:
    err = load_error(tmp_path, "- hosts: all\n  tasks:\n    - shell: [unclosed\n")
    assert err.position is not None and err.position.line is not None
    assert "invalid YAML" in err.message


def test_two_modules_in_one_task_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, "- hosts: all\n  tasks:\n    - shell: a\n      command: b\n")
    assert "one module per task, got shell and command" in err.message


def test_a_task_without_a_module_is_an_error(tmp_path: Path) -> None:
    assert (
        "no module to run"
        in load_error(tmp_path, "- hosts: all\n  tasks:\n    - name: x\n").message
    )


def test_a_play_needs_hosts(tmp_path: Path) -> None:
    assert "needs hosts:" in load_error(tmp_path, "- name: p\n  tasks: []\n").message


def test_key_value_arguments_and_free_form_commands(tmp_path: Path) -> None:
    path = write(
        tmp_path / "site.yml",
        """
        - hosts: all
          tasks:
            - copy: src=a.txt dest="/etc/my app.conf" mode=0644
            - shell: make install chdir=/srv creates=/usr/local/bin/app
            - debug: msg="hello {{ name | default('you and me') }}"
            - command: uptime
              args:
                chdir: /tmp
        """,
    )
    tasks = load_playbook(path).plays[0].tasks
    assert dict(tasks[0].args) == {"src": "a.txt", "dest": "/etc/my app.conf", "mode": "0644"}
    assert dict(tasks[1].args) == {
        "cmd": "make install",
        "chdir": "/srv",
        "creates": "/usr/local/bin/app",
    }
    assert dict(tasks[2].args) == {"msg": "hello {{ name | default('you and me') }}"}
    assert dict(tasks[3].args) == {"chdir": "/tmp", "cmd": "uptime"}


def test_task_keywords_are_typed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "site.yml",
        """
        - hosts: all
          become: yes
          serial: [1, "50%"]
          max_fail_percentage: 25
          tasks:
            - name: t
              ansible.builtin.shell: echo
              when: a > 1
              loop: [1, 2]
              loop_control: {loop_var: n}
              register: out
              changed_when: false
              retries: 2
              delay: 0
              until: out.rc == 0
              tags: web, conf
              notify: restart
              no_log: true
              run_once: true
          handlers:
            - name: restart
              listen: [web restarted]
              service: name=x state=restarted
        """,
    )
    play = load_playbook(path).plays[0]
    task = play.tasks[0]
    assert play.become is True and play.serial == (1, "50%") and play.max_fail_percentage == 25
    assert task.module == "shell" and task.when == ("a > 1",) and task.loop == [1, 2]
    assert task.loop_var == "n" and task.register == "out" and task.changed_when == (False,)
    assert (task.retries, task.delay, task.until) == (2, 0.0, ("out.rc == 0",))
    assert task.tags == {"web", "conf"} and task.notify == ("restart",)
    assert task.no_log and task.run_once
    assert play.handlers[0].listen == ("web restarted",)
    assert play.handlers[0].answers("web restarted") and play.handlers[0].answers("restart")


def test_a_bad_keyword_value_is_an_error_at_its_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "- hosts: all\n  tasks:\n    - shell: a\n      retries: many\n")
    assert err.position is not None and err.position.line == 4
    assert "retries must be a whole number" in err.message


def test_import_playbook_and_vars_files_are_read_relative_to_the_file(tmp_path: Path) -> None:
    write(tmp_path / "vars" / "common.yml", "port: 8080\n")
    write(
        tmp_path / "sub" / "web.yml",
        """
        - name: web
          hosts: all
          vars_files: [../vars/common.yml]
          tasks: [{debug: {msg: "{{ port }}"}}]
        """,
    )
    path = write(
        tmp_path / "site.yml", "- import_playbook: sub/web.yml\n- hosts: db\n  tasks: []\n"
    )
    book = load_playbook(path)
    assert [p.name for p in book.plays] == ["web", "db"]
    assert dict(book.plays[0].vars_files) == {"port": 8080}


def test_import_loops_are_errors(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", "- import_playbook: b.yml\n")
    write(tmp_path / "b.yml", "- import_playbook: a.yml\n")
    with pytest.raises(PlaybookError, match=r"import_playbook loop: a\.yml -> b\.yml -> a\.yml"):
        load_playbook(tmp_path / "a.yml")


def test_a_missing_vars_file_is_named(tmp_path: Path) -> None:
    err = load_error(tmp_path, "- hosts: all\n  vars_files: [nope.yml]\n  tasks: []\n")
    assert "vars file nope.yml not found" in err.message


def test_a_missing_role_says_where_it_looked_and_a_rescue_needs_a_block(tmp_path: Path) -> None:
    (tmp_path / "roles" / "web").mkdir(parents=True)
    err = load_error(tmp_path, "- hosts: all\n  roles: [wbe]\n")
    assert "role 'wbe' not found (did you mean 'web'?)" in err.message
    assert err.position is not None and err.position.line == 2
    err = load_error(tmp_path, "- hosts: all\n  tasks:\n    - rescue: []\n")
    assert "rescue/always need a block: section" in err.message


def test_pre_and_post_tasks_run_around_tasks_with_handler_flushes(tmp_path: Path) -> None:
    path = write(
        tmp_path / "site.yml",
        """
        - hosts: all
          pre_tasks: [{debug: {msg: pre}}]
          tasks: [{debug: {msg: main}}]
          post_tasks: [{debug: {msg: post}}]
          handlers: [{name: h, debug: {msg: h}}]
        """,
    )
    names = [t.name for t in load_playbook(path).plays[0].tasks]
    assert names == ["debug: pre", "flush handlers", "debug: main", "flush handlers", "debug: post"]


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    err = load_error(tmp_path, "- hosts: all\n  tasks:\n    - shell: a\n      shell: b\n")
    assert "duplicate key 'shell'" in err.message
