"""set_fact: set host variables for the rest of the run (no host is touched)."""

from __future__ import annotations

from fleetkit.modules.base import Module, ModuleContext, ModuleResult


class SetFact(Module):
    name = "set_fact"
    local = True
    free_args = True

    def run(self, ctx: ModuleContext) -> ModuleResult:
        facts = {k: v for k, v in ctx.args.items() if k != "cacheable"}
        return ModuleResult(
            msg=", ".join(sorted(facts)),
            facts=facts,
            registered={"ansible_facts": facts, "changed": False, "failed": False},
        )
