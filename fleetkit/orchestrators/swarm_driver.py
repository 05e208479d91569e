"""The Swarm driver's entry for open_orchestrator: an engine through the host's connection.

Driver settings (host variables): `docker_socket` (default /var/run/docker.sock),
`docker_tunnel` (auto | streamlocal | dial-stdio), `docker_api_version`,
`swarm_settle_timeout` (seconds reads are retried while the swarm settles; see
swarm_settle).
"""

from __future__ import annotations

import sys

from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.factory import DriverContext
from fleetkit.orchestrators.swarm import SwarmOrchestrator


def open_engine(ctx: DriverContext) -> Engine:
    """The host's Docker engine: the run's injected opener, else over the task's own
    connection (see swarm_client)."""
    if ctx.docker_engine is not None:
        return ctx.docker_engine(ctx)
    from fleetkit.orchestrators.swarm_client import DOCKER_SOCKET, engine_for
    from fleetkit.orchestrators.swarm_settle import Settle, settle_timeout

    variables = ctx.variables
    settle = Settle(timeout_s=settle_timeout(variables.get("swarm_settle_timeout")), notice=_notice)
    return engine_for(
        ctx.conn,
        host=ctx.host,
        runner=ctx.run,
        socket_path=str(variables.get("docker_socket") or DOCKER_SOCKET),
        tunnel=variables.get("docker_tunnel") or "auto",
        api_version=variables.get("docker_api_version") or None,
        settle=settle,
    )


def _notice(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def open_driver(ctx: DriverContext) -> SwarmOrchestrator:
    """The Orchestrator for the swarm this host manages."""
    return SwarmOrchestrator(open_engine(ctx), source=ctx.host)
