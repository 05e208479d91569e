"""What every swarm_* module shares: an engine for the task's host, waits, results.

A module gets its Engine from a factory given at construction (the registry's
instances tunnel the Docker API over the host's SSH connection; tests pass a
FakeSwarm's engines), so nothing here is global. Orchestrator errors become a
failed result with the reason; a lost SSH connection still propagates
(the host is unreachable).
"""

from __future__ import annotations

import sys
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import IO, Any, ClassVar

from fleetkit.errors import OrchestratorError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult
from fleetkit.orchestrators.base import Change, WaitOptions
from fleetkit.orchestrators.convergence import Progress, ProgressCallback, WaitPolicy
from fleetkit.orchestrators.engine import Engine

EngineFactory = Callable[[ModuleContext], Engine]

WAIT_ARGS: dict[str, Arg] = {
    "wait": Arg("bool", default=True),
    "wait_timeout": Arg("float", default=300.0),
    "poll_interval": Arg("float"),
}
PROGRESS_EVERY_S = 10.0


def ssh_engine(ctx: ModuleContext) -> Engine:
    """The host's engine, over the task's own connection (see orchestrators/swarm_client)."""
    from fleetkit.orchestrators.swarm_client import DOCKER_SOCKET, engine_for

    variables = ctx.variables
    return engine_for(
        ctx.conn,
        host=ctx.host,
        runner=ctx.run,
        socket_path=str(variables.get("docker_socket") or DOCKER_SOCKET),
        tunnel=variables.get("docker_tunnel") or "auto",
        api_version=variables.get("docker_api_version") or None,
    )


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
    if progress is None and ctx.variables.get("swarm_progress", True) not in (False, "false", "no"):
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


class SwarmModule(Module):
    """A module that acts through one Docker engine (the task's host)."""

    needs_manager: ClassVar[bool] = True

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
            msg = err.message + (f" (hint: {err.hint})" if err.hint else "")
            return ModuleResult(failed=True, msg=msg)
        finally:
            engine.close()

    @abstractmethod
    def act(self, ctx: ModuleContext, engine: Engine) -> ModuleResult:
        """Do the module's work on engine."""


def check_spec_args(module: str, args: Mapping[str, Any]) -> list[str]:
    """Parse the service arguments once before running: messages for the bad ones."""
    from fleetkit.orchestrators.spec_args import service_spec

    try:
        service_spec(args)
    except (ValueError, TypeError) as err:
        return [f"module {module}: {err}"]
    return []
