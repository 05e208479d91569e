"""Galaxy roles and collections on disk in playbooks: FQCN roles, `collections:`, role names."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, run, write

from fleetkit.errors import PlaybookError
from fleetkit.modules.ansible_fallback.resolve import resolve
from fleetkit.playbook.load import load_playbook
from fleetkit.testing.fake_connection import table

pytestmark = pytest.mark.unit

MODULE = "from ansible.module_utils.basic import AnsibleModule\nAnsibleModule({}).exit_json()\n"


def _collection(root: Path) -> Path:
    coll = root / "ansible_collections" / "acme" / "tools"
    write(coll / "plugins" / "modules" / "greeting.py", MODULE)
    write(
        coll / "roles" / "site" / "tasks" / "main.yml",
        "- greeting:\n- include_role: {name: helper}\n",
    )
    write(coll / "roles" / "site" / "meta" / "main.yml", "dependencies: [base]\n")
    write(coll / "roles" / "base" / "tasks" / "main.yml", "- name: base\n  shell: echo base\n")
    write(coll / "roles" / "helper" / "tasks" / "main.yml", "- name: helper\n  shell: echo h\n")
    return coll


def _load(tmp: Path, text: str, **kw: object) -> list[tuple[str, str, str | None]]:
    book = write(tmp / "site.yml", text)
    plays = load_playbook(book, collections_path=[tmp / "colls"], **kw).plays  # type: ignore[arg-type]

    def walk(tasks):  # type: ignore[no-untyped-def]
        for t in tasks:
            yield t
            if t.include and t.include.tasks:
                yield from walk(t.include.tasks)

    return [
        (t.module, t.role.fqcn if t.role else "", t.role.collection if t.role else None)
        for p in plays
        for t in walk(p.tasks)
    ]


def test_a_collections_role_by_fqcn_uses_its_own_collections_modules_and_roles(
    tmp_path: Path,
) -> None:
    _collection(tmp_path / "colls")
    got = _load(tmp_path, "- hosts: all\n  roles: [acme.tools.site]\n")
    assert got == [
        ("shell", "acme.tools.base", "acme.tools"),  # a short dependency name
        ("acme.tools.greeting", "acme.tools.site", "acme.tools"),  # a short module name
        ("include_role", "acme.tools.site", "acme.tools"),
        ("shell", "acme.tools.helper", "acme.tools"),  # a short include_role name
    ]


def test_the_plays_collections_keyword_finds_short_module_and_role_names(tmp_path: Path) -> None:
    _collection(tmp_path / "colls")
    write(tmp_path / "roles" / "mine" / "tasks" / "main.yml", "- name: m\n  shell: echo m\n")
    got = _load(
        tmp_path,
        """
        - hosts: all
          collections: [acme.tools]
          roles: [helper, mine]
          tasks:
            - greeting:
            - shell: echo x
        """,
    )
    assert got == [
        ("shell", "acme.tools.helper", "acme.tools"),
        ("shell", "mine", None),
        ("acme.tools.greeting", "", None),
        ("shell", "", None),
    ]


def test_a_plain_role_does_not_see_the_plays_collections(tmp_path: Path) -> None:
    _collection(tmp_path / "colls")
    write(tmp_path / "roles" / "mine" / "tasks" / "main.yml", "- greeting:\n")
    with pytest.raises(PlaybookError, match="unknown task keyword or module 'greeting'"):
        _load(tmp_path, "- hosts: all\n  collections: [acme.tools]\n  roles: [mine]\n")


def test_a_plain_roles_meta_collections_are_searched(tmp_path: Path) -> None:
    _collection(tmp_path / "colls")
    write(tmp_path / "roles" / "mine" / "meta" / "main.yml", "collections: [acme.tools]\n")
    write(tmp_path / "roles" / "mine" / "tasks" / "main.yml", "- greeting:\n")
    assert _load(tmp_path, "- hosts: all\n  roles: [mine]\n") == [
        ("acme.tools.greeting", "mine", None)
    ]


def test_the_playbooks_collections_folder_is_searched_without_any_path(tmp_path: Path) -> None:
    _collection(tmp_path / "collections")
    book = write(tmp_path / "site.yml", "- hosts: all\n  tasks:\n    - acme.tools.greeting:\n")
    task = load_playbook(book, collections_path=[]).plays[0].tasks[0]
    assert task.module == "acme.tools.greeting"
    found = resolve("acme.tools.greeting", tuple(str(r) for r in [tmp_path / "collections"]))
    assert found is not None and found.runnable
    assert found.path == str(
        tmp_path / "collections/ansible_collections/acme/tools/plugins/modules/greeting.py"
    )


def test_role_names_of_a_collection_role_and_of_a_dotted_galaxy_role(tmp_path: Path) -> None:
    _collection(tmp_path / "colls")
    write(
        tmp_path / "colls/ansible_collections/acme/tools/roles/site/tasks/main.yml",
        "- shell: echo {{ role_name }} {{ ansible_role_name }} {{ ansible_collection_name }}\n",
    )
    galaxy = tmp_path / "galaxy_roles"
    write(
        galaxy / "acme.web" / "tasks" / "main.yml",
        "- shell: echo {{ role_name }} {{ ansible_role_name }} [{{ ansible_collection_name }}]\n",
    )
    fleet = Fleet(table({"echo": (0, "", "")}))
    run(
        tmp_path,
        "- hosts: all\n  roles: [acme.tools.site, acme.web]\n",
        fleet=fleet,
        hosts=("h",),
        defaults=_defaults(roles_path=(galaxy,), collections_path=(tmp_path / "colls",)),
    )
    assert fleet.commands("h") == [
        "echo base",
        "echo site acme.tools.site acme.tools",
        "echo acme.web acme.web []",
    ]


def _defaults(**kw: object) -> object:
    from fleetkit.config.defaults import ConfigDefaults

    return ConfigDefaults(**kw)  # type: ignore[arg-type]


def test_a_dependency_is_found_beside_the_role_that_needs_it(tmp_path: Path) -> None:
    vendor = tmp_path / "elsewhere"
    write(vendor / "top" / "meta" / "main.yml", "dependencies: [sibling]\n")
    write(vendor / "top" / "tasks" / "main.yml", "- name: top\n  shell: echo top\n")
    write(vendor / "sibling" / "tasks" / "main.yml", "- name: sib\n  shell: echo sib\n")
    book = write(tmp_path / "site.yml", "- hosts: all\n  roles: [elsewhere/top]\n")
    assert [t.name for t in load_playbook(book).plays[0].tasks] == ["sib", "top"]


def test_a_role_included_earlier_still_runs_from_roles(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "a" / "tasks" / "main.yml", "- include_role: {name: b}\n")
    write(tmp_path / "roles" / "b" / "tasks" / "main.yml", "- name: b\n  shell: echo b\n")
    book = write(tmp_path / "site.yml", "- hosts: all\n  roles: [a, b]\n")
    assert [t.name for t in load_playbook(book).plays[0].tasks] == ["include_role: b", "b"]


def test_missing_collection_roles_say_what_is_missing(tmp_path: Path) -> None:
    _collection(tmp_path / "colls")
    for name, text in (
        ("nobody.there.role", "collection nobody.there is not installed"),
        ("acme.tools.sitee", "collection acme.tools has no role 'sitee'"),
    ):
        with pytest.raises(PlaybookError, match=text) as info:
            _load(tmp_path, f"- hosts: all\n  roles: [{name}]\n")
        if name.startswith("acme"):
            assert "did you mean 'acme.tools.site'" in info.value.message
    with pytest.raises(PlaybookError, match=r"not in the play's collections acme\.tools"):
        _load(tmp_path, "- hosts: all\n  collections: [acme.tools]\n  roles: [nothere]\n")


def test_a_galaxy_name_is_never_shortened_to_its_last_part(tmp_path: Path) -> None:
    write(tmp_path / "roles" / "docker" / "tasks" / "main.yml", "- shell: echo\n")
    with pytest.raises(PlaybookError, match=r"role 'geerlingguy\.docker' not found"):
        _load(tmp_path, "- hosts: all\n  roles: [geerlingguy.docker]\n")
