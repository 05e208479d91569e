"""The `fleetkit` command: thin argument parsing that calls the library.

Subcommands live in one module each under fleetkit/cli/ and are imported only
when invoked, so `fleetkit --help` stays fast (no docker, prometheus_client...).
Every FleetkitError is printed as one clear message and mapped to its exit code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

# name -> (module, attribute, one-line help). Imported lazily on use.
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "lab": ("fleetkit.cli.lab", "lab", "Bring a local fleet of lab hosts up or down."),
    "inventory": ("fleetkit.cli.inventory", "inventory", "Show an inventory's hosts and vars."),
    "exec": ("fleetkit.cli.exec", "exec_", "Run one command on every selected host."),
    "run": ("fleetkit.cli.run", "run", "Run a playbook."),
    "cluster": ("fleetkit.cli.cluster", "cluster", "Cluster status (Swarm or Kubernetes)."),
    "swarm": ("fleetkit.cli.swarm", "swarm", "Docker Swarm status (cluster status for Swarm)."),
    "exporter": ("fleetkit.cli.exporter", "exporter", "Serve fleet metrics to Prometheus."),
    "health": ("fleetkit.cli.health", "health", "Run health checks (for cron)."),
    "dashboard": ("fleetkit.cli.dashboard", "dashboard", "Render Grafana dashboards."),
    "top": ("fleetkit.cli.top", "top", "Live terminal view of the fleet."),
    "vault": ("fleetkit.cli.vault", "vault", "Encrypt, decrypt and edit Ansible Vault data."),
    "verify": ("fleetkit.cli.verify", "verify", "Run testinfra test files on inventory hosts."),
    "doc": ("fleetkit.cli.doc", "doc", "Show a module's arguments and how it runs."),
    "persist": ("fleetkit.cli.persist", "persist", "Show or stop the SSH connection keeper."),
    "galaxy": ("fleetkit.cli.galaxy", "galaxy", "Check what a Galaxy requirements file needs."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (mod, _, _) in SUBCOMMANDS.items() if _available(mod)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(cmd_name)
        if entry is None or not _available(entry[0]):
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, SUBCOMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fleetkit")
def cli() -> None:
    """fleetkit: agentless fleet automation and monitoring over SSH."""


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: run the CLI, map errors to exit codes."""
    from fleetkit.cli.common import run_cli

    return run_cli(cli, argv if argv is not None else sys.argv[1:])
