"""YAML with positions: maps and lists know their file:line; errors carry line:column."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path

import pytest

from fleetkit.errors import PlaybookError
from fleetkit.vault import VaultError
from fleetkit.yamlpos import YamlList, YamlMap, dump_yaml, load_yaml, parse_yaml, position_of

from .conftest import WriteFile

pytestmark = pytest.mark.unit

DOC = """\
play:
  hosts: web
  tasks:
    - name: one
      shell: uptime
    - name: two
"""


def test_maps_and_lists_carry_their_positions(write: WriteFile) -> None:
    path = write("play.yml", DOC)
    data = load_yaml(path, PlaybookError)
    play = data["play"]
    assert isinstance(data, YamlMap) and isinstance(play["tasks"], YamlList)
    assert position_of(data, "play") == position_of(data) and str(position_of(data)) == (
        f"{path}:1"
    )
    assert position_of(play, "tasks") is not None and play.key_pos["tasks"].line == 3
    assert play["tasks"].pos.line == 4
    assert position_of(play["tasks"][1]) is not None and play["tasks"][1].pos.line == 6
    assert position_of(play["tasks"][1], "name") == play["tasks"][1].pos
    assert position_of("scalar") is None
    assert position_of(play, "missing") == play.pos


def test_values_are_ordinary_python_values() -> None:
    data = parse_yaml("a: 1\nb: [true, null, 1.5]\nc: 2024-01-02\n", "x.yml", PlaybookError)
    assert data == {"a": 1, "b": [True, None, 1.5], "c": datetime.date(2024, 1, 2)}
    assert isinstance(data, dict)


def test_merge_keys_may_be_overridden_without_duplicate_errors() -> None:
    data = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "x.yml", PlaybookError)
    assert data["use"] == {"x": 1, "y": 3}
    assert data["use"].key_pos["y"].line == 4


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(PlaybookError) as err:
        parse_yaml("a: 1\nb: 2\na: 3\n", "x.yml", PlaybookError)
    assert err.value.message == "duplicate key 'a' (first at line 1, again at line 3)"
    assert str(err.value.position) == "x.yml:3"


def test_syntax_errors_carry_line_column_and_the_problem() -> None:
    with pytest.raises(PlaybookError) as err:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "x.yml", PlaybookError)
    assert err.value.position is not None and err.value.position.line == 3
    assert err.value.position.column is not None
    assert err.value.message.startswith("invalid YAML: ")


def test_tab_indentation_gets_a_hint() -> None:
    with pytest.raises(PlaybookError) as err:
        parse_yaml("a:\n\tb: 1\n", "x.yml", PlaybookError)
    assert str(err.value.position) == "x.yml:2:1"
    assert err.value.hint == "indent YAML with spaces, not tabs"


def test_unhashable_keys_and_unknown_tags_are_errors() -> None:
    with pytest.raises(PlaybookError, match="plain value"):
        parse_yaml("? [1, 2]\n: x\n", "x.yml", PlaybookError)
    with pytest.raises(VaultError, match=r"x\.yml:1: damaged inline vault value"):
        parse_yaml("secret: !vault abc\n", "x.yml", PlaybookError)  # !vault is read now


def test_several_documents_are_an_error() -> None:
    with pytest.raises(PlaybookError, match="single document"):
        parse_yaml("a: 1\n---\nb: 2\n", "x.yml", PlaybookError)


def test_unreadable_and_non_utf8_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="cannot read"):
        load_yaml(tmp_path / "missing.yml", PlaybookError)
    latin = tmp_path / "latin.yml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(PlaybookError, match="not UTF-8"):
        load_yaml(latin, PlaybookError)


def test_copies_keep_positions_and_dump_writes_plain_yaml() -> None:
    data = parse_yaml(DOC, "play.yml", PlaybookError)
    clone = copy.deepcopy(data)
    assert clone == data and clone["play"].key_pos == data["play"].key_pos
    assert parse_yaml(dump_yaml(data), "again.yml", PlaybookError) == data
