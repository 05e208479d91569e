"""What every cluster module shares: an Orchestrator for the task's host, waits, results.

A module asks `open_orchestrator` (orchestrators/factory.py) for the driver the
host's `orchestrator` variable names, so it never sees Docker or Kubernetes
types. Tests inject a factory (or, for Swarm, an engine factory). Orchestrator
errors become a failed result with the reason; a lost SSH connection still
propagates (the host is unreachable).
"""

from __future__ import annotations

import sys
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import IO, Any

from fleetkit.errors import OrchestratorError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult
from fleetkit.orchestrators.base import Change, Orchestrator, WaitOptions
from fleetkit.orchestrators.convergence import Progress, ProgressCallback, WaitPolicy
from fleetkit.orchestrators.engine import Engine
from fleetkit.orchestrators.factory import DriverContext, driver_name, open_orchestrator
from fleetkit.text import truthy

EngineFactory = Callable[[ModuleContext], Engine]
OrchestratorFactory = Callable[[ModuleContext], Orchestrator]

WAIT_ARGS: dict[str, Arg] = {
    "wait": Arg("bool", default=True),
    "wait_timeout": Arg("float", default=300.0),
    "poll_interval": Arg("float"),
}
PROGRESS_EVERY_S = 10.0


def driver_context(ctx: ModuleContext) -> DriverContext:
    """The driver's view of a module call: host, connection, shell runner, variables."""
    return DriverContext(
        host=ctx.host,
        conn=ctx.conn,
        run=ctx.run,
        variables=ctx.variables,
        become=ctx.become,
        docker_engine=ctx.docker_engine,
    )


def ssh_orchestrator(ctx: ModuleContext) -> Orchestrator:
    """The host's orchestrator (the driver its variables name), over its own connection."""
    return open_orchestrator(driver_context(ctx))


def progress_printer(host: str, stream: IO[str] | None = None) -> ProgressCallback:
    """A live line on a terminal (rewritten in place); every 10 s a line otherwise."""
    out = stream if stream is not None else sys.stderr
    tty = out.isatty()
    last = [0.0]

    def show(p: Progress) -> None:
        line = f"{host}  {p.label}: {p.message} [{p.elapsed_s:.1f}s, {p.polls} polls]"
        if tty:
            out.write("\r\x1b[K" + line + ("\n" if p.finished else ""))
        elif not p.finished and p.elapsed_s - last[0] >= PROGRESS_EVERY_S:
            out.write(line + "\n")
            last[0] = p.elapsed_s
        else:
            return
        out.flush()

    return show


def _shows_progress(variables: Mapping[str, Any]) -> bool:
    flag = variables.get("cluster_progress", variables.get("swarm_progress", True))
    return truthy(flag)


def wait_options(ctx: ModuleContext) -> WaitOptions:
    """wait / wait_timeout / poll_interval arguments, with a progress display."""
    first = ctx.arg("poll_interval")
    policy = WaitPolicy(timeout_s=float(ctx.arg("wait_timeout") or 300.0))
    if first is not None:
        policy = WaitPolicy(
            timeout_s=policy.timeout_s,
            first_interval_s=float(first),
            max_interval_s=max(policy.max_interval_s, float(first)),
        )
    progress: ProgressCallback | None = getattr(ctx, "progress", None)
    if progress is None and _shows_progress(ctx.variables):
        progress = progress_printer(ctx.host)
    return WaitOptions(
        wait=ctx.arg("wait") is not False,
        policy=policy,
        progress=progress,
        sleep=ctx.sleep or time.sleep,
    )


def change_result(change: Change, **data: Any) -> ModuleResult:
    """A Change as a module result: msg, warnings, and the wait's cost in data."""
    msg = change.message
    if change.warnings:
        msg += "; warning: " + "; warning: ".join(change.warnings)
    out: dict[str, Any] = dict(data)
    if change.fields:
        out["fields"] = list(change.fields)
    if change.warnings:
        out["warnings"] = list(change.warnings)
    if change.wait is not None:
        out["wait"] = {
            "converged": change.wait.converged,
            "seconds": round(change.wait.elapsed_s, 3),
            "polls": change.wait.polls,
            "api_calls": change.wait.api_calls,
        }
    if change.status is not None:
        from fleetkit.orchestrators.base import service_dict

        out["service"] = service_dict(change.status)
    return ModuleResult(changed=change.changed, failed=change.failed, msg=msg, data=out)


def failed(err: OrchestratorError) -> ModuleResult:
    """An orchestrator refusal or engine error as the task's failure."""
    return ModuleResult(failed=True, msg=err.message + (f" (hint: {err.hint})" if err.hint else ""))


def check_spec_args(module: str, args: Mapping[str, Any]) -> list[str]:
    """Parse the service arguments once before running: messages for the bad ones."""
    from fleetkit.orchestrators.spec_args import service_spec

    try:
        service_spec(args)
    except (ValueError, TypeError) as err:
        return [f"module {module}: {err}"]
    return []


class ClusterModule(Module):
    """A module that acts through the host's orchestrator (Swarm or Kubernetes).

    `engines` (a Swarm engine factory) and `orchestrators` are for tests and
    embedding; by default the driver comes from the host's variables.
    """

    def __init__(
        self,
        engines: EngineFactory | None = None,
        *,
        orchestrators: OrchestratorFactory | None = None,
    ) -> None:
        self._orchestrators = orchestrators
        if orchestrators is None and engines is not None:
            self._orchestrators = _swarm_over(engines)

    def driver(self, ctx: ModuleContext) -> str:
        """The driver this call uses (an injected engine factory is Swarm)."""
        return driver_name(ctx.variables) if self._orchestrators is None else "injected"

    def run(self, ctx: ModuleContext) -> ModuleResult:
        try:
            orchestrator = (self._orchestrators or ssh_orchestrator)(ctx)
        except OrchestratorError as err:
            return failed(err)
        try:
            return self.act(ctx, orchestrator)
        except OrchestratorError as err:
            return failed(err)
        finally:
            orchestrator.close()

    @abstractmethod
    def act(self, ctx: ModuleContext, orchestrator: Orchestrator) -> ModuleResult:
        """Do the module's work through orchestrator."""


def _swarm_over(engines: EngineFactory) -> OrchestratorFactory:
    def make(ctx: ModuleContext) -> Orchestrator:
        from fleetkit.orchestrators.swarm import SwarmOrchestrator

        return SwarmOrchestrator(engines(ctx), source=ctx.host)

    return make
