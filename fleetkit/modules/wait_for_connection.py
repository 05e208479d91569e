"""wait_for_connection: wait until the host answers a command over its connection again.

Retries open + a trivial command (closing the broken connection between tries)
until timeout; changes nothing. reboot uses the same loop for its reconnect wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from fleetkit.connection.base import CommandResult
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail

PING = "echo fleetkit-ping"


@dataclass(frozen=True)
class Waited:
    """How a reconnect wait ended: the last answer (None if none came), time and tries."""

    result: CommandResult | None
    elapsed_s: float
    tries: int
    error: str = ""


def wait_until(
    ctx: ModuleContext,
    command: str,
    *,
    timeout_s: float,
    connect_timeout_s: float,
    sleep_s: float,
    accept: Callable[[CommandResult], bool] = lambda r: r.ok,
) -> Waited:
    """Run command until accept(result) or timeout; a lost connection is reopened."""
    sleep = ctx.sleep or time.sleep
    start = time.monotonic()
    tries = 0
    error = ""
    while True:
        tries += 1
        try:
            res = ctx.conn.run(command, timeout=connect_timeout_s, become=ctx.become)
            if accept(res):
                return Waited(res, time.monotonic() - start, tries)
            error = res.stderr.strip() or f"rc={res.rc}"
        except HostConnectionError as err:
            error = str(err)
            ctx.conn.close()
        if time.monotonic() - start + sleep_s > timeout_s:
            return Waited(None, time.monotonic() - start, tries, error)
        sleep(sleep_s)


class WaitForConnection(Module):
    name = "wait_for_connection"
    args: ClassVar[dict[str, Arg]] = {
        "connect_timeout": Arg("float", default=5.0),
        "delay": Arg("float", default=0.0),
        "sleep": Arg("float", default=1.0),
        "timeout": Arg("float", default=600.0),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        delay = float(ctx.arg("delay"))
        if delay:
            (ctx.sleep or time.sleep)(delay)
        waited = wait_until(
            ctx,
            PING,
            timeout_s=float(ctx.arg("timeout")),
            connect_timeout_s=float(ctx.arg("connect_timeout")),
            sleep_s=float(ctx.arg("sleep")),
        )
        elapsed = round(waited.elapsed_s + delay, 3)
        if waited.result is None:
            return fail(
                f"timed out waiting for connection after {elapsed:g}s: {waited.error}",
                data={"elapsed": elapsed},
            )
        return ModuleResult(msg=f"connected after {elapsed:g}s", data={"elapsed": elapsed})
