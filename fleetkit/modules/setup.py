"""setup: Ansible's facts for the host (`ansible_facts`, `ansible_os_family`...), one round trip.

Runs the one fact script (executor/facts.py) and returns its Ansible view
(executor/ansible_facts.py), trimmed to gather_subset and filter. The facts
become host variables both as `ansible_facts.<name>` and `ansible_<name>`, as
Ansible injects them. Changes nothing, so check mode gathers too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.executor.ansible_facts import SUBSETS, ansible_facts, resolve_subsets, select
from fleetkit.executor.facts import FACTS_SCRIPT
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.text import did_you_mean

KNOWN_SUBSETS = (*SUBSETS, "all", "facter", "ohai")


class Setup(Module):
    name = "setup"
    args: ClassVar[dict[str, Arg]] = {
        "gather_subset": Arg("list", default=["all"]),
        "filter": Arg("list", default=[]),
        "gather_timeout": Arg("int", default=10),
        "fact_path": Arg("path", default="/etc/ansible/facts.d"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors: list[str] = []
        for word in args.get("gather_subset") or []:
            name = str(word).strip().lstrip("!")
            if name not in KNOWN_SUBSETS:
                tail = did_you_mean(name, KNOWN_SUBSETS)
                errors.append(
                    f"module setup: unknown gather_subset '{name}'{tail};"
                    f" fleetkit gathers {', '.join(KNOWN_SUBSETS)}"
                )
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        res = ctx.run(FACTS_SCRIPT)
        if not res.ok:
            why = "timed out" if res.timed_out else (res.stderr.strip() or f"rc={res.rc}")
            return fail(f"cannot gather facts: {why}", rc=res.rc)
        wanted = [str(w) for w in ctx.arg("gather_subset") or ["all"]]
        chosen = resolve_subsets(wanted)
        facts = select(ansible_facts(res.stdout), chosen, [str(p) for p in ctx.arg("filter")])
        facts["gather_subset"] = wanted
        facts["module_setup"] = True
        injected: dict[str, Any] = {
            f"ansible_{k}": v for k, v in facts.items() if k != "module_setup"
        }
        injected["module_setup"] = True
        injected["ansible_facts"] = facts
        return ModuleResult(
            msg=f"{len(facts)} facts ({', '.join(sorted(chosen))})",
            data={"ansible_facts": facts},
            facts=injected,
        )
