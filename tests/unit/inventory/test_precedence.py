"""Variable precedence within the inventory layers: all < parent < child < host, -e on top.

The rows of Ansible's precedence table across sources (group_vars files above every
inventory-file group var, ...) are pinned one test per row in test_ansible_precedence.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import InventoryError
from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.vars import merge_extra

from .conftest import LoadText, WriteFile

pytestmark = pytest.mark.unit

NESTED = """
all:
  vars: {x: all, only_all: 1}
  children:
    parent:
      vars: {x: parent, only_parent: 1}
      children:
        child:
          vars: {x: child}
          hosts:
            h1: {x: host}
            h2:
"""


def test_all_then_parent_then_child_then_host(load_text: LoadText) -> None:
    inv = load_text("hosts.yml", NESTED)
    assert inv.hosts["h1"].vars["x"] == "host"
    assert inv.hosts["h2"].vars["x"] == "child"
    assert inv.hosts["h2"].vars["only_parent"] == 1
    assert inv.hosts["h2"].vars["only_all"] == 1
    assert inv.hosts["h2"].groups == ("child", "parent")


def test_groups_at_the_same_depth_merge_alphabetically(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        """
        [beta]
        h1
        [alpha]
        h1
        [beta:vars]
        x=beta
        [alpha:vars]
        x=alpha
        """,
    )
    assert inv.hosts["h1"].vars["x"] == "beta"  # b after a: b wins, whatever the file order


def test_a_deeper_group_beats_a_shallower_one_whatever_its_name(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        """
        [zeta:children]
        aaa
        [aaa]
        h1
        [zeta:vars]
        x=zeta
        [aaa:vars]
        x=aaa
        [yyy]
        h1
        [yyy:vars]
        x=yyy
        """,
    )
    assert inv.hosts["h1"].vars["x"] == "aaa"


def test_depth_is_the_longest_path_from_all(load_text: LoadText) -> None:
    # b is declared under all and under a: it sits at depth 2 and beats c (depth 1)
    inv = load_text(
        "hosts.yml",
        """
        all:
          children:
            b:
              vars: {x: b}
              hosts: {h1: }
            c:
              vars: {x: c}
              hosts: {h1: }
            a:
              children:
                b:
        """,
    )
    assert inv.groups["all"].children == ("ungrouped", "b", "c", "a")
    assert inv.hosts["h1"].vars["x"] == "b"


def test_ansible_group_priority_reorders_groups_at_one_depth(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        "[a]\nh1\n[b]\nh1\n[a:vars]\nx=a\nansible_group_priority=10\n[b:vars]\nx=b\n",
    )
    assert inv.hosts["h1"].vars["x"] == "a"


def test_bad_group_priority_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="ansible_group_priority"):
        load_text("hosts.ini", "[a]\nh1\n[a:vars]\nansible_group_priority=high\n")


def test_later_layers_replace_dicts_whole(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.yml",
        """
        all:
          vars:
            opts: {a: 1, b: 2}
          hosts:
            h1:
              opts: {b: 3}
        """,
    )
    assert inv.hosts["h1"].vars["opts"] == {"b": 3}


def test_vars_files_rank_above_every_inventory_group_var(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.yml", NESTED)
    write("group_vars/all.yml", "x: all-file\ny: all-file\nz: all-file\n")
    write("group_vars/child.yml", "y: child-file\n")
    write("host_vars/h1.yml", "x: host-file\n")
    inv = load_inventory(tmp_path)
    # group_vars/all.yml beats the inventory's vars of every group, the child's too
    assert inv.hosts["h2"].vars["x"] == "all-file"
    assert inv.hosts["h2"].vars["z"] == "all-file"
    # group_vars/child.yml beats group_vars/all.yml
    assert inv.hosts["h2"].vars["y"] == "child-file"
    # host_vars/ beats the host's inline vars
    assert inv.hosts["h1"].vars["x"] == "host-file"


def test_inline_host_vars_beat_group_vars_files(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nweb1 http_port=9000\nweb2\n")
    write("group_vars/web.yml", "http_port: 8080\n")
    inv = load_inventory(tmp_path)
    assert inv.hosts["web1"].vars["http_port"] == 9000
    assert inv.hosts["web2"].vars["http_port"] == 8080


def test_host_port_syntax_is_host_level(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[web]\nweb1:2222\n[all:vars]\nansible_port=22\n")
    assert inv.hosts["web1"].vars["ansible_port"] == 2222


def test_extra_vars_win_over_everything() -> None:
    merged = merge_extra({"x": "host", "keep": 1}, {"x": "extra"})
    assert merged == {"x": "extra", "keep": 1}
