"""Shared CLI plumbing: error-to-exit-code mapping and common options."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fleetkit.errors import FleetkitError
from fleetkit.results import EXIT_BAD_INPUT, EXIT_INTERRUPTED

if TYPE_CHECKING:
    from fleetkit.config.defaults import ConfigDefaults

F = TypeVar("F", bound=Callable[..., Any])


def print_error(err: FleetkitError) -> None:
    """One clear message on stderr (no traceback), secrets masked."""
    from fleetkit.report.redact import redact

    click.echo(f"fleetkit: error: {redact(str(err))}", err=True)


def run_cli(group: click.Group, argv: list[str]) -> int:
    """Run a click group, turning FleetkitError and Ctrl-C into exit codes.

    The whole command runs with one redactor, so secrets it meets (vaulted values)
    are masked in its output and in the error it may end with. paramiko's own
    tracebacks stay off stderr: a host's failure is reported once, as its result.
    """
    from fleetkit.connection.sshlog import quiet_paramiko
    from fleetkit.report.redact import redacting

    quiet_paramiko()

    with redacting(), terminate_as_interrupt():
        return _run(group, argv)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a command the way Ctrl-C does (issue 11).

    Python's default for SIGTERM ends the process at once: no recap, no summary
    event, no retry file, and the hosts' commands left running. Raised as
    KeyboardInterrupt in the main thread instead, it takes the interrupted path:
    pending hosts are cancelled, every host's state is reported, the retry file
    lists the hosts that did not finish, exit 130. A handler someone else set
    (an embedding program, the exporter's own) is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(group: click.Group, argv: list[str]) -> int:
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


class Seconds(click.ParamType[float]):
    """A duration option in seconds: a finite number above (or from) a minimum.

    click.FloatRange lets `nan` through (every comparison with NaN is false) and
    `inf` means no deadline at all, so a typo would silently disable a timeout.
    """

    name = "seconds"

    def __init__(self, minimum: float = 0.0, *, inclusive: bool = False) -> None:
        self.minimum = minimum
        self.inclusive = inclusive

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float) and math.isfinite(value):
            seconds = value
        else:
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        low = seconds >= self.minimum if self.inclusive else seconds > self.minimum
        if not (math.isfinite(seconds) and low):
            bound = f"{'at least' if self.inclusive else 'above'} {self.minimum:g}"
            self.fail(f"{value!r} is not a finite number of seconds {bound}", param, ctx)
        return seconds


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


def config_inventory_option(func: F) -> F:
    """-i/--inventory INV, optional when ansible.cfg or ANSIBLE_INVENTORY names one."""
    return click.option(
        "-i",
        "--inventory",
        "inventory_path",
        default=None,
        metavar="INV",
        help="Inventory file or directory (default: ansible.cfg's inventory, ANSIBLE_INVENTORY).",
    )(func)


@dataclass(frozen=True)
class CommandConfig:
    """What ansible.cfg and ANSIBLE_* give one command, the -i flag applied."""

    defaults: ConfigDefaults
    inventory: tuple[Path, ...]
    warnings: tuple[str, ...] = ()


def ansible_config_options(func: F) -> F:
    """Read ansible.cfg and the ANSIBLE_* variables as Ansible finds them (before the
    vault and persist options, which see the inventory they name) and pass the command
    `config`, a CommandConfig; -v/--verbose lists what was read and what is unused."""

    @functools.wraps(func)
    def wrapper(*args: Any, verbose: int, **kwargs: Any) -> Any:
        from fleetkit.config.ansible_cfg import load_config
        from fleetkit.config.defaults import ConfigDefaults, inventory_sources, messages

        config = load_config(os.environ, Path.cwd())
        said = messages(config)
        if verbose:
            for line in said.verbose:
                click.echo(f"fleetkit: {line}", err=True)
        try:
            sources = inventory_sources(kwargs.get("inventory_path"), config)
        except FleetkitError:
            for message in config.warnings:  # the cwd's ansible.cfg was skipped: say why
                click.echo(f"fleetkit: warning: {message}", err=True)
            raise
        kwargs["inventory_path"] = str(sources[0])
        command = CommandConfig(ConfigDefaults.from_config(config), sources, said.warnings)
        return func(*args, config=command, **kwargs)

    option = click.option(
        "-v",
        "--verbose",
        count=True,
        help="Say which ansible.cfg is read, what it sets and what fleetkit does not use.",
    )
    return option(wrapper)  # type: ignore[return-value]


def limit_option(func: F) -> F:
    """-l/--limit PATTERN or @FILE."""
    return click.option(
        "-l",
        "--limit",
        metavar="PATTERN|@FILE",
        default=None,
        help="Further restrict the hosts: a pattern, or @FILE with one host per line.",
    )(func)


def vault_options(func: F) -> F:
    """--vault-password-file, --vault-id, --ask-vault-pass: the command runs with those
    vault passwords (read before anything else; FLEETKIT_VAULT_PASSWORD_FILE or
    ANSIBLE_VAULT_PASSWORD_FILE when none is given)."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        vault_password_files: tuple[str, ...],
        vault_ids: tuple[str, ...],
        ask_vault_pass: bool,
        **kwargs: Any,
    ) -> Any:
        from fleetkit.vault.context import vault_session

        secrets = load_vault_secrets(vault_password_files, vault_ids, ask_vault_pass)
        with vault_session(secrets):
            return func(*args, **kwargs)

    return vault_password_options(wrapper)  # type: ignore[return-value]


