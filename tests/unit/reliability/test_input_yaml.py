"""YAML input is bounded before anything is built: an alias bomb, a recursive alias,
nesting past MAX_DEPTH and integers past MAX_INT_DIGITS are errors at file:line; a
scalar its tag refuses (a bad date) is an error, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import fleetkit
from tests.unit.reliability.bound import within

from fleetkit.errors import InventoryError, PlaybookError, UsageError
from fleetkit.inventory.extra_vars import parse_extra_vars
from fleetkit.yamlpos import MAX_ALIAS_NODES, MAX_DEPTH, parse_yaml

pytestmark = pytest.mark.unit


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": width**levels nodes from a few hundred bytes."""
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_line() -> None:
    text = alias_bomb()
    assert len(text.encode()) < 500  # 9**9 nodes
    with within(5), pytest.raises(PlaybookError, match="aliases expand to more than") as err:
        parse_yaml(text, "vars.yml", PlaybookError)
    assert err.value.position is not None and err.value.position.line is not None
    assert 1 < err.value.position.line <= 9


def test_shared_blocks_within_the_budget_still_load() -> None:
    hosts = "\n".join(f"  h{i}: {{<<: *d, n: {i}}}" for i in range(2000))
    text = "defaults: &d {a: 1, b: [1, 2, 3], c: {x: y}}\nhosts:\n" + hosts + "\n"
    data = parse_yaml(text, "inv.yml", InventoryError)
    assert data["hosts"]["h1999"] == {"a": 1, "b": [1, 2, 3], "c": {"x": "y"}, "n": 1999}
    small_bomb = alias_bomb(levels=5, width=9)  # 9**5 nodes: under the budget
    assert MAX_ALIAS_NODES > 9**5
    assert len(parse_yaml(small_bomb, "x.yml", PlaybookError)["a4"]) == 9


def test_a_recursive_alias_is_refused() -> None:
    with within(5), pytest.raises(UsageError, match="recursive alias") as err:
        parse_yaml("x: 1\ny: &a [1, *a]\n", "-e", UsageError)
    assert str(err.value.position) == "-e:2"


def test_nesting_past_the_limit_is_refused_and_at_the_limit_loads() -> None:
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert parse_yaml(ok, "ok.yml", PlaybookError) is not None
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(PlaybookError, match=f"nested more than {MAX_DEPTH}"):
        parse_yaml(deep, "deep.yml", PlaybookError)
    # through aliases: a shallow document whose alias makes it deep
    inner = "[" * 150 + "]" * 150
    with pytest.raises(PlaybookError, match="nested more than"):
        parse_yaml(f"a: &a {inner}\nb: {'[' * 100}*a{']' * 100}\n", "x.yml", PlaybookError)


@pytest.mark.parametrize(
    "value", ["1" * 5000, "-" + "1" * 5000, "0x" + "f" * 5000, "0" + "7" * 5000]
)
def test_a_huge_integer_is_an_error_at_its_line(value: str) -> None:
    with pytest.raises(InventoryError, match="too large") as err:
        parse_yaml(f"a: 1\nb: {value}\n", "inv.yml", InventoryError)
    assert str(err.value.position) == "inv.yml:2"
    assert parse_yaml(f"b: '{value}'\n", "inv.yml", InventoryError)["b"] == value


@pytest.mark.parametrize(
    "text", ["x: 2001-13-45\n", "x: !!int abc\n", "x: !!float abc\n", "x: !!timestamp x\n"]
)
def test_a_scalar_its_tag_refuses_is_an_error_not_a_traceback(text: str) -> None:
    with pytest.raises(UsageError, match="invalid") as err:
        parse_yaml(text, "-e", UsageError)
    assert str(err.value.position) == "-e:1"


def test_extra_vars_documents_go_through_the_same_budget(tmp_path: Path) -> None:
    (tmp_path / "bomb.yml").write_text(alias_bomb())
    with within(5), pytest.raises(UsageError, match="aliases expand"):
        parse_extra_vars(["@bomb.yml"], tmp_path)
    flow = (
        "{a: &a [1,1,1,1,1,1,1,1,1,1], "
        + ", ".join(
            f"b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]"
            for i in range(7)
        )
        + "}"
    )
    with within(5), pytest.raises(UsageError, match="aliases expand"):
        parse_extra_vars([flow], tmp_path)


def test_inventory_list_of_an_alias_bomb_exits_2_quickly(tmp_path: Path) -> None:
    bomb = "".join(f"      {line}\n" for line in alias_bomb().splitlines())
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    h1:\n  vars:\n    v:\n" + bomb)
    done = fleetkit("inventory", "-i", str(tmp_path / "hosts.yml"), "--list", timeout=30)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "hosts.yml:" in done.stderr and "aliases expand" in done.stderr
    assert done.stdout == ""
