"""Ansible's variable precedence across inventory sources, one test per row of the
table in docs/contracts.md ("Inventory: variable precedence"), lowest row first.

Each test sets one variable in two neighbouring layers and checks the higher one
wins, as ansible-core 2.19 decides (the inventory differential checks the same
cases against ansible-inventory itself: tests/compat/inventory_cases/3x-precedence-*).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.vars import merge_extra

from .conftest import WriteFile

pytestmark = pytest.mark.unit


def v(tmp_path: Path, host: str = "h1") -> object:
    return load_inventory(tmp_path).hosts[host].vars["v"]


def test_row1_all_inventory_vars_lose_to_any_other_groups_inventory_vars(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", "[g]\nh1\n[g:vars]\nv=g\n[all:vars]\nv=all\n")
    assert v(tmp_path) == "g"


def test_row2_inventory_group_vars_order_by_depth_then_priority_then_name(
    tmp_path: Path, write: WriteFile
) -> None:
    write(
        "hosts.ini",
        "[leaf]\nh1\n[top:children]\nleaf\n[b]\nh1\n[a]\nh1\n"
        "[leaf:vars]\nv=leaf\n[top:vars]\nv=top\nw=top\n[a:vars]\nw=a\nansible_group_priority=9\n"
        "[b:vars]\nw=b\n",
    )
    inv = load_inventory(tmp_path)
    assert inv.hosts["h1"].vars["v"] == "leaf"  # deeper beats shallower
    assert inv.hosts["h1"].vars["w"] == "a"  # same depth (top, a, b): priority 9 wins


def test_row3_group_vars_all_beats_every_inventory_group_var(
    tmp_path: Path, write: WriteFile
) -> None:
    """The issue's case: [web:vars] http_port=8080 loses to group_vars/all.yml: 80."""
    write("hosts.ini", "[web]\nh1\n[prod:children]\nweb\n[web:vars]\nv=8080\n")
    write("group_vars/all.yml", "v: 80\n")
    assert v(tmp_path) == 80


def test_row4_group_vars_of_a_group_beat_group_vars_all(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nh1\n")
    write("group_vars/all.yml", "v: all\n")
    write("group_vars/web.yml", "v: web\n")
    assert v(tmp_path) == "web"


def test_row5_group_vars_files_order_by_depth_and_inventory_priority_only(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", "[a]\nh1\n[b]\nh1\n[b:vars]\nansible_group_priority=5\n")
    write("group_vars/a.yml", "v: a\nansible_group_priority: 20\n")  # not a priority here
    write("group_vars/b.yml", "v: b\n")
    inv = load_inventory(tmp_path)
    assert inv.hosts["h1"].vars["v"] == "b"
    assert inv.hosts["h1"].vars["ansible_group_priority"] == 20  # a plain variable
    assert (inv.groups["a"].priority, inv.groups["b"].priority) == (1, 5)


def test_row6_inventory_host_vars_beat_group_vars_files(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nh1 v=host\n")
    write("group_vars/web.yml", "v: group-file\n")
    assert v(tmp_path) == "host"


def test_row7_host_vars_files_beat_inventory_host_vars(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nh1 v=inline\n")
    write("host_vars/h1.yml", "v: file\n")
    assert v(tmp_path) == "file"


def test_row8_group_vars_all_of_any_source_loses_to_group_vars_of_a_group(
    tmp_path: Path, write: WriteFile
) -> None:
    write("one/hosts", "[web]\nh1\n")
    write("one/group_vars/web.yml", "v: one\nw: one\n")
    write("two/hosts", "[web]\nh2\n")
    write("two/group_vars/all.yml", "v: two-all\n")
    write("two/group_vars/web.yml", "w: two\n")
    inv = load_inventory([tmp_path / "one", tmp_path / "two"])
    # group_vars/all of every source first, then the groups' files source by source
    assert inv.hosts["h1"].vars["v"] == "one"
    assert inv.hosts["h1"].vars["w"] == "two"


def test_row_last_extra_vars_beat_every_inventory_layer(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nh1 v=host\n")
    write("host_vars/h1.yml", "v: file\n")
    assert merge_extra(load_inventory(tmp_path).hosts["h1"].vars, {"v": "extra"})["v"] == "extra"
