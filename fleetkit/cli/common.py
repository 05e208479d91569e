"""Shared CLI plumbing: error-to-exit-code mapping and common options."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from fleetkit.errors import FleetkitError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130


def print_error(err: FleetkitError) -> None:
    """One clear message on stderr (no traceback)."""
    click.echo(f"fleetkit: error: {err}", err=True)


def run_cli(group: click.Group, argv: list[str]) -> int:
    """Run a click group, turning FleetkitError and Ctrl-C into exit codes."""
    try:
        rv = group.main(args=argv, prog_name="fleetkit", standalone_mode=False)
    except FleetkitError as err:
        print_error(err)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("fleetkit: interrupted", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("fleetkit: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as err:
        err.show()
        return EXIT_BAD_INPUT if err.exit_code == 2 else err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    sys.stdout.flush()
    return int(rv) if isinstance(rv, int) else 0


def inventory_option(func: F) -> F:
    """-i/--inventory INV (file or directory), required."""
    return click.option(
        "-i",
        "--inventory",
        "inventory_path",
        required=True,
        metavar="INV",
        help="Inventory file or directory (hosts.yml/hosts.ini with group_vars/, host_vars/).",
    )(func)


def limit_option(func: F) -> F:
    """-l/--limit PATTERN or @FILE."""
    return click.option(
        "-l",
        "--limit",
        metavar="PATTERN|@FILE",
        default=None,
        help="Further restrict the hosts: a pattern, or @FILE with one host per line.",
    )(func)
