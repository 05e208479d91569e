"""`fleetkit verify TESTS... -i INV`: testinfra test files against inventory hosts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetkit.cli.common import inventory_option, limit_option, vault_options


@click.command("verify")
@click.argument("tests", nargs=-1, required=True, type=click.Path(path_type=Path))
@inventory_option
@limit_option
@vault_options
@click.option(
    "-f",
    "--forks",
    type=click.IntRange(1, 256),
    default=None,
    help="Hosts at once (default: all selected, up to 32: one pytest process each).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="S",
    help="Cut each command a test runs after S seconds (the test fails).",
)
@click.option("--become", "-b", is_flag=True, help="Run every command through sudo.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout (design contract).")
def verify(
    tests: tuple[Path, ...],
    inventory_path: str,
    limit: str | None,
    forks: int | None,
    timeout: float | None,
    become: bool,
    as_json: bool,
) -> int:
    """Run testinfra TESTS (files or folders) on every inventory host, in parallel,
    over fleetkit's own connections (as exec: ssh_config, jump hosts, host keys, become).

    \b
    Example: fleetkit verify roles/web/tests/test_default.py -i inventory/prod -l web
    Each test is one result per host (task = the test's node id).
    Exit codes: 0 all passed, 1 a test failed, 2 bad input (no such file, a file that
    does not import, no host matches), 3 hosts unreachable and no test failed,
    130 interrupted.
    """
    from fleetkit.executor.adhoc import connection_factory
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts
    from fleetkit.report.base import Reporter, Reporters
    from fleetkit.report.console import ConsoleReporter
    from fleetkit.report.jsonl import JsonLinesReporter
    from fleetkit.retry import record_retry
    from fleetkit.verify.job import Layout, require_testinfra
    from fleetkit.verify.report import TestNamingReporter
    from fleetkit.verify.runner import default_verify_forks, run_verify

    require_testinfra()
    layout = Layout.of(list(tests), Path.cwd())
    inventory = load_inventory(inventory_path)
    hosts = select_hosts(inventory, "all", limit, cwd=Path.cwd())
    factory = connection_factory(inventory, hosts)
    specs = {h: factory.spec(h) for h in hosts}
    out: Reporter = (
        JsonLinesReporter(sys.stdout)
        if as_json
        else TestNamingReporter(ConsoleReporter(sys.stdout))
    )
    reporter = Reporters(out)
    what = " ".join(str(t) for t in tests)
    reporter.task_start("", f"verify {what}", hosts)
    result = run_verify(
        specs,
        hosts,
        layout,
        reporter.host_result,
        forks=forks or default_verify_forks(len(hosts)),
        become=become,
        timeout=timeout,
        inventory_file=_inventory_file(Path(inventory_path)),
    )
    result = record_retry(result, "verify", Path.cwd(), what=f"verify {what}")
    reporter.summary(result)
    return result.exit_code()


def _inventory_file(path: Path) -> str | None:
    """The inventory's hosts file (what Molecule-style tests may read)."""
    if path.is_file():
        return str(path.resolve())
    for name in ("hosts.yml", "hosts.yaml", "hosts.ini", "hosts"):
        if (path / name).is_file():
            return str((path / name).resolve())
    return None
