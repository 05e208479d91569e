"""Collections on disk: the search order, masking, roles and modules, versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import write

from fleetkit.galaxy.search import (
    CollectionSearch,
    collection_version,
    collections_path,
    is_fqcr,
    search_list,
)

pytestmark = pytest.mark.unit


def _collection(
    root: Path, name: str, *, roles: tuple[str, ...] = (), modules: tuple[str, ...] = ()
) -> Path:
    folder = root.joinpath("ansible_collections", *name.split("."))
    folder.mkdir(parents=True)
    for role in roles:
        (folder / "roles" / role / "tasks").mkdir(parents=True)
    for module in modules:
        write(folder / "plugins" / "modules" / f"{module}.py", "# module\n")
    return folder


def test_the_playbooks_collections_folder_comes_first_then_the_path_then_sys_path(
    tmp_path: Path,
) -> None:
    book = tmp_path / "book"
    _collection(book / "collections", "acme.tools")
    _collection(tmp_path / "path", "acme.tools", roles=("masked",))
    _collection(tmp_path / "path", "acme.other")
    search = CollectionSearch.for_playbook(book, [tmp_path / "path" / "ansible_collections"])
    assert search.roots[:2] == (book / "collections", tmp_path / "path")
    assert (
        search.collection_dir("acme.tools") == book / "collections/ansible_collections/acme/tools"
    )
    assert search.collection_dir("acme.other") is not None
    # the first copy of a collection is the collection: the later one's role is masked
    assert search.role("acme.tools.masked") is None
    assert dict(search.installed())["acme.tools"].is_relative_to(book)


def test_folders_without_ansible_collections_are_not_roots(tmp_path: Path) -> None:
    search = CollectionSearch.for_playbook(tmp_path, [tmp_path / "nothing"], scan_sys_path=False)
    assert search.roots == ()


def test_roles_by_fqcn_by_subfolder_and_by_the_collections_list(tmp_path: Path) -> None:
    folder = _collection(tmp_path, "acme.tools", roles=("web", "sub/deep"))
    search = CollectionSearch((tmp_path,))
    assert search.role("acme.tools.web") == ("web", folder / "roles" / "web", "acme.tools")
    assert search.role("acme.tools.sub.deep") == ("deep", folder / "roles/sub/deep", "acme.tools")
    assert search.role("web", ["ansible.legacy", "acme.tools"]) == (
        "web",
        folder / "roles" / "web",
        "acme.tools",
    )
    assert search.role("web") is None  # a short name without a collections list
    assert search.role("acme.web") is None  # a Galaxy role name, not a collection's


def test_a_short_module_name_resolves_in_the_first_listed_collection_before_builtin(
    tmp_path: Path,
) -> None:
    folder = _collection(tmp_path, "acme.tools", modules=("greeting", "copy"))
    write(
        folder / "meta" / "runtime.yml",
        "plugin_routing:\n  modules:\n    old: {redirect: acme.tools.greeting}\n",
    )
    search = CollectionSearch((tmp_path,))
    listed = search_list(["acme.tools"])
    assert listed == ("acme.tools", "ansible.legacy")
    assert search.resolve_module("greeting", listed) == "acme.tools.greeting"
    assert search.resolve_module("copy", listed) == "acme.tools.copy"  # the list wins
    assert search.resolve_module("old", listed) == "acme.tools.old"  # a routed name
    assert search.resolve_module("copy", ["ansible.builtin", "acme.tools"]) is None
    assert search.resolve_module("shell", listed) is None
    assert search.module_path("acme.tools.greeting") == folder / "plugins/modules/greeting.py"


def test_names_and_defaults() -> None:
    assert is_fqcr("acme.tools.web") and is_fqcr("acme.tools.sub.web")
    assert not is_fqcr("acme.web") and not is_fqcr("acme.class.web")  # a keyword
    assert search_list(["a.b", "ansible.builtin"]) == ("a.b", "ansible.builtin")
    assert search_list([]) == ()
    env = {"ANSIBLE_COLLECTIONS_PATH": "/x:/y"}
    assert collections_path(env) == (Path("/x"), Path("/y"))
    assert collections_path(env, [Path("/cfg")]) == (Path("/cfg"),)
    assert collections_path({}) == (
        Path("~/.ansible/collections").expanduser(),
        Path("/usr/share/ansible/collections"),
    )


def test_a_collections_version_from_its_manifest_else_its_galaxy_yml(tmp_path: Path) -> None:
    built = _collection(tmp_path, "a.built")
    write(built / "MANIFEST.json", '{"collection_info": {"version": "2.0.1"}}')
    write(built / "galaxy.yml", "version: 9.9.9\n")
    source = _collection(tmp_path, "a.source")
    write(source / "galaxy.yml", "namespace: a\nname: source\nversion: 0.3.0\n")
    broken = _collection(tmp_path, "a.broken")
    write(broken / "MANIFEST.json", "{not json")
    assert collection_version(built) == "2.0.1"
    assert collection_version(source) == "0.3.0"
    assert collection_version(broken) is None
