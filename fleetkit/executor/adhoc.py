"""Ad-hoc commands: one shell command on many hosts (what `fleetkit exec` runs)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from fleetkit.connection.base import Connection
from fleetkit.connection.factory import ConnectionFactory
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.executor.pool import HostPool
from fleetkit.inventory.model import Inventory
from fleetkit.report.base import Reporter
from fleetkit.results import RunResult, Status, StepResult


def connection_factory(
    inventory: Inventory, hosts: Sequence[str], extra_vars: Mapping[str, Any] | None = None
) -> ConnectionFactory:
    """A per-run factory for the selected hosts (extra vars override connection vars)."""
    specs = {h: ConnectionSpec.for_host(h, inventory.hosts[h].vars, extra_vars) for h in hosts}
    return ConnectionFactory(specs)


def command_step(
    host: str, conn: Connection, command: str, *, timeout: float | None, become: bool
) -> StepResult:
    """Run command on one host and classify it: rc 0 ok, else failed (timeouts included)."""
    result = conn.run(command, timeout=timeout, become=become)
    cut = (
        " (output truncated: over the output cap, FLEETKIT_MAX_OUTPUT)" if result.truncated else ""
    )
    if result.timed_out:
        return StepResult(
            host=host,
            task=command,
            status=Status.FAILED,
            rc=None,
            stdout=result.stdout,
            stderr=result.stderr,
            msg=(f"timed out after {timeout:g}s (command killed)" if timeout else "timed out")
            + cut,
            duration_s=result.duration_s,
            truncated=result.truncated,
        )
    return StepResult(
        host=host,
        task=command,
        status=Status.OK if result.rc == 0 else Status.FAILED,
        rc=result.rc,
        stdout=result.stdout,
        stderr=result.stderr,
        msg=("" if result.rc == 0 else f"non-zero return code {result.rc}") + cut,
        duration_s=result.duration_s,
        truncated=result.truncated,
    )


def run_adhoc(
    pool: HostPool,
    hosts: Sequence[str],
    command: str,
    reporter: Reporter,
    *,
    timeout: float | None = None,
    become: bool = False,
) -> RunResult:
    """Run command on every host in parallel, streaming results to reporter.

    Ctrl-C stops the run: finished results are kept, the run is marked
    interrupted (exit code 130) and the summary still reports.
    """
    start = time.monotonic()
    done: list[StepResult] = []

    def on_result(result: StepResult) -> None:
        done.append(result)
        reporter.host_result(result)

    reporter.task_start("", command, hosts)
    interrupted = False
    try:
        pool.map(
            hosts,
            command,
            lambda h, c: command_step(h, c, command, timeout=timeout, become=become),
            on_result,
        )
    except KeyboardInterrupt:
        interrupted = True
    return RunResult(
        steps=tuple(done),
        hosts=tuple(hosts),
        duration_s=time.monotonic() - start,
        interrupted=interrupted,
    )
