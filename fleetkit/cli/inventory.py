"""`fleetkit inventory -i INV... [--list [--export] | --graph | --host NAME] [-l LIMIT]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fleetkit.cli.common import limit_option, vault_options
from fleetkit.errors import PatternError, UsageError


@click.command("inventory")
@click.option(
    "-i",
    "--inventory",
    "inventory_paths",
    required=True,
    multiple=True,
    metavar="INV",
    help="Inventory file or directory; several -i merge in order, as in Ansible.",
)
@limit_option
@vault_options
@click.option("--list", "show_list", is_flag=True, help="All groups and host vars (default).")
@click.option("--graph", is_flag=True, help="The group tree with its hosts.")
@click.option("--host", "host_name", metavar="NAME", help="One host's merged variables.")
@click.option(
    "-e",
    "--extra-vars",
    "extra_vars",
    multiple=True,
    metavar="K=V|@FILE",
    help="Extra variables on top of the inventory's (repeatable).",
)
@click.option(
    "--export", is_flag=True, help="With --list: group vars under groups, hosts' own vars."
)
@click.option("--yaml", "as_yaml", is_flag=True, help="YAML instead of JSON.")
def inventory(
    inventory_paths: tuple[str, ...],
    limit: str | None,
    show_list: bool,
    graph: bool,
    host_name: str | None,
    extra_vars: tuple[str, ...],
    export: bool,
    as_yaml: bool,
) -> None:
    """Show an inventory as fleetkit reads it (Ansible-style output).

    \b
    Example: fleetkit inventory -i inventory/example --graph -l webservers
    """
    from fleetkit.inventory.extra_vars import parse_extra_vars
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.render import host_vars_json, to_graph, to_list_json
    from fleetkit.inventory.select import select_hosts, with_implicit_localhost

    if show_list + graph + (host_name is not None) > 1:
        raise UsageError("choose one of --list, --graph and --host")
    extra = parse_extra_vars(list(extra_vars), Path.cwd())
    inv = with_implicit_localhost(load_inventory(inventory_paths), host_name, limit)
    for message in inv.warnings:
        click.echo(f"fleetkit: warning: {message}", err=True)
    hosts = select_hosts(inv, "all", limit, cwd=Path.cwd()) if limit else inv.group_hosts("all")
    if graph:
        from fleetkit.report.redact import redact

        click.echo(redact(to_graph(inv, hosts, narrowed=bool(limit))))
        return
    data: dict[str, Any]
    if host_name is not None:
        data = host_vars_json(inv, host_name, extra)
        if limit and host_name not in hosts:
            raise PatternError(f"host {host_name!r} is outside the limit {limit!r}")
    else:
        data = to_list_json(inv, hosts, extra, export=export)
    click.echo(_dump(data, as_yaml))


def _dump(data: dict[str, Any], as_yaml: bool) -> str:
    from fleetkit.report.redact import redact_data

    data = redact_data(data)  # vaulted values are shown masked
    if as_yaml:
        from fleetkit.yamlpos import dump_yaml

        return dump_yaml(data).rstrip("\n")
    return json.dumps(data, indent=2, sort_keys=False, default=str)
