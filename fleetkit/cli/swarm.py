"""`fleetkit swarm status -i INV`: nodes and services, from the first manager that answers.

Exit codes: 0 status shown; 1 no manager could describe the swarm; 2 bad
input; 3 every manager candidate unreachable.
"""

from __future__ import annotations

import json
import sys

import click

from fleetkit.cli.common import inventory_option, limit_option


@click.group("swarm", context_settings={"help_option_names": ["-h", "--help"]})
def swarm() -> None:
    """Docker Swarm: the state of nodes and services."""


@swarm.command("status")
@inventory_option
@limit_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status(inventory_path: str, limit: str | None, as_json: bool) -> int:
    """Services (desired/running, per node) and nodes (role, state, availability).

    Asks the inventory's managers in order and fails over to the next one when a
    manager is unreachable, its engine is down or it is not a manager.
    """
    from pathlib import Path

    from fleetkit.executor.adhoc import connection_factory
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts
    from fleetkit.orchestrators.swarm import SwarmOrchestrator
    from fleetkit.orchestrators.swarm_manager import find_manager, manager_candidates

    inventory = load_inventory(inventory_path)
    candidates = manager_candidates(inventory)
    if limit:  # the limited hosts, managers first
        allowed = select_hosts(inventory, "all", limit, cwd=Path.cwd())
        candidates = (
            *(h for h in candidates if h in allowed),
            *(h for h in allowed if h not in candidates),
        )
    factory = connection_factory(inventory, candidates)
    try:
        manager = find_manager(candidates, factory)
        try:
            cluster = SwarmOrchestrator(manager.engine, source=manager.host).status()
        finally:
            manager.close()
    finally:
        factory.close()
    if as_json:
        data = cluster.as_dict()
        data["skipped"] = list(manager.skipped)
        click.echo(json.dumps(data, indent=None, sort_keys=False))
    else:
        from fleetkit.orchestrators.status_text import render

        for reason in manager.skipped:
            click.echo(f"skipped {reason}", err=True)
        click.echo(render(cluster), nl=False)
    sys.stdout.flush()
    return 0
