"""INI inventories load as Ansible reads them, and their mistakes point at a line."""

from __future__ import annotations

import pytest

from fleetkit.errors import InventoryError

from .conftest import LoadText

pytestmark = pytest.mark.unit


def test_hosts_before_any_section_are_ungrouped(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        """
        # ungrouped hosts come first
        alone
        [web]
        web1
        """,
    )
    assert list(inv.hosts) == ["alone", "web1"]
    assert inv.groups["ungrouped"].hosts == ("alone",)
    assert inv.hosts["alone"].groups == ("ungrouped",)
    assert inv.groups["all"].children == ("ungrouped", "web")


def test_host_listed_at_top_and_in_a_group_is_not_ungrouped(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "web1\n[web]\nweb1\n")
    assert inv.groups["ungrouped"].hosts == ()
    assert inv.hosts["web1"].groups == ("web",)


def test_host_colon_port_sets_ansible_port(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[web]\nweb1:2222\nweb2\n")
    assert inv.hosts["web1"].vars["ansible_port"] == 2222
    assert "ansible_port" not in inv.hosts["web2"].vars and "port" not in inv.hosts["web1"].vars


def test_explicit_ansible_port_on_the_line_wins_and_first_declaration_keeps_its_port(
    load_text: LoadText,
) -> None:
    inv = load_text("hosts.ini", "[a]\nweb1:2222 ansible_port=2300\nweb2:2200\n[b]\nweb2:3333\n")
    assert inv.hosts["web1"].vars["ansible_port"] == 2300
    assert inv.hosts["web2"].vars["ansible_port"] == 2200  # as Ansible: set when first added


def test_bracketed_ipv4_and_names_take_a_port(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[g]\n[192.0.2.20]:2222\n[named]:2023\n")
    assert inv.hosts["192.0.2.20"].vars == {"ansible_port": 2222}
    assert inv.hosts["named"].vars == {"ansible_port": 2023}


def test_comment_after_a_value_is_skipped_as_literal_eval_skips_it(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        "[g]\nh1 flag=False # off\n[g:vars]\nbackup_enabled = False # off\n"
        "count = 3 # three\nname = web # front\nquoted = 'a # b' # c\n",
    )
    got = inv.hosts["h1"].vars
    assert got["flag"] is False and got["backup_enabled"] is False and got["count"] == 3
    assert got["name"] == "web # front"  # not a literal: Ansible keeps the whole text
    assert got["quoted"] == "a # b"


def test_non_ascii_identifier_group_names_load(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[région_est]\nh1\n")
    assert inv.group_hosts("région_est") == ("h1",)


def test_numeric_range_expands_with_zero_padding(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[web]\nwww[01:50].example.com\n")
    names = list(inv.hosts)
    assert len(names) == 50
    assert names[:2] == ["www01.example.com", "www02.example.com"]
    assert names[-1] == "www50.example.com"


def test_letter_range_expands(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[db]\ndb-[a:f]\n")
    assert list(inv.hosts) == ["db-a", "db-b", "db-c", "db-d", "db-e", "db-f"]


def test_range_with_stride_and_port(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[n]\nnode[1:10:2]:2200\n")
    assert list(inv.hosts) == ["node1", "node3", "node5", "node7", "node9"]
    assert {h.vars["ansible_port"] for h in inv.hosts.values()} == {2200}


def test_several_ranges_in_one_name_expand_in_order(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[r]\nrack[1:2]-node[a:b]\n")
    assert list(inv.hosts) == ["rack1-nodea", "rack1-nodeb", "rack2-nodea", "rack2-nodeb"]


def test_ipv6_addresses_are_host_names_without_port(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[v6]\nfe80::1\n[2001:db8::5]:2222\n")
    assert list(inv.hosts) == ["fe80::1", "2001:db8::5"]
    assert inv.hosts["2001:db8::5"].vars["ansible_port"] == 2222


def test_inline_values_are_parsed_like_ansible(load_text: LoadText) -> None:
    inline = [
        "n=5",
        "f=1.5",
        "t=True",
        "low=true",
        's="two words"',
        "q=\"'05'\"",
        "z=007",
        "l=\"[1, 'a']\"",
        "ip=10.0.0.1",
        "p=/usr/bin",
        "none=None",
    ]
    inv = load_text("hosts.ini", f"[web]\nweb1 {' '.join(inline)}\n")
    assert dict(inv.hosts["web1"].vars) == {
        "n": 5,
        "f": 1.5,
        "t": True,
        "low": "true",
        "s": "two words",
        "q": "05",
        "z": "007",
        "l": [1, "a"],
        "ip": "10.0.0.1",
        "p": "/usr/bin",
        "none": None,
    }


def test_trailing_comments_and_semicolon_lines_are_ignored(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        """
        ; a semicolon comment
        [web]   # the web tier

        web1 role=front # not a var
        # web9
        """,
    )
    assert list(inv.hosts) == ["web1"]
    assert dict(inv.hosts["web1"].vars) == {"role": "front"}


def test_vars_section_sets_group_vars(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        """
        [web]
        web1
        [web:vars]
        http_port = 8080
        banner = hello world
        debug=False
        """,
    )
    assert dict(inv.groups["web"].vars) == {
        "http_port": 8080,
        "banner": "hello world",
        "debug": False,
    }
    assert inv.hosts["web1"].vars["http_port"] == 8080


def test_all_vars_section_applies_to_every_host(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "alone\n[web]\nweb1\n[all:vars]\nenv=prod\n")
    assert {h.vars["env"] for h in inv.hosts.values()} == {"prod"}


def test_children_section_nests_groups_declared_later(load_text: LoadText) -> None:
    inv = load_text(
        "hosts.ini",
        """
        [prod:children]
        web
        db
        [web]
        web1
        [db]
        db1
        """,
    )
    assert inv.groups["prod"].children == ("web", "db")
    assert inv.group_hosts("prod") == ("web1", "db1")
    assert inv.hosts["web1"].groups == ("prod", "web")
    assert inv.groups["all"].children == ("ungrouped", "prod")


def test_bad_host_line_names_file_and_line(load_text: LoadText) -> None:
    with pytest.raises(InventoryError) as err:
        load_text("hosts.ini", "[web]\nweb1\nweb2 role\n")
    assert str(err.value.position).endswith("hosts.ini:3")
    assert "expected key=value" in err.value.message
    assert "'role'" in err.value.message


def test_unclosed_quote_names_the_line(load_text: LoadText) -> None:
    with pytest.raises(InventoryError) as err:
        load_text("hosts.ini", '[web]\nweb1 motd="hello\n')
    assert err.value.position is not None and err.value.position.line == 2


def test_unknown_section_type_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match=r"unknown type 'var'") as err:
        load_text("hosts.ini", "[web]\nweb1\n[web:var]\nx=1\n")
    assert err.value.position is not None and err.value.position.line == 3


def test_section_with_spaces_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="invalid section header"):
        load_text("hosts.ini", "[web servers]\nweb1\n")


def test_vars_line_without_equals_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="expected key=value") as err:
        load_text("hosts.ini", "[web]\nweb1\n[web:vars]\nhttp_port 80\n")
    assert err.value.position is not None and err.value.position.line == 4


def test_vars_for_a_group_never_declared_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match=r"\[db:vars\].*never declared") as err:
        load_text("hosts.ini", "[web]\nweb1\n[db:vars]\nport=5432\n")
    assert err.value.position is not None and err.value.position.line == 3


def test_child_group_never_declared_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="child group 'db' is never declared") as err:
        load_text("hosts.ini", "[web]\nweb1\n[prod:children]\nweb\ndb\n")
    assert err.value.position is not None and err.value.position.line == 5


def test_cycle_in_children_is_an_error_naming_the_loop(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="a -> b -> a") as err:
        load_text("hosts.ini", "[a:children]\nb\n[b:children]\na\n")
    assert err.value.position is not None and err.value.position.line == 4


def test_group_cannot_be_its_own_child(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="web -> web"):
        load_text("hosts.ini", "[web]\nweb1\n[web:children]\nweb\n")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("web1:", "ends with ':'"),
        ("web1:ssh", "not a number"),
        ("web1:70000", "out of range"),
        ("web[5:1]", "is empty"),
        ("web[1:2:3:4]", "begin:end"),
        ("web[1:]", "no end"),
        ("web[01:100]", "same width"),
        ("web[1:5:0]", "step"),
        ("web[a:5]", "numbers"),
        ("web[1:3", "not closed"),
        ("web[1:100000000]", "limit"),
    ],
)
def test_bad_host_entries_are_errors_with_the_line(
    load_text: LoadText, line: str, message: str
) -> None:
    with pytest.raises(InventoryError, match=message) as err:
        load_text("hosts.ini", f"[web]\n{line}\n")
    assert err.value.position is not None and err.value.position.line == 2


def test_invalid_group_name_is_an_error(load_text: LoadText) -> None:
    with pytest.raises(InventoryError, match="invalid group name 'web!'"):
        load_text("hosts.ini", "[web!]\nweb1\n")


def test_dashes_and_dots_in_group_names_are_accepted(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "[web-eu.1]\nweb1\n")
    assert inv.hosts["web1"].groups == ("web-eu.1",)


def test_empty_ini_file_is_an_empty_inventory(load_text: LoadText) -> None:
    inv = load_text("hosts.ini", "# nothing yet\n")
    assert dict(inv.hosts) == {}
    assert set(inv.groups) == {"all", "ungrouped"}
