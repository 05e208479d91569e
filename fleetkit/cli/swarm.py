"""`fleetkit swarm status -i INV`: `fleetkit cluster status` held to Docker Swarm.

Exit codes: 0 status shown; 1 no manager could describe the swarm; 2 bad
input; 3 every manager candidate unreachable.
"""

from __future__ import annotations

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
    from fleetkit.cli.cluster import show_status

    return show_status(inventory_path, limit, as_json, "swarm")
