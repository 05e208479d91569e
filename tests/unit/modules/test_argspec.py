"""Argument spec validation: ansible-core 2.19's messages, order and conversions.

The expected texts were taken from ansible-core 2.19 on the same specs
(tests/compat/test_argspec_validator.py compares the two on many more).
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetkit.modules.argspec import SpecError, validate
from fleetkit.modules.argspec_types import check_bool, check_dict, check_int, check_list

pytestmark = pytest.mark.unit

SPEC: dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "count": {"type": "int", "default": 3},
    "mode": {"type": "str", "choices": ["a", "b"]},
    "items": {"type": "list", "elements": "int"},
    "conf": {
        "type": "dict",
        "options": {
            "port": {"type": "int", "required": True},
            "host": {"type": "str", "default": "localhost"},
        },
    },
}


def test_valid_values_are_converted_and_completed_with_defaults() -> None:
    out = validate(SPEC, {"name": 5, "conf": {"port": "80"}, "items": ["1", 2]})
    assert out.ok
    assert out.params == {
        "name": "5",
        "count": 3,
        "mode": None,
        "items": [1, 2],
        "conf": {"port": 80, "host": "localhost"},
    }


def test_the_given_values_are_never_changed_in_place() -> None:
    conf = {"port": "80"}
    validate(SPEC, {"name": "x", "conf": conf})
    assert conf == {"port": "80"}


def test_every_kind_of_error_in_ansibles_order() -> None:
    out = validate(
        SPEC,
        {"count": "x", "mode": "c", "conf": {"bogus": 1}, "items": ["a"]},
    )
    assert list(out.errors) == [
        "missing required arguments: name",
        "argument 'count' is of type str and we were unable to convert to int:"
        " \"'x'\" cannot be converted to an int",
        "Elements value for option 'items' is of type str and we were unable to convert to"
        " int: \"'a'\" cannot be converted to an int",
        "value of mode must be one of: a, b, got: c",
        "missing required arguments: port found in conf",
        "conf.bogus. Supported parameters include: host, port.",
    ]


def test_an_unknown_parameter_lists_the_supported_ones_with_aliases() -> None:
    spec = {"a": {"aliases": ["x", "y"]}, "b": {}}
    assert validate(spec, {"z": 1}).errors == ("z. Supported parameters include: a, b (x, y).",)
    assert validate({}, {"z": 1}).errors == ("z. Supported parameters include: .",)


def test_an_alias_sets_its_option() -> None:
    out = validate({"a": {"type": "int", "aliases": ["x"]}}, {"x": "4"})
    assert out.ok and out.params["a"] == 4


def test_nested_errors_name_their_context() -> None:
    spec = {
        "l": {
            "type": "list",
            "elements": "dict",
            "options": {"p": {"type": "int", "required": True}, "q": {"choices": ["x", "y"]}},
        },
        "d": {"type": "dict", "options": {"e": {"type": "int"}}},
    }
    out = validate(spec, {"l": [{"q": "z"}, "str", {"p": 1, "r": 2}], "d": {"e": "no"}})
    assert list(out.errors) == [
        "dictionary requested, could not parse JSON or key=value",
        "Elements value for option 'l' is of type str and we were unable to convert to dict:"
        " dictionary requested, could not parse JSON or key=value",
        "missing required arguments: p found in l",
        "value of q must be one of: x, y, got: z found in l",
        "argument 'e' is of type str found in 'd'. and we were unable to convert to int:"
        " \"'no'\" cannot be converted to an int",
        "l.r. Supported parameters include: p, q.",
    ]


def test_sub_option_rules_mutually_exclusive_together_one_of_if_by() -> None:
    def errors(rules: dict[str, Any], value: dict[str, Any]) -> list[str]:
        spec = {"a": {"type": "dict", "options": {"p": {}, "q": {}, "r": {}}, **rules}}
        return list(validate(spec, {"a": value}).errors)

    assert errors({"mutually_exclusive": [["p", "q"]]}, {"p": 1, "q": 2}) == [
        "parameters are mutually exclusive: p|q found in a"
    ]
    assert errors({"required_together": [["p", "r"]]}, {"p": 1}) == [
        "parameters are required together: p, r found in a"
    ]
    assert errors({"required_one_of": [["p", "q"]]}, {}) == [
        "one of the following is required: p, q found in a"
    ]
    assert errors({"required_if": [["p", "x", ["q", "r"]]]}, {"p": "x", "r": 1}) == [
        "p is x but all of the following are missing: q found in a"
    ]
    assert errors({"required_if": [["p", "x", ["q", "r"], True]]}, {"p": "x"}) == [
        "p is x but any of the following are missing: q, r found in a"
    ]
    assert errors({"required_by": {"p": "q"}}, {"p": 1}) == [
        "missing parameter(s) required by 'p': q found in a"
    ]


def test_apply_defaults_fills_an_absent_dict() -> None:
    spec = {"a": {"type": "dict", "apply_defaults": True, "options": {"p": {"default": 1}}}}
    assert validate(spec, {}).params == {"a": {"p": "1"}}  # no type: str


def test_choices_of_a_boolean_word_match_the_one_boolean_among_them() -> None:
    out = validate({"a": {"choices": [True, "no"]}}, {"a": "False"})
    assert out.ok and out.params["a"] == "no"


def test_a_list_value_against_choices_names_the_ones_that_do_not_match() -> None:
    out = validate({"a": {"type": "list", "choices": ["x", "y"]}}, {"a": ["x", "q", "r"]})
    assert out.errors == ("value of a must be one or more of: x, y. Got no match for: q, r",)


def test_a_spec_mistake_is_reported_as_ansible_reports_it_when_the_option_is_used() -> None:
    assert validate({"a": {"type": "string"}}, {}).ok  # unused: never noticed
    assert validate({"a": {"type": "string"}}, {"a": "x"}).errors == (
        "argument 'a' is of type str and we were unable to convert to string:"
        " 'NoneType' object is not callable",
    )
    assert validate({"a": {"required": True, "default": 1}}, {}).errors == (
        "internal error: required and default are mutually exclusive for a",
    )
    assert validate({"a": {"choices": "ab"}}, {"a": "a"}).errors == (
        "internal error: choices for argument a are not iterable: ab",
    )


def test_an_option_that_is_not_a_mapping_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="option 'a'"):
        validate({"a": "str"}, {})


def test_no_log_option_values_are_collected_for_masking() -> None:
    spec = {"pw": {"no_log": True}, "d": {"type": "dict", "options": {"k": {"no_log": True}}}}
    out = validate(spec, {"pw": "hunter22", "d": {"k": ["s3cret"]}})
    assert out.no_log_values == {"hunter22", "s3cret"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (2.0, 2), ("1e3", 1000), (True, True)],
)
def test_int_conversion(value: Any, expected: Any) -> None:
    assert check_int(value) == expected


@pytest.mark.parametrize("value", ["1.5", 1.5, "x", [1], "inf", "nan"])
def test_int_refusals_quote_the_value(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot be converted to an int"):
        check_int(value)


def test_conversions_of_lists_dicts_and_booleans() -> None:
    assert check_list("a,b") == ["a", "b"]
    assert check_list(3) == ["3"]
    assert check_dict("k=v, z='a b'") == {"k": "v", "z": "a b"}
    assert check_dict('{"a": 1}') == {"a": 1}
    assert check_dict("{'a': 1}") == {"a": 1}
    assert check_bool(" Yes") is True and check_bool(0) is False
    with pytest.raises(TypeError, match="The value 'maybe' is not a valid boolean"):
        check_bool("maybe")
    with pytest.raises(TypeError, match="<class 'dict'> cannot be converted to a list"):
        check_list({"a": 1})
