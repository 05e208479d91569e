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


def test_list_has_groups_then_meta_hostvars(inv: Inventory) -> None:
    data = to_list_json(inv, select_hosts(inv, "all"))
    assert list(data) == ["all", "ungrouped", "web", "canary", "db", "_meta"]
    assert data["all"] == {"children": ["ungrouped", "web", "db"], "vars": {"user": "deploy"}}
    assert data["ungrouped"] == {"hosts": ["solo"]}
    assert data["web"] == {
        "hosts": ["web2", "web1"],
        "children": ["canary"],
        "vars": {"http_port": 8080},
    }
    assert data["canary"] == {"hosts": ["web3"]}
    hostvars = data["_meta"]["hostvars"]
    assert list(hostvars) == ["solo", "web2", "web1", "web3", "db1"]
    assert hostvars["web1"] == {"user": "deploy", "http_port": 8080, "opts": {"a": 1}}
    assert hostvars["solo"] == {"user": "deploy"}
    json.dumps(data)  # plain JSON all the way down


def test_list_is_restricted_to_the_selected_hosts(inv: Inventory) -> None:
    data = to_list_json(inv, select_hosts(inv, "all", "canary:db"))
    assert list(data) == ["all", "web", "canary", "db", "_meta"]
    assert data["all"]["children"] == ["web", "db"]
    assert data["web"] == {"children": ["canary"], "vars": {"http_port": 8080}}
    assert list(data["_meta"]["hostvars"]) == ["web3", "db1"]


def test_list_applies_extra_vars_on_top(inv: Inventory) -> None:
    data = to_list_json(inv, ("web1",), {"http_port": 1, "new": True})
    assert data["_meta"]["hostvars"]["web1"]["http_port"] == 1
    assert data["_meta"]["hostvars"]["web1"]["new"] is True


def test_graph_shows_groups_then_hosts_sorted_like_ansible(inv: Inventory) -> None:
    assert to_graph(inv, select_hosts(inv, "all")) == "\n".join(
        [
            "@all:",
            "  |--@db:",
            "  |  |--db1",
            "  |--@ungrouped:",
            "  |  |--solo",
            "  |--@web:",
            "  |  |--@canary:",
            "  |  |  |--web3",
            "  |  |--web1",
            "  |  |--web2",
        ]
    )


def test_graph_leaves_out_groups_without_selected_hosts(inv: Inventory) -> None:
    assert to_graph(inv, ("web1",)) == "@all:\n  |--@web:\n  |  |--web1"


def test_host_vars_are_the_merged_vars_with_extra_on_top(inv: Inventory) -> None:
    assert host_vars_json(inv, "web3") == {"user": "deploy", "http_port": 8080}
    assert host_vars_json(inv, "web3", {"user": "root"})["user"] == "root"


def test_unknown_host_suggests_close_names(inv: Inventory) -> None:
    with pytest.raises(PatternError, match="host 'web4' is not in the inventory") as err:
        host_vars_json(inv, "web4")
    assert err.value.hint is not None and "web1" in err.value.hint
