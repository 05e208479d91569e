"""What the Swarm-only modules (init, join, leave, node) share: the host's Docker engine.

They act on one engine (the task's host), not on a cluster's services, so they
take an `Engine` rather than an Orchestrator. The registry's instances tunnel
the Docker API over the host's SSH connection; tests pass a FakeSwarm's
engines. The service modules live in cluster_common (any driver); their helpers
are re-exported here for code written against the Swarm-only names.
"""

from __future__ import annotations

from abc import abstractmethod

from fleetkit.errors import OrchestratorError
from fleetkit.modules.base import Module, ModuleContext, ModuleResult
from fleetkit.modules.cluster_common import (
    PROGRESS_EVERY_S,
    WAIT_ARGS,
    EngineFactory,
    change_result,
    check_spec_args,
    driver_context,
    failed,
    progress_printer,
    wait_options,
)
from fleetkit.orchestrators.engine import Engine

__all__ = [
    "PROGRESS_EVERY_S",
    "WAIT_ARGS",
    "EngineFactory",
    "SwarmModule",
    "change_result",
    "check_spec_args",
    "progress_printer",
    "ssh_engine",
    "wait_options",
]


def ssh_engine(ctx: ModuleContext) -> Engine:
    """The host's engine, over the task's own connection (see orchestrators/swarm_client)."""
    from fleetkit.orchestrators.swarm_driver import open_engine

    return open_engine(driver_context(ctx))


class SwarmModule(Module):
    """A module that acts through one Docker engine (the task's host)."""

    def __init__(self, engines: EngineFactory | None = None) -> None:
        self._engines = engines

    def run(self, ctx: ModuleContext) -> ModuleResult:
        try:
            engine = (self._engines or ssh_engine)(ctx)
        except OrchestratorError as err:
            return ModuleResult(failed=True, msg=err.message)
        try:
            return self.act(ctx, engine)
        except OrchestratorError as err:
            return failed(err)
        finally:
            engine.close()

    @abstractmethod
    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        """Do the module's work on engine."""
