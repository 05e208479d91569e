"""setup: Ansible's facts for the host (`ansible_facts.os_family`, `ansible_os_family`...).

One round trip: the fact script (executor/facts) prints the host's raw inputs and
the controller runs ansible-core 2.19's collectors on them, trimmed to
gather_subset and filter as Ansible trims them. The registered value is the
module's `ansible_facts` (`ansible_`-prefixed names); the host's variables get
them as Ansible's fact cache does: merged into `ansible_facts` (prefix stripped)
and each as a top-level `ansible_<name>`. The play's implicit gathering runs the
same code (`gather`). Changes nothing, so check mode gathers too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from fleetkit.executor.facts import (
    VALID_SUBSETS,
    Gathered,
    SubsetError,
    from_output,
    script_parts,
)
from fleetkit.executor.facts.script import facts_script
from fleetkit.modules.ansible_fallback.run import interpreter_of
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.fact_result import fact_result
from fleetkit.text import did_you_mean

KNOWN_SUBSETS = ("all", "min", *sorted(VALID_SUBSETS))
FACT_PATH = "/etc/ansible/facts.d"
GATHER_TIMEOUT = 10


class Setup(Module):
    name = "setup"
    args: ClassVar[dict[str, Arg]] = {
        "gather_subset": Arg("list", default=["all"]),
        "filter": Arg("list", default=[]),
        "gather_timeout": Arg("int", default=GATHER_TIMEOUT),
        "fact_path": Arg("path", default=FACT_PATH),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        return subset_errors(args.get("gather_subset") or [], "module setup")

    def run(self, ctx: ModuleContext) -> ModuleResult:
        result, _ = gather(
            ctx,
            gather_subset=[str(w) for w in ctx.arg("gather_subset") or ["all"]],
            filter_spec=[str(p) for p in ctx.arg("filter") or []],
            gather_timeout=int(ctx.arg("gather_timeout") or GATHER_TIMEOUT),
            fact_path=str(ctx.arg("fact_path") or FACT_PATH),
        )
        return result


def subset_errors(words: Iterable[Any], where: str) -> list[str]:
    """Ansible refuses an unknown gather_subset word (an unknown exclusion is ignored)."""
    errors: list[str] = []
    for word in words:
        name = str(word).strip()
        if name.startswith("!") or name in KNOWN_SUBSETS:
            continue
        errors.append(
            f"{where}: unknown gather_subset '{name}'{did_you_mean(name, KNOWN_SUBSETS)}"
            f"; Ansible's subsets: {', '.join(KNOWN_SUBSETS)}"
        )
    return errors


def gather(
    ctx: ModuleContext,
    *,
    gather_subset: list[str],
    filter_spec: list[str] | None = None,
    gather_timeout: int = GATHER_TIMEOUT,
    fact_path: str = FACT_PATH,
) -> tuple[ModuleResult, Gathered | None]:
    """Run the fact script with ctx (its become, environment, interpreter); the setup
    result and, when it worked, both fact views."""
    subset = [w.strip() for w in gather_subset] or ["all"]
    try:
        parts = script_parts(subset)
    except SubsetError as err:
        return fail(str(err)), None
    script = facts_script(
        interpreter_of(ctx.variables, ctx.interpreter_python),
        fact_path=fact_path,
        gather_timeout=gather_timeout,
        parts=parts,
    )
    res = ctx.run(script)
    if not res.ok:
        why = "timed out" if res.timed_out else (res.stderr.strip() or f"rc={res.rc}")
        return fail(f"cannot gather facts: {why}", rc=res.rc), None
    found = from_output(
        res, gather_subset=subset, filter_spec=filter_spec or [], fact_path=fact_path
    )
    facts = found.module_facts
    note = f"{len(facts)} facts ({', '.join(subset)})"
    return fact_result(ctx, facts, note=note), found
