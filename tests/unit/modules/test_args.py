"""Argument declarations: names, aliases, required, choices and types, with suggestions."""

from __future__ import annotations

import pytest

from fleetkit.modules.args import coerce_value, prepare, validate_static
from fleetkit.modules.base import Arg
from fleetkit.modules.registry import canonical_name, lookup, suggest_module
from fleetkit.modules.remote import apply_symbolic
from fleetkit.playbook.render import contains_template
from fleetkit.text import to_bool

pytestmark = pytest.mark.unit


def module(name: str):  # type: ignore[no-untyped-def]
    mod = lookup(name)
    assert mod is not None
    return mod


def test_a_misspelt_argument_gets_a_suggestion() -> None:
    errors = validate_static(module("copy"), {"dets": "/x", "content": "a"}, contains_template)
    assert "unknown argument 'dets' (did you mean 'dest'?)" in errors[0]


def test_a_missing_required_argument_is_named() -> None:
    errors = validate_static(module("template"), {"src": "a.j2"}, contains_template)
    assert errors == ["module template: missing required argument 'dest'"]


def test_a_bad_choice_lists_the_choices_and_suggests() -> None:
    errors = validate_static(
        module("file"), {"path": "/x", "state": "directroy"}, contains_template
    )
    assert (
        "not one of file, directory, absent, link, touch (did you mean 'directory'?)" in errors[0]
    )


def test_templated_values_are_checked_later_not_now() -> None:
    assert (
        validate_static(module("file"), {"path": "/x", "state": "{{ s }}"}, contains_template) == []
    )


def test_exclusive_and_one_of_groups() -> None:
    assert (
        "mutually exclusive"
        in validate_static(
            module("copy"), {"src": "a", "content": "b", "dest": "/x"}, contains_template
        )[0]
    )
    assert (
        "one of src, content is required"
        in validate_static(module("copy"), {"dest": "/x"}, contains_template)[0]
    )


def test_aliases_map_to_the_canonical_name() -> None:
    args, errors = prepare(module("file"), {"dest": "/x", "state": "absent"})
    assert not errors and args["path"] == "/x"


def test_defaults_are_filled_in() -> None:
    args, _ = prepare(module("copy"), {"dest": "/x", "content": ""})
    assert args["backup"] is False and args["force"] is True


@pytest.mark.parametrize(
    ("arg", "value", "expected"),
    [
        (Arg("bool"), "yes", True),
        (Arg("bool"), "False", False),
        (Arg("int"), "42", 42),
        (Arg("list"), "a, b", ["a", "b"]),
        (Arg("mode"), "0644", 0o644),
        (Arg("mode"), 0o755, 0o755),
        (Arg("mode"), "u+x,go-w", "u+x,go-w"),
        (Arg("str"), 8080, "8080"),
    ],
)
def test_values_are_coerced_to_the_declared_type(arg: Arg, value: object, expected: object) -> None:
    assert coerce_value(arg, value) == expected


@pytest.mark.parametrize(
    ("arg", "value"), [(Arg("int"), "x"), (Arg("bool"), "maybe"), (Arg("mode"), "rwx")]
)
def test_bad_values_raise_value_error(arg: Arg, value: object) -> None:
    with pytest.raises(ValueError):
        coerce_value(arg, value)


def test_to_bool_accepts_yaml_words() -> None:
    assert to_bool("on") and not to_bool("off") and to_bool(1)


def test_ansible_names_resolve_to_modules() -> None:
    assert canonical_name("ansible.builtin.copy") == "copy"
    assert canonical_name("ansible.builtin.systemd_service") == "systemd"
    assert lookup("ansible.builtin.shell") is lookup("shell")


def test_a_misspelt_module_gets_a_suggestion() -> None:
    assert suggest_module("templte") == "template"
    assert suggest_module("zzzz") is None


def test_symbolic_modes_apply_like_chmod() -> None:
    assert apply_symbolic(0o644, "u+x") == 0o744
    assert apply_symbolic(0o777, "go-w") == 0o755
    assert apply_symbolic(0o600, "a+r") == 0o644
    assert apply_symbolic(0o700, "g=rx") == 0o750
