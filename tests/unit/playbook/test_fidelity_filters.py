"""Every filter and test ansible.builtin ships is in fleetkit's renderer, with Ansible's meaning.

The list comes from ansible-core's own plugin classes (the test extra pins 2.19), so
a filter added there is a failing test here, not a guess.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

from fleetkit.errors import TemplateError
from fleetkit.playbook.render import Renderer

pytestmark = pytest.mark.unit


def _ansible_plugins(kind: str) -> set[str]:
    try:
        package = importlib.import_module(f"ansible.plugins.{kind}")
    except ImportError:
        pytest.fail("ansible-core is not installed (pip install -e '.[test]')")
    names: set[str] = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        cls = getattr(module, "FilterModule" if kind == "filter" else "TestModule", None)
        if cls is not None:
            names |= set(getattr(cls(), "filters" if kind == "filter" else "tests")())
    assert len(names) > 40, names
    return names


def test_every_ansible_builtin_filter_is_in_the_renderer() -> None:
    env = Renderer().env
    assert sorted(_ansible_plugins("filter") - set(env.filters)) == []


def test_every_ansible_builtin_test_is_in_the_renderer() -> None:
    env = Renderer().env
    assert sorted(_ansible_plugins("test") - set(env.tests)) == []


def _r(expr: str, **variables: Any) -> Any:
    return Renderer().evaluate(expr, variables)


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("[1, 2, 2, 3] | union([3, 4]) | sort", [1, 2, 3, 4]),
        ("[1, 2, 2, 3] | difference([2])", [1, 3]),
        ("[1, 2, 3] | intersect([2, 3, 5]) | sort", [2, 3]),
        ("[1, 2, 3] | symmetric_difference([3, 4])", [1, 2, 4]),
        ("[{'a': 1}] | union([{'a': 1}, {'b': 2}])", [{"a": 1}, {"b": 2}]),
        ("[1, 2, 3] | zip(['a', 'b'])", [(1, "a"), (2, "b")]),
        ("[1, 2] | zip_longest(['a'], fillvalue='-')", [(1, "a"), (2, "-")]),
        ("'a,b' | split(',')", ["a", "b"]),
        ("'a' | extract({'a': {'b': {'c': 7}}}, ['b', 'c'])", 7),
        ("{'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='append_rp')", {"l": [1, 2, 3]}),
        ("[{'a': 1}, {'b': 2}, {'a': 3}] | combine", {"a": 3, "b": 2}),
        ("'x' | comment", "#\n# x\n#"),
        ("'x' | comment('c')", "//\n// x\n//"),
        ("'%Y' | strftime(1700000000, utc=true)", "2023"),
        ("('2024-03-05 10:20:30' | to_datetime).day", 5),
        ("'https://h.example:8443/p?q=1' | urlsplit('port')", 8443),
        ("'abcdefghij' | list | random(seed='fleet')", "i"),
        (
            "'secret' | password_hash('sha512', 'saltsalt')",
            "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gR"
            "stiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
        ),
        ("1024 | human_readable", "1.00 KB"),
        ("'1.5 MB' | human_to_bytes", 1572864),
        ("'10Mb' | human_to_bytes(isbits=true)", 10485760),
        ("'1.10.0' is version('1.9', '>')", True),
        ("'1.0.0-rc1' is version('1.0.0', '<', version_type='semver')", True),
        ("'1.2' is version_compare('1.10', 'lt')", True),
        ("'yes' is truthy(convert_bool=true)", True),
        ("'no' is falsy(convert_bool=true)", True),
        ("'/etc' is directory and '/etc/hostname' is file and '/nope' is not exists", True),
        ("[1, 2] is subset([1, 2, 3]) and [1, 2, 3] is superset([2])", True),
        ("'example.com' is url", False),
        ("'urn:isbn:1' is urn", True),
    ],
)
def test_ansible_filters_and_tests_give_ansibles_values(expr: str, want: Any) -> None:
    assert _r(expr) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [("yes", True), ("on", True), ("1", True), ("true", True), ("True", True), ("TRUE", True),
     ("y", False), ("foo", False), ("t", False), (2, False), (1, True), (True, True),
     (1.0, True), (0.5, False), ("no", False), (None, False)],
)  # fmt: skip
def test_bool_is_true_only_for_ansibles_true_words(value: Any, want: bool) -> None:
    assert _r("v | bool", v=value) is want


def test_json_and_yaml_filters_write_ansibles_exact_text() -> None:
    d = {"b": 1, "a": [1, 2], "c": "é"}
    assert _r("d | to_json", d=d) == '{"b": 1, "a": [1, 2], "c": "\\u00e9"}'
    assert _r("d | to_nice_json", d=d) == (
        '{\n    "a": [\n        1,\n        2\n    ],\n    "b": 1,\n    "c": "\\u00e9"\n}'
    )
    assert _r("d | to_yaml", d=d) == "a: [1, 2]\nb: 1\nc: é\n"
    assert _r("d | to_nice_yaml", d=d) == "a:\n- 1\n- 2\nb: 1\nc: é\n"
    assert _r("{'k': {'n': [1]}} | to_nice_yaml") == "k:\n    n:\n    - 1\n"
    assert _r("'plain' | to_yaml") == "plain\n"


def test_type_debug_never_names_fleetkit_classes() -> None:
    from fleetkit.yamlpos import parse_yaml

    data = parse_yaml("a: {b: [1]}\n", "x.yml", TemplateError)
    assert _r("[d | type_debug, d.a | type_debug, d.a.b | type_debug]", d=data) == [
        "dict", "dict", "list"
    ]  # fmt: skip


def test_mandatory_and_bad_arguments_are_template_errors_with_ansibles_words() -> None:
    with pytest.raises(TemplateError, match="Mandatory variable 'nope' not defined"):
        _r("nope | mandatory")
    with pytest.raises(TemplateError, match="Invalid style 'tex'"):
        _r("'x' | comment('tex')")
    with pytest.raises(TemplateError, match="Invalid operator type"):
        _r("'1' is version('2', 'bigger')")
    with pytest.raises(TemplateError, match="should match 2 times, but matches 1"):
        _r("'a1' | regex_replace('\\\\d', '', mandatory_count=2)")
