"""YAML inventories load as Ansible reads them; structural mistakes name key and line."""

from __future__ import annotations

import pytest

from fleetkit.errors import InventoryError

from .conftest import LoadText

pytestmark = pytest.mark.unit


def test_hosts_vars_and_children_at_any_depth(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.yml",
        """
        all:
          vars:
            env: prod
          children:
            swarm:
              vars:
                docker: true
              children:
                managers:
                  hosts:
                    mgr1:
                workers:
                  hosts:
                    wrk1:
                      address: 10.0.0.21
                    wrk2:
        """,
    )
    assert list(inv.hosts) == ["mgr1", "wrk1", "wrk2"]
    assert inv.groups["swarm"].children == ("managers", "workers")
    assert inv.group_hosts("swarm") == ("mgr1", "wrk1", "wrk2")
    assert dict(inv.hosts["wrk1"].vars) == {"env": "prod", "docker": True, "address": "10.0.0.21"}
    assert inv.hosts["wrk2"].groups == ("swarm", "workers")


def test_top_level_groups_besides_all_are_children_of_all(load_text: LoadText) -> None:
    inv = load_text("hosts.yml", "web:\n  hosts:\n    web1:\ndb:\n  hosts:\n    db1:\n")
    assert inv.groups["all"].children == ("ungrouped", "web", "db")


def test_hosts_directly_under_all_are_ungrouped(load_text: LoadText) -> None:
    inv = load_text("hosts.yml", "all:\n  hosts:\n    solo:\n      user: root\n")
    assert inv.groups["ungrouped"].hosts == ("solo",)
    assert inv.hosts["solo"].groups == ("ungrouped",)
    assert inv.hosts["solo"].vars["user"] == "root"


def test_a_host_in_several_groups_is_one_host(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.yml",
        """
        all:
          children:
            web:
              hosts:
                box1: {role: web}
            db:
              hosts:
                box1: {db: true}
        """,
    )
    assert list(inv.hosts) == ["box1"]
    assert inv.hosts["box1"].groups == ("db", "web")
    assert dict(inv.hosts["box1"].vars) == {"role": "web", "db": True}


def test_ranges_and_ports_work_in_yaml_host_keys(load_text: LoadText) -> None:
    inv = load_text("hosts.yml", "all:\n  hosts:\n    'web[1:3]:2222':\n    db-[a:b]:\n")
    assert list(inv.hosts) == ["web1", "web2", "web3", "db-a", "db-b"]
    assert inv.hosts["web2"].vars["ansible_port"] == 2222


def test_a_single_host_may_be_written_as_a_string(load_text: LoadText) -> None:
    inv = load_text("hosts.yml", "all:\n  children:\n    web:\n      hosts: web1\n")
    assert inv.group_hosts("web") == ("web1",)


def test_empty_sections_and_groups_are_allowed(load_text: LoadText) -> None:
    inv = load_text("hosts.yml", "all:\n  hosts:\n  vars:\n  children:\n    empty:\n")
    assert "empty" in inv.groups
    assert inv.group_hosts("empty") == ()


@pytest.mark.parametrize(("typo", "meant"), [("hots", "hosts"), ("childern", "children")])
def test_misspelt_structural_key_names_it_and_suggests_the_right_one(
    load_text: LoadText, typo: str, meant: str
) -> None:
    with pytest.raises(InventoryError) as err:
        load_text(
            "hosts.yml",
            f"""
            all:
              children:
                web:
                  {typo}:
                    web1:
            """,
        )
    assert f"unknown key {typo!r} in group 'web'" in err.value.message
    assert err.value.hint == f"did you mean {meant!r}?"
    assert str(err.value.position).endswith("hosts.yml:4")


def test_unknown_key_without_close_match_explains_what_a_group_holds(
    load_text: LoadText,
) -> None:
    with pytest.raises(InventoryError, match="unknown key 'webservers'") as err:
        load_text("hosts.yml", "all:\n  webservers:\n    hosts:\n      web1:\n")
    assert err.value.hint is not None and "children" in err.value.hint


def test_bad_yaml_syntax_reports_line_and_column(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="invalid YAML") as err:
        load_text("hosts.yml", "all:\n  hosts:\n    web1: a: b\n")
    assert str(err.value.position).endswith("hosts.yml:3:12")
    assert "mapping values are not allowed" in err.value.message


def test_duplicate_host_key_names_both_lines(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match=r"duplicate key 'web1'.*line 3.*line 4"):
        load_text("hosts.yml", "all:\n  hosts:\n    web1:\n    web1:\n")


def test_hosts_written_as_a_list_is_an_error_with_a_hint(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="'hosts' of group 'all' must be a mapping") as err:
        load_text("hosts.yml", "all:\n  hosts:\n    - web1\n    - web2\n")
    assert err.value.position is not None and err.value.position.line == 2
    assert err.value.hint is not None and "web1:" in err.value.hint


def test_host_vars_that_are_not_a_mapping_are_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="host 'web1' must map to its variables") as err:
        load_text("hosts.yml", "all:\n  hosts:\n    web1: 10.0.0.1\n")
    assert err.value.position is not None and err.value.position.line == 3


def test_group_that_is_not_a_mapping_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="group 'web' must be a mapping"):
        load_text("hosts.yml", "all:\n  children:\n    web: [web1]\n")


def test_top_level_hosts_key_says_to_start_with_a_group(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="top-level key 'hosts'") as err:
        load_text("hosts.yml", "hosts:\n  web1:\n")
    assert err.value.position is not None and err.value.position.line == 1


def test_non_mapping_document_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="mapping of groups"):
        load_text("hosts.yml", "- web1\n- web2\n")


def test_an_empty_yaml_file_is_an_empty_inventory_like_an_empty_ini(load_text: LoadText) -> None:
    assert dict(load_text("hosts.yaml", "# nothing\n").hosts) == {}
    assert dict(load_text("hosts.ini", "").hosts) == {}


def test_inventory_plugin_config_is_refused(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="plugin"):
        load_text("hosts.yml", "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n")


def test_numeric_host_name_must_be_quoted(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="must be a string") as err:
        load_text("hosts.yml", "all:\n  hosts:\n    10:\n")
    assert err.value.position is not None and err.value.position.line == 3


def test_invalid_group_name_is_an_error_at_its_line(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="invalid group name 'web servers'") as err:
        load_text("hosts.yml", "all:\n  children:\n    web servers:\n")
    assert err.value.position is not None and err.value.position.line == 3


def test_cycle_in_yaml_children_names_the_loop_and_line(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="a -> b -> a") as err:
        load_text(
            "hosts.yml",
            """
            all:
              children:
                a:
                  children:
                    b:
                b:
                  children:
                    a:
            """,
        )
    assert err.value.position is not None and err.value.position.line == 8


def test_all_cannot_be_a_child(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="'all' cannot be a child"):
        load_text("hosts.yml", "web:\n  children:\n    all:\n")


def test_yaml_anchors_and_merge_keys_share_host_vars(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.yml",
        """
        all:
          hosts:
            web1: &web
              user: deploy
              port: 22
            web2:
              <<: *web
              port: 2222
        """,
    )
    assert dict(inv.hosts["web2"].vars) == {"user": "deploy", "port": 2222}