def vault_password_options(func: F) -> F:
    """The three vault password options, passed as vault_password_files, vault_ids and
    ask_vault_pass."""
    options = [
        click.option(
            "--vault-password-file",
            "vault_password_files",
            multiple=True,
            metavar="FILE",
            help="Vault password file (run if executable); vault ID 'default'.",
        ),
        click.option(
            "--vault-id",
            "vault_ids",
            multiple=True,
            metavar="[LABEL@]SOURCE",
            help="A vault ID and its password source: a file, a script or 'prompt'.",
        ),
        click.option("-J", "--ask-vault-pass", is_flag=True, help="Prompt for the vault password."),
    ]
    decorated: Any = func
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def load_vault_secrets(
    password_files: tuple[str, ...], vault_ids: tuple[str, ...], ask: bool, *, confirm: bool = False
) -> Any:
    """The VaultSecrets a command line names (prompting on the terminal if asked)."""
    from fleetkit.vault.secrets import cli_sources, load_secrets

    def prompt(text: str) -> str:
        return str(click.prompt(text.rstrip(": "), hide_input=True, err=True))

    sources = cli_sources(password_files, vault_ids, ask, os.environ)
    return load_secrets(sources, Path.cwd(), prompt, confirm=confirm)


def persist_option(func: F) -> F:
    """--persist[=DURATION]: keep this run's SSH connections in the user's connection keeper
    (also FLEETKIT_PERSIST or the inventory's all.vars fleetkit_persist; off by default)."""

    @functools.wraps(func)
    def wrapper(*args: Any, persist: str | None, **kwargs: Any) -> Any:
        from fleetkit.keeper.settings import ENV, resolve

        seconds = resolve(persist, os.environ, kwargs.get("inventory_path"))
        before = os.environ.get(ENV)
        os.environ[ENV] = f"{seconds:g}" if seconds is not None else "no"
        try:
            return func(*args, **kwargs)
        finally:
            if before is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = before

    option = click.option(
        "--persist",
        is_flag=False,
        flag_value="yes",
        default=None,
        metavar="[=DURATION]",
        help="Keep SSH connections open for later runs in a per-user keeper (idle expiry"
        " DURATION, default 10m; also FLEETKIT_PERSIST, inventory fleetkit_persist)."
        " Off by default: it holds the fleet's logins in a background process.",
    )
    return option(wrapper)  # type: ignore[return-value]
