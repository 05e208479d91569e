"""swarm_join: join this host's engine to the swarm as a worker or a manager.

Already in *this* swarm: ok, unchanged. In another swarm: an error (it never
leaves and rejoins silently). The token is a Secret passed to the engine API
in a request body over the SSH tunnel: never on a command line, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.swarm_common import SwarmModule, change_result
from fleetkit.orchestrators.base import Secret
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.swarm_nodes import DEFAULT_LISTEN, join


def as_secret(value: Any) -> Secret | None:
    """A Secret from a Secret or a plain string (None/empty: no token)."""
    if value is None or isinstance(value, Secret):
        return value
    text = str(value).strip()
    return Secret(text) if text else None


class SwarmJoin(SwarmModule):
    name = "swarm_join"
    args: ClassVar[dict[str, Arg]] = {
        "join_token": Arg("raw", secret=True, aliases=("token",)),
        "remote_addrs": Arg("list", required=True, aliases=("manager_addr", "managers")),
        "role": Arg("str", default="worker", choices=("worker", "manager")),
        "advertise_addr": Arg("str"),
        "listen_addr": Arg("str", default=DEFAULT_LISTEN),
        "cluster_id": Arg("str"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if not args.get("remote_addrs"):
            return ["module swarm_join: remote_addrs needs at least one manager address"]
        return []

    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        advertise = ctx.arg("advertise_addr") or str(ctx.variables.get("ansible_host") or ctx.host)
        change = join(
            engine,
            token=as_secret(ctx.arg("join_token")),
            remote_addrs=[str(a) for a in ctx.arg("remote_addrs")],
            role=str(ctx.arg("role")),
            advertise_addr=advertise,
            listen_addr=str(ctx.arg("listen_addr")),
            cluster_id=str(ctx.arg("cluster_id") or ""),
            check=ctx.check,
        )
        return change_result(change, role=ctx.arg("role"))
