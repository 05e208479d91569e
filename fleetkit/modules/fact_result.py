"""The result of a module that returns facts (setup, getent, package_facts).

Ansible keeps a module's `ansible_facts` in the host's fact cache: each name becomes
a top-level variable and is merged into `ansible_facts` (`ansible_` stripped);
`register:` stores the module's own `ansible_facts` with changed/failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetkit.executor.facts import injected
from fleetkit.modules.base import ModuleContext, ModuleResult


def fact_result(
    ctx: ModuleContext, facts: Mapping[str, Any], *, msg: str = "", note: str = ""
) -> ModuleResult:
    """facts as the task's result; msg is also registered (Ansible's `msg`), note is not."""
    registered: dict[str, Any] = {"ansible_facts": dict(facts), "changed": False, "failed": False}
    if msg:
        registered["msg"] = msg
    previous = ctx.variables.get("ansible_facts")
    return ModuleResult(
        msg=msg or note,
        data={"ansible_facts": dict(facts)},
        facts=injected(facts, previous if isinstance(previous, Mapping) else None),
        registered=registered,
    )
