"""first_found lookup and with_first_found loops (issue 17), as ansible-core 2.19 searches.

The differential cases tests/compat/playbooks/113-115 check the same against
ansible-playbook; these pin the rules one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import run, write

from fleetkit.errors import TemplateError
from fleetkit.playbook.first_found import first_found, loop_subdir

pytestmark = pytest.mark.unit


def files(root: Path, *names: str) -> None:
    for name in names:
        write(root / name, "x\n")


def found(root: Path, terms: list[object], subdir: str | None = None, **opts: object) -> list[str]:
    return [
        str(Path(p).relative_to(root))
        for p in first_found(terms, {"playbook_dir": str(root)}, opts, subdir)
    ]


def test_the_first_name_that_exists_wins_as_an_absolute_path(tmp_path: Path) -> None:
    files(tmp_path, "b.yml", "c.yml")
    result = first_found(["a.yml", "b.yml", "c.yml"], {"playbook_dir": str(tmp_path)}, {})
    assert result == [str(tmp_path / "b.yml")]


def test_paths_prefix_every_name_and_a_folder_counts_as_found(tmp_path: Path) -> None:
    files(tmp_path, "vars/b.yml", "conf.d/x")
    assert found(tmp_path, ["a.yml", "b.yml"], paths=["files", "vars"]) == ["vars/b.yml"]
    assert found(tmp_path, ["conf.d"]) == ["conf.d"]


def test_strings_are_split_as_ansible_splits_them(tmp_path: Path) -> None:
    files(tmp_path, "two/b.yml")
    assert found(tmp_path, ["a.yml,b.yml"], paths=["one:two"]) == ["two/b.yml"]


def test_a_mapping_term_replaces_the_keyword_options_for_later_terms(tmp_path: Path) -> None:
    files(tmp_path, "m/x.yml", "k/y.yml", "m/y.yml")
    # the mapping's paths (m) now apply to 'y.yml' as well, as under Ansible
    assert found(tmp_path, [{"files": ["none"], "paths": ["m"]}, "y.yml"], paths=["k"]) == [
        "m/y.yml"
    ]
    assert found(tmp_path, ["y.yml"], paths=["k"]) == ["k/y.yml"]


def test_nested_lists_are_searched_in_order(tmp_path: Path) -> None:
    files(tmp_path, "c.yml")
    assert found(tmp_path, [["a.yml", ["b.yml"]], "c.yml"]) == ["c.yml"]


def test_nothing_found_is_an_error_unless_skip(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="No file was found when using first_found"):
        found(tmp_path, ["a.yml"])
    assert found(tmp_path, ["a.yml"], skip=True) == []
    assert found(tmp_path, [{"files": ["a.yml"], "skip": "yes"}]) == []


def test_an_unknown_option_or_a_bad_term_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="unknown option 'path'"):
        found(tmp_path, [{"files": ["a"], "path": ["x"]}])
    with pytest.raises(TemplateError, match="not int"):
        found(tmp_path, [5])


def test_no_terms_use_the_files_option(tmp_path: Path) -> None:
    files(tmp_path, "b.yml")
    assert found(tmp_path, [], files=["a.yml", "b.yml"]) == ["b.yml"]


def test_the_loop_searches_the_folder_its_module_implies_first(tmp_path: Path) -> None:
    assert [loop_subdir(m) for m in ("template", "include_vars", "copy", "debug")] == [
        "templates",
        "vars",
        "files",
        "files",
    ]
    files(tmp_path, "vars/a.yml", "a.yml")
    assert found(tmp_path, ["a.yml"], subdir="vars") == ["vars/a.yml"]
    assert found(tmp_path, ["a.yml"]) == ["a.yml"]  # lookup(): no subfolder


def test_a_role_is_searched_before_the_playbook(tmp_path: Path) -> None:
    role = tmp_path / "roles/r"
    files(tmp_path, "vars/a.yml", "roles/r/tasks/a.yml", "b.yml", "roles/r/vars/c.yml")
    variables = {"playbook_dir": str(tmp_path), "role_path": str(role)}
    assert first_found(["a.yml"], variables, {}, "vars") == [str(role / "tasks/a.yml")]
    assert first_found(["b.yml"], variables, {}, "vars") == [str(tmp_path / "b.yml")]
    assert first_found(["c.yml"], variables, {}, "vars") == [str(role / "vars/c.yml")]


def test_an_absolute_name_is_checked_as_it_is(tmp_path: Path) -> None:
    files(tmp_path, "abs.yml")
    assert first_found([str(tmp_path / "abs.yml")], {}, {}) == [str(tmp_path / "abs.yml")]


def test_include_vars_with_first_found_reads_the_os_specific_file(tmp_path: Path) -> None:
    write(tmp_path / "vars/Debian.yml", "pkg: apt\n")
    write(tmp_path / "vars/default.yml", "pkg: none\n")
    out = run(
        tmp_path,
        """
        - hosts: all
          gather_facts: false
          vars: {family: Debian}
          tasks:
            - include_vars: "{{ item }}"
              with_first_found: ["{{ family }}-12.yml", "{{ family }}.yml", default.yml]
              register: inc
            - name: show
              debug:
                msg: "{{ pkg }} {{ inc.results | length }} {{ inc.results[0].item | basename }}"
            - include_vars: "{{ item }}"
              with_first_found: [{files: [nothing.yml], skip: true}]
              register: nothing
            - name: none
              debug:
                msg: "{{ nothing.skipped }} {{ nothing.results }}"
        """,
    )
    assert {r["msg"] for r in out.results("show")} == {"apt 1 Debian.yml"}
    assert {r["msg"] for r in out.results("none")} == {"True []"}


def test_a_missing_first_found_fails_the_task_not_the_run(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: look
              debug:
                msg: "{{ item }}"
              with_first_found: [a.yml, b.yml]
        """,
    )
    assert out.status("look") == {"web1": "failed", "web2": "failed"}
    assert "No file was found" in out.results("look")[0]["msg"]
