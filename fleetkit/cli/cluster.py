"""`fleetkit cluster status -i INV`: nodes and services from the first server that answers.

Any driver (the inventory's `orchestrator`); `fleetkit swarm status` is the same
command held to Swarm. Exit codes: 0 status shown; 1 no server could describe
the cluster; 2 bad input; 3 every candidate unreachable.
"""

from __future__ import annotations

import json
import sys

import click

from fleetkit.cli.common import inventory_option, limit_option


def show_status(
    inventory_path: str, limit: str | None, as_json: bool, driver: str | None = None
) -> int:
    """Ask the inventory's servers (managers) in order; print the first answer."""
    from pathlib import Path

    from fleetkit.executor.adhoc import connection_factory
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts
    from fleetkit.orchestrators.cluster_source import candidates, describe, inventory_driver

    inventory = load_inventory(inventory_path)
    chosen = driver or inventory_driver(inventory)
    hosts = candidates(inventory, chosen)
    if limit:  # the limited hosts, servers first
        allowed = select_hosts(inventory, "all", limit, cwd=Path.cwd())
        hosts = (*(h for h in hosts if h in allowed), *(h for h in allowed if h not in hosts))
    factory = connection_factory(inventory, hosts)
    try:
        described = describe(inventory, hosts, factory, chosen)
    finally:
        factory.close()
    if as_json:
        data = described.status.as_dict()
        data["skipped"] = list(described.skipped)
        if driver is None:
            data["orchestrator"] = described.driver
        click.echo(json.dumps(data, indent=None, sort_keys=False))
    else:
        from fleetkit.orchestrators.status_text import render

        for reason in described.skipped:
            click.echo(f"skipped {reason}", err=True)
        click.echo(render(described.status), nl=False)
    sys.stdout.flush()
    return 0


@click.group("cluster", context_settings={"help_option_names": ["-h", "--help"]})
def cluster() -> None:
    """The cluster (Docker Swarm or Kubernetes): nodes and services."""


@cluster.command("status")
@inventory_option
@limit_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option(
    "--orchestrator",
    type=click.Choice(["swarm", "k8s"]),
    default=None,
    help="The driver (default: the inventory's `orchestrator` variable).",
)
def status(inventory_path: str, limit: str | None, as_json: bool, orchestrator: str | None) -> int:
    """Services (desired/running, per node) and nodes (role, state, availability).

    Asks the driver's servers in order (Swarm: `managers`; Kubernetes:
    `k8s_servers`) and fails over to the next one when a server is unreachable,
    its engine or API is down, or it cannot describe the cluster.
    """
    return show_status(inventory_path, limit, as_json, orchestrator)
