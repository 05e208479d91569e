"""`fleetkit exec PATTERN -i INV -- COMMAND...`: one command on many hosts."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from fleetkit.cli.common import (
    CommandConfig,
    Seconds,
    ansible_config_options,
    config_inventory_option,
    limit_option,
    persist_option,
    vault_options,
)
from fleetkit.errors import UsageError


@click.command("exec")
@click.argument("pattern")
@config_inventory_option
@limit_option
@ansible_config_options
@vault_options
@persist_option
@click.option(
    "-f",
    "--forks",
    type=click.IntRange(1, 256),
    default=None,
    help="Hosts at once (default: all selected, up to 256).",
)
@click.option(
    "--timeout",
    type=Seconds(0),
    default=None,
    metavar="S",
    help="Cut the command after S seconds on each host (host fails).",
)
@click.option("--become", "-b", is_flag=True, help="Run through sudo (non-interactive).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout (design contract).")
@click.option(
    "--cluster",
    default=None,
    metavar="tcp://SCHEDULER:8786",
    help="Run on a Dask cluster's workers (also FLEETKIT_CLUSTER or the inventory's"
    " fleetkit_cluster); needs fleetkit[cluster].",
)
@click.argument("command", nargs=-1, required=True)
def exec_(
    pattern: str,
    inventory_path: str,
    limit: str | None,
    forks: int | None,
    timeout: float | None,
    become: bool,
    as_json: bool,
    cluster: str | None,
    command: tuple[str, ...],
    config: CommandConfig,
) -> int:
    """Run COMMAND on every host matching PATTERN, in parallel, over SSH.

    \b
    Example: fleetkit exec webservers -i inventory/prod -- uptime
    Exit codes: 0 all ok, 1 a host failed, 2 bad input, 3 unreachable, 130 interrupted.
    """
    from fleetkit.connection.factory import ConnectionFactory
    from fleetkit.distributed.config import cluster_address
    from fleetkit.executor.adhoc import run_adhoc
    from fleetkit.executor.pool import HostPool, default_forks
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts
    from fleetkit.report.base import Reporter
    from fleetkit.report.console import ConsoleReporter
    from fleetkit.report.jsonl import JsonLinesReporter
    from fleetkit.retry import record_retry

    text = command[0] if len(command) == 1 else shlex.join(command)
    if not text.strip():
        raise UsageError("empty command", hint="fleetkit exec PATTERN -i INV -- COMMAND...")
    from fleetkit.inventory.select import with_implicit_localhost

    defaults = config.defaults
    inventory = with_implicit_localhost(load_inventory(config.inventory), pattern)
    for message in (*config.warnings, *inventory.warnings):
        click.echo(f"fleetkit: warning: {message}", err=True)
    hosts = select_hosts(inventory, pattern, limit, cwd=Path.cwd())
    factory = ConnectionFactory({h: defaults.spec_for(h, inventory.hosts[h].vars) for h in hosts})
    forks = forks or defaults.forks
    become = become or defaults.become
    address = cluster_address(cluster, os.environ, inventory)
    reporter: Reporter = JsonLinesReporter(sys.stdout) if as_json else ConsoleReporter(sys.stdout)
    if address is not None:
        from fleetkit.distributed.client import ClusterExec, run_exec_on_cluster

        job = ClusterExec(
            address=address,
            hosts=tuple(hosts),
            host_groups={h: inventory.hosts[h].groups for h in hosts},
            specs={h: factory.spec(h) for h in hosts},
            command=text,
            timeout=timeout,
            become=become,
            forks=forks,
        )
        result = run_exec_on_cluster(job, reporter)
    else:
        with HostPool(factory, forks or default_forks(len(hosts))) as pool:
            result = run_adhoc(pool, hosts, text, reporter, timeout=timeout, become=become)
    if defaults.retry_files_enabled:
        result = record_retry(result, "exec", Path.cwd(), what=f"exec {pattern}")
    reporter.summary(result)
    return result.exit_code()
