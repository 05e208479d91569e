"""Ansible's variable precedence across inventory sources, one test per row of the
table in docs/contracts.md ("Inventory: variable precedence"), lowest row first.

Each test sets one variable in two neighbouring layers and checks the higher one
wins, as ansible-core 2.19 decides (the inventory differential checks the same
cases against ansible-inventory itself: tests/compat/inventory_cases/3x-precedence-*;
the playbook rows 4, 6 and 9 against ansible-playbook: tests/compat/playbooks/
108-* to 112-*). Here the inventory is in tmp_path and the playbook's folder is
tmp_path/pb.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.playbook_vars import read_playbook_vars, with_playbook_vars
from fleetkit.inventory.vars import merge_extra

from .conftest import WriteFile

pytestmark = pytest.mark.unit


def v(tmp_path: Path, host: str = "h1") -> object:
    return load_inventory(tmp_path).hosts[host].vars["v"]


def with_playbook(tmp_path: Path, inventory: Path | None = None) -> Inventory:
    """The inventory in tmp_path as a play of tmp_path/pb/site.yml sees it."""
    inv = load_inventory(inventory or tmp_path)
    return with_playbook_vars(inv, read_playbook_vars(tmp_path / "pb", inv))


def pv(tmp_path: Path, host: str = "h1", name: str = "v") -> object:
    return with_playbook(tmp_path).hosts[host].vars[name]


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


def test_row4_playbook_group_vars_all_beats_the_inventory_group_vars_all(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", "[web]\nh1\n[web:vars]\nv=web-inline\n")
    write("group_vars/all.yml", "v: inventory-all\n")
    write("pb/group_vars/all.yml", "v: playbook-all\n")
    assert pv(tmp_path) == "playbook-all"


def test_row4_playbook_group_vars_all_loses_to_the_inventory_group_vars_of_a_group(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", "[web]\nh1\n")
    write("group_vars/web.yml", "v: inventory-web\n")
    write("pb/group_vars/all.yml", "v: playbook-all\nw: playbook-all\n")
    inv = with_playbook(tmp_path)
    assert inv.hosts["h1"].vars["v"] == "inventory-web"
    assert inv.hosts["h1"].vars["w"] == "playbook-all"
    assert load_inventory(tmp_path).hosts["h1"].vars.get("w") is None  # only for a play


def test_row5_group_vars_of_a_group_beat_group_vars_all(tmp_path: Path, write: WriteFile) -> None:
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


def test_row6_playbook_group_vars_of_a_group_beat_the_inventory_ones(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", "[web]\nh1\n")
    write("group_vars/web.yml", "v: inventory-web\n")
    write("pb/group_vars/web.yml", "v: playbook-web\n")
    assert pv(tmp_path) == "playbook-web"


def test_row6_playbook_group_vars_order_by_depth_then_inventory_priority(
    tmp_path: Path, write: WriteFile
) -> None:
    write(
        "hosts.ini",
        "[leaf]\nh1\n[top:children]\nleaf\n[a]\nh1\n[a:vars]\nansible_group_priority=3\n",
    )
    write("pb/group_vars/leaf.yml", "v: leaf\n")
    write("pb/group_vars/top.yml", "v: top\nw: top\n")
    write("pb/group_vars/a.yml", "w: a\nansible_group_priority: 0\n")  # a plain variable here
    inv = with_playbook(tmp_path)
    assert inv.hosts["h1"].vars["v"] == "leaf"  # deeper beats shallower
    assert inv.hosts["h1"].vars["w"] == "a"  # same depth: the inventory's priority 3 wins


def test_row6_playbook_group_vars_of_a_shallow_group_beat_inventory_files_of_a_deep_one(
    tmp_path: Path, write: WriteFile
) -> None:
    """The layer decides before depth: row 6 (playbook, parent) beats row 5 (inventory, child)."""
    write("hosts.ini", "[leaf]\nh1\n[top:children]\nleaf\n")
    write("group_vars/leaf.yml", "v: inventory-leaf\n")
    write("pb/group_vars/top.yml", "v: playbook-top\n")
    assert pv(tmp_path) == "playbook-top"


def test_row6_playbook_group_vars_lose_to_the_inventory_host_vars(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", "[web]\nh1 v=inline\n")
    write("pb/group_vars/web.yml", "v: playbook-web\n")
    assert pv(tmp_path) == "inline"


def test_row7_inventory_host_vars_beat_group_vars_files(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nh1 v=host\n")
    write("group_vars/web.yml", "v: group-file\n")
    assert v(tmp_path) == "host"


def test_row8_host_vars_files_beat_inventory_host_vars(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nh1 v=inline\n")
    write("host_vars/h1.yml", "v: file\n")
    assert v(tmp_path) == "file"


def test_row3_row5_group_vars_all_of_any_source_loses_to_group_vars_of_a_group(
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


def test_row9_playbook_host_vars_beat_the_inventory_host_vars_files(
    tmp_path: Path, write: WriteFile
) -> None:
    write("hosts.ini", "[web]\nh1 v=inline\nh2 v=inline\n")
    write("host_vars/h1.yml", "v: inventory-host\n")
    write("pb/host_vars/h1.yml", "v: playbook-host\n")
    write("pb/group_vars/all.yml", "v: playbook-all\n")
    inv = with_playbook(tmp_path)
    assert inv.hosts["h1"].vars["v"] == "playbook-host"
    assert inv.hosts["h2"].vars["v"] == "inline"  # host vars beat every group row
    assert inv.hosts["h1"].own_vars["v"] == "inventory-host"  # --export: the inventory's


def test_row9_playbook_host_vars_lose_to_extra_vars(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "h1\n")
    write("pb/host_vars/h1.yml", "v: playbook-host\n")
    assert merge_extra(with_playbook(tmp_path).hosts["h1"].vars, {"v": "extra"})["v"] == "extra"


def test_row_last_extra_vars_beat_every_inventory_layer(tmp_path: Path, write: WriteFile) -> None:
    write("hosts.ini", "[web]\nh1 v=host\n")
    write("host_vars/h1.yml", "v: file\n")
    assert merge_extra(load_inventory(tmp_path).hosts["h1"].vars, {"v": "extra"})["v"] == "extra"


def test_every_row_in_one_inventory_from_lowest_to_highest(
    tmp_path: Path, write: WriteFile
) -> None:
    """Nine variables, variable rN set in rows 1..N: each ends with row N's value."""
    rows = {
        1: ("hosts.ini", "[all:vars]\n{}\n"),
        2: ("hosts.ini", "[web:vars]\n{}\n"),
        3: ("group_vars/all.yml", "{}\n"),
        4: ("pb/group_vars/all.yml", "{}\n"),
        5: ("group_vars/web.yml", "{}\n"),
        6: ("pb/group_vars/web.yml", "{}\n"),
        7: ("hosts.ini", "{}"),
        8: ("host_vars/h1.yml", "{}\n"),
        9: ("pb/host_vars/h1.yml", "{}\n"),
    }
    texts: dict[str, list[str]] = {}
    for row, (name, _) in rows.items():
        texts.setdefault(name, [])
        for top in range(row, 10):
            texts[name].append(f"r{top}: {row}" if name.endswith(".yml") else f"r{top}={row}")
    ini = texts.pop("hosts.ini")
    below = [line for line in ini if line.endswith("=1")]
    web = [line for line in ini if line.endswith("=2")]
    host = " ".join(line for line in ini if line.endswith("=7"))
    write(
        "hosts.ini",
        f"[web]\nh1 {host}\n[all:vars]\n"
        + "\n".join(below)
        + "\n[web:vars]\n"
        + "\n".join(web)
        + "\n",
    )
    for name, lines in texts.items():
        write(name, "\n".join(lines) + "\n")
    got = with_playbook(tmp_path).hosts["h1"].vars
    assert {f"r{n}": got[f"r{n}"] for n in rows} == {f"r{n}": n for n in rows}


