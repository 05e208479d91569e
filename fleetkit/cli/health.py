"""`fleetkit health -i INV [--checks FILE] [--textfile PATH] [--pushgateway URL] [--json]`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from fleetkit.cli.common import (
    Seconds,
    inventory_option,
    limit_option,
    persist_option,
    vault_options,
)


@click.command("health")
@inventory_option
@limit_option
@vault_options
@persist_option
@click.option(
    "--checks",
    "checks_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="YAML: thresholds, required containers/services, extra command checks;"
    " or a testinfra .py file (each test a check).",
)
@click.option(
    "--textfile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="Write fleetkit_health_* metrics there atomically (node_exporter textfile).",
)
@click.option(
    "--pushgateway",
    default=None,
    metavar="URL",
    help="Push fleetkit_health_* metrics there (grouping key job=fleetkit_health).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines: one per check, then a summary.")
@click.option(
    "--timeout",
    type=Seconds(0.1, inclusive=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Per host: connect and probe within SECONDS or count as unreachable.",
)
@click.option(
    "--cluster",
    default=None,
    metavar="tcp://SCHEDULER:8786",
    help="Run the checks on a Dask cluster's workers (also FLEETKIT_CLUSTER or the"
    " inventory's fleetkit_cluster); needs fleetkit[cluster].",
)
def health(
    inventory_path: str,
    limit: str | None,
    checks_file: Path | None,
    textfile: Path | None,
    pushgateway: str | None,
    as_json: bool,
    timeout: float,
    cluster: str | None,
) -> int:
    """Check every host once (for cron): reachable, load, memory, disks, containers,
    swarm services and your own commands.

    \b
    Exit codes: 0 all checks pass, 1 a check failed, 2 bad input (nothing run),
    3 hosts unreachable and no other check failed.
    """
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts
    from fleetkit.monitoring.checks import HealthConfig, load_checks
    from fleetkit.monitoring.health import check_textfile_dir, run_health
    from fleetkit.monitoring.health_output import (
        human_lines,
        json_lines,
        metrics_text,
        push,
        write_textfile,
    )
    from fleetkit.monitoring.logsetup import configure_logging

    configure_logging(level=logging.WARNING)  # the report is the output; warnings only

    config = load_checks(checks_file) if checks_file else HealthConfig()
    if textfile is not None:
        check_textfile_dir(textfile)
    inventory = load_inventory(inventory_path)
    hosts = select_hosts(inventory, "all", limit, cwd=Path.cwd())
    from fleetkit.distributed.config import cluster_address

    address = cluster_address(cluster, os.environ, inventory)
    if address is not None:
        from fleetkit.distributed.health import run_health_on_cluster

        report = run_health_on_cluster(address, inventory, hosts, config, timeout=timeout)
    else:
        report = run_health(inventory, hosts, config, timeout=timeout)
    from fleetkit.report.redact import redact

    for line in json_lines(report) if as_json else human_lines(report):
        click.echo(redact(line))
    sys.stdout.flush()
    if textfile is not None:
        write_textfile(textfile, redact(metrics_text(report).decode()).encode())
    if pushgateway:
        push(pushgateway, report)
    return report.exit_code()
