"""Host patterns and --limit: every form, Ansible's order, errors that name what failed.

Expected orders are what ansible-core 2.19's InventoryManager answers for FLEET."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import PatternError
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.select import select_hosts

from .conftest import LoadText, WriteFile

pytestmark = pytest.mark.unit

FLEET = """
lonely
[web]
web1
web2
web3
[db]
db1
db2
[prod:children]
web
db
[canary]
web2
db2
[v6]
fe80::1
"""
# Ansible's walk of `all`: its children breadth first (ungrouped, prod, canary, v6,
# then web, db), each group's own hosts in order, each host once
ALL = ("lonely", "web2", "db2", "fe80::1", "web1", "web3", "db1")


@pytest.fixture
def inv(load_text: LoadText) -> Inventory:
    return load_text("hosts.ini", FLEET)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("all", ALL),
        ("*", ALL),
        ("web", ("web1", "web2", "web3")),
        ("prod", ("web1", "web2", "web3", "db1", "db2")),
        ("web2", ("web2",)),
        ("fe80::1", ("fe80::1",)),
        ("ungrouped", ("lonely",)),
    ],
)
def test_all_groups_and_hosts(inv: Inventory, pattern: str, expected: tuple[str, ...]) -> None:
    assert select_hosts(inv, pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("db?", ("db1", "db2")),
        ("web[!2]", ("web1", "web3")),  # a glob character class, not a subscript
        ("pro*", ("web1", "web2", "web3", "db1", "db2")),  # globs match group names too
        ("*2", ("web2", "db2")),
    ],
)
def test_globs_match_host_and_group_names(
    inv: Inventory, pattern: str, expected: tuple[str, ...]
) -> None:
    assert select_hosts(inv, pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"~web\d+", ("web1", "web2", "web3")),
        ("~(web|db)1", ("web1", "db1")),
        ("~can", ("web2", "db2")),  # matched from the start, over group names too
    ],
)
def test_regex_patterns(inv: Inventory, pattern: str, expected: tuple[str, ...]) -> None:
    assert select_hosts(inv, pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("db:web", ("db1", "db2", "web1", "web2", "web3")),  # pattern order, as Ansible
        ("db,lonely", ("db1", "db2", "lonely")),
        ("db, web1", ("db1", "db2", "web1")),
        ("prod:&canary", ("web2", "db2")),
        ("prod:!canary", ("web1", "web3", "db1")),
        ("!prod", ("lonely", "fe80::1")),  # only exclusions: from all
        ("web:db:&canary:!db2", ("web2",)),
        ("!db2:web:db:&canary", ("web2",)),  # unions, then &, then !, whatever the order
    ],
)
def test_union_intersection_and_exclusion(
    inv: Inventory, pattern: str, expected: tuple[str, ...]
) -> None:
    assert select_hosts(inv, pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web[0]", ("web1",)),
        ("web[-1]", ("web3",)),
        ("web[0:1]", ("web1", "web2")),  # both ends included, as in Ansible
        ("web[1:]", ("web2", "web3")),
        ("prod[1:3]", ("web2", "web3", "db1")),
        ("prod[2:2]", ("web3",)),
        ("prod[0:1]:!web1", ("web2",)),
        ("db:web[0]", ("db1", "db2", "web1")),
    ],
)
def test_index_and_slice(inv: Inventory, pattern: str, expected: tuple[str, ...]) -> None:
    assert select_hosts(inv, pattern) == expected


def test_limit_is_intersected_with_the_pattern(inv: Inventory) -> None:
    assert select_hosts(inv, "prod", "canary") == ("web2", "db2")
    assert select_hosts(inv, "all", "web*:!web1") == ("web2", "web3")


def test_limit_file_lists_hosts_relative_to_cwd(inv: Inventory, write: WriteFile) -> None:
    retry = write("retry/run.retry", "# failed last time\ndb2\n\nweb1  \n")
    assert select_hosts(inv, "all", "@retry/run.retry", cwd=retry.parent.parent) == (
        "db2",
        "web1",
    )
    assert select_hosts(inv, "web", f"@{retry}", cwd=Path("/")) == ("web1",)


def test_unknown_host_in_limit_file_is_named_with_file_and_line(
    inv: Inventory, write: WriteFile
) -> None:
    path = write("hosts.retry", "web1\nweb4\nnope\n")
    with pytest.raises(PatternError) as err:
        select_hosts(inv, "all", "@hosts.retry", cwd=path.parent)
    assert "no group or host named 'web4'" in err.value.message
    assert str(err.value.position).endswith("hosts.retry:2")
    assert err.value.hint is not None and "web1" in err.value.hint


def test_limit_file_lines_are_patterns(inv: Inventory, write: WriteFile) -> None:
    path = write("groups.txt", "db\nweb[0]\ncan*\n")
    assert select_hosts(inv, "all", "@groups.txt", cwd=path.parent) == (
        "web2",
        "db2",
        "web1",
        "db1",
    )


def test_implicit_localhost_matches_outside_all(inv: Inventory) -> None:
    import sys

    from fleetkit.inventory.select import with_implicit_localhost

    local = with_implicit_localhost(inv, "localhost")
    assert select_hosts(local, "localhost") == ("localhost",)
    assert select_hosts(local, "all") == ALL  # not in all, nor in any group
    assert local.hosts["localhost"].vars["ansible_connection"] == "local"
    assert local.hosts["localhost"].vars["ansible_python_interpreter"] == sys.executable
    assert with_implicit_localhost(inv, "web") is inv
    with pytest.raises(PatternError):
        select_hosts(inv, "localhost")


def test_missing_or_empty_limit_file_is_an_error(inv: Inventory, write: WriteFile) -> None:
    empty = write("empty.retry", "# nothing\n")
    with pytest.raises(PatternError, match="cannot read limit file"):
        select_hosts(inv, "all", "@missing.retry", cwd=empty.parent)
    with pytest.raises(PatternError, match="lists no host"):
        select_hosts(inv, "all", "@empty.retry", cwd=empty.parent)


def test_name_matching_nothing_is_an_error_with_close_names(inv: Inventory) -> None:
    with pytest.raises(PatternError) as err:
        select_hosts(inv, "webb")
    assert err.value.message == "pattern 'webb': no group or host named 'webb'"
    assert err.value.hint is not None and err.value.hint.startswith("close names: web")
    assert err.value.exit_code == 2


def test_glob_matching_nothing_is_an_error_listing_groups(inv: Inventory) -> None:
    with pytest.raises(PatternError, match="pattern 'zz\\*' matches no host") as err:
        select_hosts(inv, "zz*")
    assert err.value.hint is not None and "web" in err.value.hint


def test_pattern_whose_terms_cancel_out_is_an_error(inv: Inventory) -> None:
    with pytest.raises(PatternError, match="matches no host"):
        select_hosts(inv, "web:&db")


def test_limit_leaving_no_host_is_an_error(inv: Inventory) -> None:
    with pytest.raises(PatternError, match="limit 'db' leaves none of the 3 hosts") as err:
        select_hosts(inv, "web", "db")
    assert err.value.hint is not None and "web1, web2, web3" in err.value.hint


def test_limit_naming_nothing_is_an_error(inv: Inventory) -> None:
    with pytest.raises(PatternError, match="limit 'canary2'"):
        select_hosts(inv, "all", "canary2")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("web[3]", "index 3 is out of range"),
        ("web[-4]", "index -4 is out of range"),
        ("web[5:]", "selects no host"),
        ("web[2:1]", "selects no host"),
        ("~web(", "bad regular expression"),
        ("", "empty pattern"),
        ("web:!", "empty term"),
    ],
)
def test_malformed_patterns_are_errors(inv: Inventory, pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        select_hosts(inv, pattern)
