"""A role's meta/argument_specs.yml: the validation task Ansible puts first, and its run."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, run, write

from fleetkit.errors import PlaybookError
from fleetkit.playbook.load import load_playbook
from fleetkit.testing.fake_connection import table

pytestmark = pytest.mark.unit

SPECS = """
argument_specs:
  main:
    short_description: Main entry
    options:
      site: {type: str, required: true}
      http_port: {type: int, default: 80}
  setup:
    options:
      version: {type: str, required: true}
"""


def _role(tmp: Path, name: str = "web", specs: str = SPECS) -> Path:
    role = tmp / "roles" / name
    write(role / "meta" / "argument_specs.yml", specs)
    write(role / "tasks" / "main.yml", "- name: main\n  shell: echo {{ site }}\n")
    write(role / "tasks" / "setup.yml", "- name: setup\n  shell: echo setup\n")
    return role


def test_the_roles_first_task_validates_its_params_tagged_always(tmp_path: Path) -> None:
    role = _role(tmp_path)
    book = write(
        tmp_path / "site.yml",
        "- hosts: all\n  roles:\n    - role: web\n      site: one\n      tags: [t]\n",
    )
    first, second = load_playbook(book).plays[0].tasks
    assert first.module == "validate_argument_spec"
    assert first.name == "Validating arguments against arg spec 'main' - Main entry"
    assert first.tags == {"always", "t"}
    assert first.args["provided_arguments"] == {"site": "one"}
    assert first.args["argument_spec"]["http_port"] == {"type": "int", "default": 80}
    assert first.args["validate_args_context"] == {
        "type": "role",
        "name": "web",
        "argument_spec_name": "main",
        "path": str(role.resolve()),
    }
    assert first.pos.path == role.resolve() / "meta" / "argument_specs.yml"
    assert second.name == "main"


def test_each_entry_point_has_its_own_spec_and_rolespec_validate_turns_it_off(
    tmp_path: Path,
) -> None:
    _role(tmp_path)
    book = write(
        tmp_path / "site.yml",
        """
        - hosts: all
          tasks:
            - import_role: {name: web, tasks_from: setup}
            - import_role: {name: web, tasks_from: setup.yml}
            - import_role: {name: web, rolespec_validate: false}
        """,
    )
    tasks = load_playbook(book).plays[0].tasks
    assert [t.name for t in tasks] == [
        "Validating arguments against arg spec 'setup'",
        "setup",
        "setup",  # Ansible looks up the entry point as written: 'setup.yml' has no spec
        "main",
    ]


def test_a_dependency_is_validated_with_its_params_before_its_tasks(tmp_path: Path) -> None:
    _role(tmp_path, "base")
    write(
        tmp_path / "roles" / "top" / "meta" / "main.yml",
        "dependencies:\n  - {role: base, site: s}\n",
    )
    write(tmp_path / "roles" / "top" / "tasks" / "main.yml", "- name: top\n  shell: echo top\n")
    book = write(tmp_path / "site.yml", "- hosts: all\n  roles: [top]\n")
    tasks = load_playbook(book).plays[0].tasks
    assert [t.module for t in tasks] == ["validate_argument_spec", "shell", "shell"]
    assert tasks[0].args["provided_arguments"] == {"site": "s"}


def test_specs_in_meta_main_are_used_when_there_is_no_argument_specs_file(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "r" / "meta" / "main.yml", SPECS)
    write(tmp_path / "roles" / "r" / "tasks" / "main.yml", "- shell: echo\n")
    book = write(tmp_path / "site.yml", "- hosts: all\n  roles: [{role: r, site: x}]\n")
    assert load_playbook(book).plays[0].tasks[0].module == "validate_argument_spec"


def test_argument_specs_that_map_nothing_are_an_error_at_their_line(tmp_path: Path) -> None:
    _role(tmp_path, specs="argument_specs:\n  - main\n")
    book = write(tmp_path / "site.yml", "- hosts: all\n  roles: [web]\n")
    with pytest.raises(PlaybookError, match="role 'web': argument_specs must map") as info:
        load_playbook(book)
    assert info.value.position is not None and info.value.position.line == 2


def test_a_failed_validation_fails_the_host_naming_the_role_and_the_argument(
    tmp_path: Path,
) -> None:
    _role(tmp_path)
    fleet = Fleet(table({"echo": (0, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          roles:
            - role: web
              site: "{{ inventory_hostname }}"
              http_port: "{{ 'eighty' if inventory_hostname == 'web2' else 8080 }}"
        """,
        fleet=fleet,
    )
    assert out.status("Validating arguments against arg spec 'main' - Main entry") == {
        "web1": "ok",
        "web2": "failed",
    }
    failed = next(e for e in out.results() if e["status"] == "failed")
    assert failed["msg"].startswith(
        "role 'web', argument spec 'main': Validation of arguments failed:\n"
        "argument 'http_port' is of type str"
    )
    assert fleet.commands("web1") == ["echo web1"]
    assert fleet.commands("web2") == []


def test_the_specs_defaults_do_not_become_variables(tmp_path: Path) -> None:
    _role(tmp_path)
    write(
        tmp_path / "roles" / "web" / "tasks" / "main.yml",
        "- shell: echo {{ http_port | default('none') }}\n",
    )
    fleet = Fleet(table({"echo": (0, "", "")}))
    run(tmp_path, "- hosts: all\n  roles: [{role: web, site: s}]\n", fleet=fleet, hosts=("h",))
    assert fleet.commands("h") == ["echo none"]
