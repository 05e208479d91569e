"""Playbook values render as ansible-core 2.19 renders them: native types, newlines, backslashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetkit.errors import TemplateError
from fleetkit.modules.copy import _text
from fleetkit.playbook.render import Renderer

pytestmark = pytest.mark.unit


def _value(yaml_text: str, **variables: Any) -> Any:
    """The rendered value of key `v` in yaml_text, as a task argument."""
    return Renderer().render(yaml.safe_load(yaml_text)["v"], variables)


def test_one_expression_and_a_newline_keeps_the_newline_for_text() -> None:
    assert _value('v: "{{ x }}\\n"', x="hello") == "hello\n"
    assert _value("v: |\n  {{ x }}\n", x="hello") == "hello\n"
    assert _value('v: "{{ x }} "', x="hello") == "hello "


def test_one_expression_and_a_newline_is_native_for_other_types() -> None:
    assert _value('v: "{{ x }}\\n"', x=[5, 6]) == [5, 6]
    assert _value("v: |\n  {{ n }}\n", n=5) == 5
    assert _value("v: |\n  line {{ x }}\n  {{ n }}\n", x="a", n=5) == "line a\n5\n"


def test_backslashes_in_string_literals_are_only_yamls() -> None:
    assert _value("v: \"{{ 'v5' | regex_replace('(\\\\d+)', 'n=\\\\1') }}\"") == "vn=5"
    assert _value("v: \"{{ 'x' ~ '\\\\n' ~ 'y' }}\"") == "x\\ny"
    assert _value("v: >-\n  {{ 'tab[\\t]' }}\n") == "tab[\\t]"


def test_conditions_and_template_files_keep_jinjas_escapes(tmp_path: Path) -> None:
    r = Renderer([tmp_path])
    assert r.evaluate("'a\\tb' == 'a' ~ '\\t' ~ 'b'", {}) is True
    assert r.evaluate("'\\t' | length", {}) == 1
    (tmp_path / "t.j2").write_text("{{ 'a\\tb' }}")
    assert r.render_file("t.j2", {}) == "a\tb"


@pytest.mark.parametrize(
    ("content", "written"),
    [
        ({"b": 1, "a": [1, 2], "c": "é"}, '{"b": 1, "a": [1, 2], "c": "\\u00e9"}'),
        (["x", 2, None, True], '["x", 2, null, true]'),
        (5, "5"),
        (True, "True"),
        (1.5, "1.5"),
        ("text\n", "text\n"),
    ],
)
def test_copy_content_is_written_as_ansible_writes_it(content: Any, written: str) -> None:
    assert _text(content) == written


def test_text_prints_none_as_nothing_and_tuples_and_lazy_results_as_lists() -> None:
    r = Renderer()
    text = r.render(
        "[{{ none }}] {{ [3, 1, 3, 2] | unique }} {{ [1, 2] | zip(['a', 'b']) | list }}"
        " {{ {'b': 1, 'a': 2} | dictsort }} {{ [1, 2] | map('string') }}",
        {},
    )
    assert text == "[] [3, 1, 2] [[1, 'a'], [2, 'b']] [['a', 2], ['b', 1]] ['1', '2']"
    grouped = r.render("groups {{ [{'g': 'x'}, {'g': 'y'}] | groupby('g') }}", {})
    assert grouped == "groups [('x', [{'g': 'x'}]), ('y', [{'g': 'y'}])]"
    assert r.render("{{ none }}", {}) is None
    assert r.render("{{ [1, 1, 2] | unique }}", {}) == [1, 2]


def test_regex_search_group_arguments_are_ansibles_only() -> None:
    r = Renderer()
    variables = {"s": "key=value", "pat": r"(\w+)=(\w+)", "two": r"\2", "one": r"\1"}
    assert r.render("{{ s | regex_search(pat, two, one) }}", variables) == ["value", "key"]
    named = {"s": "key=value", "pat": r"(?P<k>\w+)=", "ref": r"\g<k>"}
    assert r.render("{{ s | regex_search(pat, ref) }}", named) == ["key"]
    assert r.render("{{ 'none' | regex_search(pat, one) }}", variables) is None
    for bad in ("k", r"\\2"):
        with pytest.raises(TemplateError, match="not a group reference"):
            r.render("{{ s | regex_search(pat, bad) }}", {**variables, "bad": bad})
