"""What `fleetkit inventory` prints: --list JSON, --graph text, --host vars."""

from __future__ import annotations

import json

import pytest

from fleetkit.errors import PatternError
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.render import host_vars_json, to_graph, to_list_json
from fleetkit.inventory.select import select_hosts

from .conftest import LoadText

pytestmark = pytest.mark.unit

FLEET = """
all:
  vars:
    user: deploy
  hosts:
    solo:
  children:
    web:
      vars:
        http_port: 8080
      hosts:
        web2:
        web1:
          opts: {a: 1}
      children:
        canary:
          hosts:
            web3:
    db:
      hosts:
        db1:
"""


@pytest.fixture
def inv(load_text: LoadText) -> Inventory:
    return load_text("hosts.yml", FLEET)


def test_list_has_ansible_inventorys_shape(inv: Inventory) -> None:
    """What ansible-inventory 2.19 --list prints for FLEET (group vars only with --export)."""
    data = to_list_json(inv, select_hosts(inv, "all"))
    assert data == {
        "all": {"children": ["ungrouped", "web", "db"]},
        "ungrouped": {"hosts": ["solo"]},
        "web": {"hosts": ["web2", "web1"], "children": ["canary"]},
        "canary": {"hosts": ["web3"]},
        "db": {"hosts": ["db1"]},
        "_meta": {
            "hostvars": {
                "solo": {"user": "deploy"},
                "web2": {"user": "deploy", "http_port": 8080},
                "web1": {"user": "deploy", "http_port": 8080, "opts": {"a": 1}},
                "web3": {"user": "deploy", "http_port": 8080},
                "db1": {"user": "deploy"},
            },
            "profile": "inventory_legacy",
        },
    }
    json.dumps(data)  # plain JSON all the way down


def test_export_lists_group_vars_and_hosts_own_vars(inv: Inventory) -> None:
    data = to_list_json(inv, select_hosts(inv, "all"), export=True)
    assert data["all"]["vars"] == {"user": "deploy"}
    assert data["web"]["vars"] == {"http_port": 8080}
    assert data["_meta"]["hostvars"] == {"web1": {"opts": {"a": 1}}}


def test_list_is_restricted_to_the_selected_hosts(inv: Inventory) -> None:
    data = to_list_json(inv, select_hosts(inv, "all", "canary:db"))
    assert data["all"]["children"] == ["ungrouped", "web", "db"]  # children stay, as Ansible
    assert "ungrouped" not in data  # no selected host, no children: left out
    assert data["web"] == {"children": ["canary"]}
    assert list(data["_meta"]["hostvars"]) == ["db1", "web3"]  # the order of `all`


def test_list_applies_extra_vars_on_top(inv: Inventory) -> None:
    data = to_list_json(inv, ("web1",), {"http_port": 1, "new": True})
    assert data["_meta"]["hostvars"]["web1"]["http_port"] == 1
    assert data["_meta"]["hostvars"]["web1"]["new"] is True


def test_graph_orders_children_then_hosts_as_added_like_ansible(inv: Inventory) -> None:
    assert to_graph(inv, select_hosts(inv, "all")) == "\n".join(
        [
            "@all:",
            "  |--@ungrouped:",
            "  |  |--solo",
            "  |--@web:",
            "  |  |--@canary:",
            "  |  |  |--web3",
            "  |  |--web2",
            "  |  |--web1",
            "  |--@db:",
            "  |  |--db1",
        ]
    )


def test_graph_narrowed_leaves_out_groups_without_selected_hosts(inv: Inventory) -> None:
    assert to_graph(inv, ("web1",), narrowed=True) == "@all:\n  |--@web:\n  |  |--web1"


def test_host_vars_are_the_merged_vars_with_extra_on_top(inv: Inventory) -> None:
    assert host_vars_json(inv, "web3") == {"user": "deploy", "http_port": 8080}
    assert host_vars_json(inv, "web3", {"user": "root"})["user"] == "root"


def test_unknown_host_suggests_close_names(inv: Inventory) -> None:
    with pytest.raises(PatternError, match="host 'web4' is not in the inventory") as err:
        host_vars_json(inv, "web4")
    assert err.value.hint is not None and "web1" in err.value.hint