def test_playbook_folders_use_the_inventory_reader_rules(tmp_path: Path, write: WriteFile) -> None:
    """Same reader as the inventory's: NAME beats NAME.yml/.yaml/.json, a folder's files merge
    in sorted order, hidden files, `~` backups and other extensions are skipped."""
    write("hosts.ini", "[web]\nh1\n")
    write("pb/group_vars/web/10-a.yml", "v: a\nw: a\n")
    write("pb/group_vars/web/20-b.yaml", "v: b\n")
    write("pb/group_vars/web/30-c.yml~", "v: backup\n")
    write("pb/group_vars/web/.hidden.yml", "v: hidden\n")
    write("pb/group_vars/web/40-d.txt", "v: text\n")
    write("pb/group_vars/web.yml", "w: not-read\n")  # the folder wins
    write("pb/host_vars/h1.json", '{"x": "json"}\n')
    write("pb/host_vars/nobody.yml", "x: for a host not in the inventory\n")
    inv = with_playbook(tmp_path)
    assert (inv.hosts["h1"].vars["v"], inv.hosts["h1"].vars["w"]) == ("b", "a")
    assert inv.hosts["h1"].vars["x"] == "json"


def test_a_bad_playbook_vars_file_is_an_input_error_naming_it(
    tmp_path: Path, write: WriteFile
) -> None:
    from fleetkit.errors import InventoryError

    write("hosts.ini", "h1\n")
    write("pb/group_vars/all.yml", "- a list\n")
    with pytest.raises(InventoryError, match="mapping of variables") as err:
        with_playbook(tmp_path)
    assert err.value.position is not None and "pb/group_vars/all.yml" in str(err.value.position)


def test_the_implicit_localhost_gets_the_playbook_group_vars_all(
    tmp_path: Path, write: WriteFile
) -> None:
    from fleetkit.inventory.select import with_implicit_localhost

    write("hosts.ini", "h1\n[all:vars]\nv=inventory\n")
    write("pb/group_vars/all.yml", "v: playbook-all\n")
    write("pb/host_vars/localhost.yml", "ansible_python_interpreter: /opt/py\n")
    inv = with_implicit_localhost(load_inventory(tmp_path), "localhost", python="/usr/bin/py")
    seen = with_playbook_vars(inv, read_playbook_vars(tmp_path / "pb", inv)).hosts["localhost"]
    assert seen.vars["v"] == "playbook-all"
    assert seen.vars["ansible_python_interpreter"] == "/opt/py"  # row 9 beats the implicit 7
    assert seen.vars["ansible_connection"] == "local"
