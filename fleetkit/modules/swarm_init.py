"""swarm_init: make the first manager start a swarm (ok when it already manages one).

Registers cluster_id, node_id, manager_addr and join_tokens (worker, manager)
and sets them as facts (`swarm_facts`, `swarm_join_tokens`). The tokens are
Secrets: str(), repr() and JSON give '********', so no output, log or JSON shows
them. Use `run_once` so every host of the play gets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import SwarmModule, change_result
from fleetkit.orchestrators.base import Secret
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm_nodes import DEFAULT_LISTEN, init, with_port


def parity_warning(managers: int | None) -> str | None:
    """A warning for a planned even manager count."""
    if managers is None or managers <= 0 or managers % 2 == 1:
        return None
    return (
        f"{managers} managers planned: an even count tolerates no more failures than"
        f" {managers - 1}; use an odd number (1, 3, 5)"
    )


class SwarmInit(SwarmModule):
    name = "swarm_init"
    args: ClassVar[dict[str, Arg]] = {
        "advertise_addr": Arg("str"),
        "listen_addr": Arg("str", default=DEFAULT_LISTEN),
        "managers": Arg("int"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        managers = args.get("managers")
        if managers is not None and managers < 1:
            return ["module swarm_init: managers must be 1 or more"]
        return []

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        advertise = ctx.arg("advertise_addr") or str(ctx.variables.get("ansible_host") or ctx.host)
        change, info = init(
            engine,
            advertise_addr=advertise,
            listen_addr=str(ctx.arg("listen_addr")),
            check=ctx.check,
        )
        warning = parity_warning(ctx.arg("managers"))
        if warning:
            change = type(change)(change.changed, change.message, warnings=(warning,))
        if info is None:  # check mode on a host with no swarm yet: placeholders
            facts: dict[str, Any] = {
                "swarm_facts": {
                    "cluster_id": "",
                    "node_id": "",
                    "manager_addr": with_port(advertise),
                },
                "swarm_join_tokens": {"worker": Secret(""), "manager": Secret("")},
            }
        else:
            facts = {
                "swarm_facts": {
                    "cluster_id": info.cluster_id,
                    "node_id": info.node_id,
                    "manager_addr": info.manager_addr,
                },
                "swarm_join_tokens": info.tokens.as_facts(),
            }
        # Registered data carries the tokens too (as Secrets, masked in every output),
        # so `register:` + run_once hands them to the joining hosts.
        result = change_result(
            change, **facts["swarm_facts"], join_tokens=facts["swarm_join_tokens"]
        )
        return ModuleResult(
            changed=result.changed,
            failed=result.failed,
            msg=result.msg,
            data=result.data,
            facts=facts,
        )
