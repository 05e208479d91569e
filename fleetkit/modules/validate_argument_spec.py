"""validate_argument_spec: check variables and given arguments against an argument spec.

As ansible-core 2.19's action: each option of the spec that is a variable of the
host is taken from its variables (rendered), `provided_arguments` win over them,
and the result registers what Ansible registers: `msg`, `validate_args_context`,
and on failure `argument_errors` and `argument_spec_data`. The spec's defaults
are not set as variables (they only complete the checked values). A role's
meta/argument_specs.yml becomes such a task at the start of the role (load.py).
Values of `no_log` options are masked in every output from then on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.argspec import SpecError, validate
from fleetkit.modules.argspec_types import type_name
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.report.redact import register_secret

PASSED = "The arg spec validation passed"
FAILED = "Validation of arguments failed:\n"


class ValidateArgumentSpec(Module):
    name = "validate_argument_spec"
    local = True
    args: ClassVar[dict[str, Arg]] = {
        "argument_spec": Arg("raw", required=True),
        "provided_arguments": Arg("raw", default={}),
        "validate_args_context": Arg("raw", default={}),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        spec = ctx.arg("argument_spec")
        provided = ctx.args.get("provided_arguments", {})
        context = ctx.arg("validate_args_context")
        context = dict(context) if isinstance(context, Mapping) else {}
        for label, value in (("argument_spec", spec), ("provided_arguments", provided)):
            if not isinstance(value, Mapping):
                return fail(
                    f"Incorrect type for {label}, expected dict and got <class"
                    f" '{type_name(value)}'>"
                )
        from_vars = {name: ctx.variables[name] for name in spec if name in ctx.variables}
        try:
            outcome = validate(spec, {**from_vars, **provided})
        except SpecError as err:
            return fail(f"{_subject(context)}: {err}")
        for secret in outcome.no_log_values:
            register_secret(secret)
        if outcome.ok:
            return ModuleResult(
                msg=PASSED,
                registered={
                    "changed": False,
                    "failed": False,
                    "msg": PASSED,
                    "validate_args_context": context,
                },
            )
        msg = FAILED + "\n".join(outcome.errors)
        registered = {
            "argument_errors": list(outcome.errors),
            "argument_spec_data": spec,
            "changed": False,
            "failed": True,
            "msg": msg,
            "validate_args_context": context,
        }
        shown = f"{_subject(context)}: {msg}" if context else msg
        return fail(shown, registered=registered)


def _subject(context: Mapping[str, Any]) -> str:
    """ "role 'web', argument spec 'main'" for fleetkit's own message (Ansible's names none)."""
    if context.get("type") == "role":
        return f"role '{context.get('name')}', argument spec '{context.get('argument_spec_name')}'"
    return "validate_argument_spec"
