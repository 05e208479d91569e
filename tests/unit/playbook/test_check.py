"""Before any host is touched: undefined names, template syntax and notify targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import write

from fleetkit.errors import FleetkitError, PlaybookError, TemplateError
from fleetkit.playbook.check import check_playbook
from fleetkit.playbook.load import load_playbook
from fleetkit.playbook.render import Renderer

pytestmark = pytest.mark.unit


def check(tmp_path: Path, text: str, known: set[str] | None = None) -> None:
    path = write(tmp_path / "site.yml", text)
    check_playbook(load_playbook(path), Renderer((tmp_path / "templates",)), known or set())


def error(tmp_path: Path, text: str, known: set[str] | None = None) -> FleetkitError:
    with pytest.raises((TemplateError, PlaybookError)) as info:
        check(tmp_path, text, known)
    return info.value


def test_an_undefined_variable_is_reported_with_file_line_play_and_task(tmp_path: Path) -> None:
    err = error(
        tmp_path,
        """
        - name: web
          hosts: all
          vars: {port: 80}
          tasks:
            - name: show
              debug: {msg: "{{ prot }}"}
        """,
    )
    assert str(err) == (
        f"{tmp_path}/site.yml:5: play 'web', task 'show': undefined variable 'prot'"
        " (did you mean 'port'?)"
    )


def test_known_names_pass(tmp_path: Path) -> None:
    check(
        tmp_path,
        """
        - hosts: all
          vars: {a: 1, b: "{{ a }}"}
          tasks:
            - shell: echo {{ b }} {{ inv_var }} {{ inventory_hostname }} {{ facts.os.id }}
              register: out
            - debug: {msg: "{{ out.stdout }} {{ later }}"}
            - set_fact: {later: 2}
            - debug: {msg: "{{ item }}"}
              loop: "{{ groups['all'] }}"
            - debug: {msg: "{{ x | default(1) }}"}
              when: y is defined and y
        """,
        known={"inv_var"},
    )


def test_conditions_are_checked_too(tmp_path: Path) -> None:
    err = error(tmp_path, "- hosts: all\n  tasks:\n    - shell: x\n      when: enable_it\n")
    assert "undefined variable 'enable_it'" in err.message


def test_a_template_syntax_error_is_positioned(tmp_path: Path) -> None:
    err = error(tmp_path, "- hosts: all\n  tasks:\n    - debug: {msg: '{{ a + }}'}\n")
    assert err.position is not None and err.position.line == 3
    assert "syntax error" in err.message


def test_template_files_are_parsed_and_their_names_checked(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "app.j2", "listen {{ listen_port }}\n")
    err = error(tmp_path, "- hosts: all\n  tasks:\n    - template: {src: app.j2, dest: /etc/app}\n")
    assert "app.j2 uses undefined variable 'listen_port'" in err.message
    write(tmp_path / "templates" / "bad.j2", "{% if %}\n")
    err = error(tmp_path, "- hosts: all\n  tasks:\n    - template: {src: bad.j2, dest: /etc/app}\n")
    assert "bad.j2:1" in err.message


def test_a_template_file_may_read_ansible_managed_unset(tmp_path: Path) -> None:
    # the template module defines it for its file, as Ansible does; elsewhere it is undefined
    write(tmp_path / "templates" / "sudoers.j2", "# {{ ansible_managed }}\n")
    check(tmp_path, "- hosts: all\n  tasks:\n    - template: {src: sudoers.j2, dest: /etc/x}\n")
    err = error(tmp_path, "- hosts: all\n  tasks:\n    - debug: {msg: '{{ ansible_managed }}'}\n")
    assert "undefined variable 'ansible_managed'" in err.message


def test_a_missing_template_is_reported_before_the_run(tmp_path: Path) -> None:
    err = error(tmp_path, "- hosts: all\n  tasks:\n    - template: {src: nope.j2, dest: /x}\n")
    assert "template nope.j2 not found" in err.message


def test_notify_must_name_a_handler(tmp_path: Path) -> None:
    err = error(
        tmp_path,
        """
        - hosts: all
          tasks:
            - shell: x
              notify: restart ngnix
          handlers:
            - name: restart nginx
              shell: y
        """,
    )
    assert (
        "notify 'restart ngnix' names no handler of this play (did you mean 'restart nginx'?)"
        in err.message
    )


def test_play_vars_using_undefined_names_are_errors(tmp_path: Path) -> None:
    err = error(tmp_path, "- hosts: all\n  vars: {url: 'http://{{ hots }}'}\n  tasks: []\n")
    assert "variable 'url' uses undefined variable 'hots'" in err.message
