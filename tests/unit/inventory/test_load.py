"""What -i accepts: files and directories, format detection, group_vars/ and host_vars/."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import InventoryError
from fleetkit.inventory.load import load_inventory

from .conftest import WriteFile

pytestmark = pytest.mark.unit

YAML_INV = "all:\n  children:\n    web:\n      hosts:\n        web1:\n        web2:\n"
INI_INV = "[web]\nweb1\nweb2\n"


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("hosts.yml", YAML_INV),
        ("hosts.yaml", YAML_INV),
        ("hosts.ini", INI_INV),
        ("hosts", INI_INV),
        ("hosts", YAML_INV),
    ],
)
def test_a_directory_is_read_through_its_hosts_file(
    tmp_path: Path, write: WriteFile, filename: str, text: str
) -> None:
    write(f"inv/{filename}", text)
    inv = load_inventory(tmp_path / "inv")
    assert inv.source == tmp_path / "inv"
    assert inv.group_hosts("web") == ("web1", "web2")


@pytest.mark.parametrize(
    "text",
    [
        "---\nall:\n  hosts:\n    web1:\n",
        "# comment\n'all':\n  hosts:\n    web1:\n",
        '{"all": {"hosts": {"web1": null}}}\n',
    ],
)
def test_yaml_is_recognised_by_content_when_the_name_says_nothing(
    write: WriteFile, text: str
) -> None:
    assert list(load_inventory(write("production", text)).hosts) == ["web1"]


@pytest.mark.parametrize("text", ["web1:2222\n", "web1 ansible_host=10.0.0.1\n", "[web]\nweb1\n"])
def test_ini_is_recognised_by_content_when_the_name_says_nothing(
    write: WriteFile, text: str
) -> None:
    assert list(load_inventory(write("production", text)).hosts) == ["web1"]


def test_a_json_file_is_read_as_yaml(write: WriteFile) -> None:
    inv = load_inventory(write("inv.json", '{"web": {"hosts": {"web1": {"port": 22}}}}'))
    assert inv.hosts["web1"].vars["port"] == 22


def test_missing_inventory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="not found"):
        load_inventory(tmp_path / "nope")


def test_an_empty_directory_is_an_empty_inventory(tmp_path: Path) -> None:
    inv = load_inventory(tmp_path)
    assert dict(inv.hosts) == {} and set(inv.groups) == {"all", "ungrouped"}


def test_every_file_of_a_directory_is_a_source_in_sorted_order(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.yml", YAML_INV)
    write("hosts.ini", INI_INV)
    write("prod", "[prod]\np1\n")
    for ignored in ("notes.md", "old.retry", "setup.cfg", "backup~", "x.orig", ".hidden"):
        write(ignored, "[ignored]\ni1\n")
    inv = load_inventory(tmp_path)
    assert "ignored" not in inv.groups and "i1" not in inv.hosts
    assert "p1" in inv.hosts
    assert set(load_inventory(tmp_path / "hosts.ini").hosts) < set(inv.hosts)
    assert set(load_inventory(tmp_path / "hosts.yml").hosts) < set(inv.hosts)


def test_a_child_group_may_be_declared_by_an_earlier_source(
    tmp_path: Path, write: WriteFile
) -> None:
    write("a/hosts", "[a]\na1\n")
    write("b.ini", "[c:children]\na\n")
    assert load_inventory(tmp_path).group_hosts("c") == ("a1",)


def test_group_vars_and_host_vars_files_beside_the_hosts_file(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.yml", YAML_INV)
    write("group_vars/all.yml", "user: deploy\n")
    write("group_vars/web.yaml", "http_port: 8080\n")
    write("host_vars/web1.json", '{"port": 2201}')
    write("host_vars/web2", "port: 2202\n")
    inv = load_inventory(tmp_path / "hosts.yml")  # a file given directly: vars beside it
    assert dict(inv.hosts["web1"].vars) == {"user": "deploy", "http_port": 8080, "port": 2201}
    assert inv.hosts["web2"].vars["port"] == 2202
    assert dict(inv.groups["web"].vars) == {"http_port": 8080}


def test_a_vars_folder_loads_its_files_in_sorted_order(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", INI_INV)
    write("group_vars/web/10-base.yml", "a: base\nb: base\nc: base\n")
    write("group_vars/web/20-more.yaml", "b: more\n")
    write("group_vars/web/sub/x.yml", "a: sub\n")  # "sub" sorts after "20-more.yaml"
    write("group_vars/web/.hidden.yml", "c: hidden\n")
    write("group_vars/web/backup.yml~", "c: backup\n")
    write("group_vars/web/notes.txt", "c: txt\n")
    inv = load_inventory(tmp_path)
    assert dict(inv.groups["web"].vars) == {"a": "sub", "b": "more", "c": "base"}


def test_bare_name_comes_before_yml_like_ansible(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", INI_INV)
    write("group_vars/web/main.yml", "from: folder\n")
    write("group_vars/web.yml", "from: file\n")
    inv = load_inventory(tmp_path)
    assert inv.groups["web"].vars["from"] == "folder"


def test_dotted_host_names_find_their_host_vars(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nweb1.example.com\n")
    write("host_vars/web1.example.com.yml", "port: 2201\n")
    assert load_inventory(tmp_path).hosts["web1.example.com"].vars["port"] == 2201


def test_vars_files_for_unknown_names_are_ignored(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", INI_INV)
    write("group_vars/nosuchgroup.yml", "x: 1\n")
    write("host_vars/nosuchhost.yml", "x: 1\n")
    write("group_vars/web.yml", "")  # empty file: no vars
    inv = load_inventory(tmp_path)
    assert all("x" not in h.vars for h in inv.hosts.values())


def test_bad_yaml_in_group_vars_names_file_line_and_column(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", INI_INV)
    bad = write("group_vars/web.yml", "ok: 1\nbroken: [1, 2\n")
    with pytest.raises(InventoryError, match="invalid YAML") as err:
        load_inventory(tmp_path)
    assert err.value.position is not None and Path(err.value.position.path) == bad
    assert err.value.position.line == 3


def test_vars_file_that_is_not_a_mapping_is_an_error(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", INI_INV)
    write("host_vars/web1.yml", "- a\n- b\n")
    with pytest.raises(InventoryError, match="mapping of variables") as err:
        load_inventory(tmp_path)
    assert str(err.value.position).endswith("web1.yml:1")


def test_two_hundred_and_fifty_hosts_in_ten_groups_load(write: WriteFile) -> None:
    """(Load time is measured in bench/, never asserted in a test.)"""
    lines = ["all:", "  children:"]
    for g in range(10):
        lines += [f"    g{g}:", "      hosts:"]
        lines += [f"        h{g}-{h}.example.com: {{address: 10.0.{g}.{h}}}" for h in range(25)]
    path = write("hosts.yml", "\n".join(lines) + "\n")
    inv = load_inventory(path)
    assert len(inv.hosts) == 250
    assert sorted(inv.groups["g3"].hosts)[:2] == ["h3-0.example.com", "h3-1.example.com"]
