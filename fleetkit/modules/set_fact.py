"""set_fact: set host variables for the rest of the run (no host is touched).

Keys may be templates (`"{{ prefix }}_port": 8080`), rendered with the values as the
task's arguments are; each rendered key must be a variable name, as ansible-core 2.19's
validate_variable_name requires.
"""

from __future__ import annotations

from fleetkit.modules.base import Module, ModuleContext, ModuleResult, fail

JINJA_KEYWORDS = frozenset({"False", "None", "True", "false", "none", "not", "true"})
"""Names a template cannot read as variables (ansible-core 2.19's _jinja_bits.JINJA_KEYWORDS)."""


def valid_name(name: object) -> bool:
    """A name set_fact may define: an ASCII identifier that is no Jinja keyword."""
    return (
        isinstance(name, str)
        and name.isidentifier()
        and name.isascii()
        and name not in JINJA_KEYWORDS
    )


class SetFact(Module):
    name = "set_fact"
    local = True
    free_args = True

    def run(self, ctx: ModuleContext) -> ModuleResult:
        facts = {k: v for k, v in ctx.args.items() if k != "cacheable"}
        if not facts:
            return fail(
                "No key/value pairs provided, at least one is required for this action to succeed"
            )
        for key in facts:
            if not valid_name(key):
                shown = f" {str(key)!r}" if isinstance(key, (str, int, float, bool)) else ""
                return fail(f"Task failed: Invalid variable name{shown}.")
        return ModuleResult(
            msg=", ".join(sorted(facts)),
            facts=facts,
            registered={"ansible_facts": facts, "changed": False, "failed": False},
        )
