"""fleetkit's argument spec validator against ansible-core 2.19's ArgumentSpecValidator.

The same spec and values through both, in this process: the error messages (in
order) must be the same, and for valid values the validated values too. The one
normalisation: ansible-core lists the valid booleans in its set's order, which
changes with each process's hash seed (docs/contracts.md, Role argument specs).
Two inputs are left out because ansible-core crashes on them (an int option given
"inf", a dict with options given an int): fleetkit reports them as errors.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fleetkit.modules.argspec import validate

pytestmark = pytest.mark.compat

BOOLEANS = re.compile(r"Valid booleans include: .*$")

CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"a": {"type": "int"}}, {"a": "12"}),
    ({"a": {"type": "int"}}, {"a": 1.5}),
    ({"a": {"type": "int"}}, {"a": [1]}),
    ({"a": {"type": "float"}}, {"a": "x"}),
    ({"a": {"type": "bool"}}, {"a": "maybe"}),
    ({"a": {"type": "bool"}}, {"a": 2}),
    ({"a": {"type": "bool"}}, {"a": [2]}),
    ({"a": {"type": "list"}}, {"a": {"x": 1}}),
    ({"a": {"type": "list", "elements": "int"}}, {"a": "1,2,x"}),
    ({"a": {"type": "dict"}}, {"a": "k=v, z=1"}),
    ({"a": {"type": "dict"}}, {"a": "k=v z"}),
    ({"a": {"type": "dict"}}, {"a": "{'a': 1}"}),
    ({"a": {"type": "dict"}}, {"a": "{bad"}),
    ({"a": {"type": "dict"}}, {"a": 5}),
    ({"a": {"type": "bytes"}}, {"a": "2M"}),
    ({"a": {"type": "bytes"}}, {"a": "2Mb"}),
    ({"a": {"type": "bits"}}, {"a": "2Mb"}),
    ({"a": {"type": "jsonarg"}}, {"a": {"b": [1, 2]}}),
    ({"a": {"type": "jsonarg"}}, {"a": 5}),
    ({"a": {"type": "strr"}}, {"a": "x"}),
    ({"a": {"type": "str"}}, {"a": None}),
    ({"a": {"type": "str", "required": True}}, {"a": None}),
    ({"a": {"type": "str", "required": True}}, {}),
    ({"a": {"type": "str", "required": True, "default": "x"}}, {"b": 1}),
    ({"a": {"type": "str", "aliases": "x"}}, {}),
    ({"a": {"type": "str", "aliases": ["x", "y"]}, "b": {}}, {"x": 1, "z": 2}),
    ({"a": {"choices": ["x", "y"]}}, {"a": "z"}),
    ({"a": {"choices": ["x", "y"], "type": "list"}}, {"a": ["x", "q", "r"]}),
    ({"a": {"choices": [True, "no"]}}, {"a": "False"}),
    ({"a": {"choices": ["yes", "no"]}}, {"a": "True"}),
    ({"a": {"choices": "xy"}}, {"a": "x"}),
    ({"a": {"choices": [1, 2], "type": "int"}}, {"a": "3"}),
    (
        {
            "a": {
                "type": "dict",
                "options": {
                    "p": {"type": "int", "required": True},
                    "q": {"default": 5, "type": "int"},
                },
            }
        },
        {"a": {"z": 1}},
    ),
    ({"a": {"type": "dict", "options": {"p": {"type": "int"}}}}, {"a": "p=1"}),
    (
        {"a": {"type": "list", "elements": "dict", "options": {"p": {"type": "int"}}}},
        {"a": [{"p": "x"}, 3, "p=2"]},
    ),
    ({"a": {"type": "list", "elements": "dict", "options": {"p": {"type": "int"}}}}, {"a": "nope"}),
    ({"a": {"type": "dict", "apply_defaults": True, "options": {"p": {"default": 1}}}}, {}),
    (
        {
            "a": {
                "type": "dict",
                "options": {"p": {}, "q": {}},
                "mutually_exclusive": [["p", "q"]],
                "required_together": [["p", "r"]],
            }
        },
        {"a": {"p": 1, "q": 2}},
    ),
    (
        {"a": {"type": "dict", "options": {"p": {}, "q": {}}, "required_one_of": [["p", "q"]]}},
        {"a": {}},
    ),
    (
        {
            "a": {
                "type": "dict",
                "options": {"p": {}, "q": {}, "r": {}},
                "required_if": [["p", "x", ["q", "r"]], ["p", "x", ["q", "r"], True]],
            }
        },
        {"a": {"p": "x", "r": 1}},
    ),
    (
        {
            "a": {
                "type": "dict",
                "options": {"p": {}, "q": {}, "r": {}},
                "required_if": [["p", "x", ["q", "r"], True]],
            }
        },
        {"a": {"p": "x"}},
    ),
    (
        {"a": {"type": "dict", "options": {"p": {}, "q": {}}, "required_by": {"p": "q"}}},
        {"a": {"p": 1}},
    ),
    (
        {
            "a": {
                "type": "dict",
                "options": {
                    "b": {"type": "dict", "options": {"c": {"type": "int", "required": True}}}
                },
            }
        },
        {"a": {"b": {"c": "x", "d": 1}}},
    ),
    ({"a": {"type": "str", "elements": "str"}}, {"a": "x"}),
    ({"a": {"type": "dict", "elements": "str"}}, {"a": {"k": 1}}),
    ({"a": {"type": "list", "elements": "str", "no_log": True}}, {"a": ["s3cret"]}),
    ({}, {"z": 1, "y": 2}),
    ({"a": {"type": "int", "default": "x"}}, {}),
    ({"a": {"type": "int"}}, {"a": True}),
    ({"a": {"type": "float"}}, {"a": 3}),
    ({"a": {"type": "path"}}, {"a": 5}),
    (
        {"a": {"type": "list", "elements": "dict", "options": {"p": {"choices": [1]}}}},
        {"a": [{"p": 2}, {"p": 1}]},
    ),
]
"""(spec, values): every type, conversion, choice, alias, nesting and sub-option rule."""


def _normal(messages: list[str]) -> list[str]:
    return [BOOLEANS.sub("Valid booleans include: ...", m) for m in messages]


@pytest.mark.parametrize(("spec", "values"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_the_same_errors_and_values_as_ansible_core(
    spec: dict[str, Any], values: dict[str, Any]
) -> None:
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    plain = json.loads(json.dumps(values))
    theirs = ArgumentSpecValidator(json.loads(json.dumps(spec))).validate(plain)
    ours = validate(spec, values)
    assert _normal(list(ours.errors)) == _normal(list(theirs.error_messages))
    if not theirs.error_messages:
        assert dict(ours.params) == dict(theirs.validated_parameters)
