"""`fleetkit run PLAYBOOK -i INV ...`: validate everything, run, report, exit code.

Exit codes as in the design: 0 all ok, 1 a host failed, 2 bad input (nothing
run), 3 unreachable hosts only, 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fleetkit.cli.common import (
    CommandConfig,
    ansible_config_options,
    config_inventory_option,
    limit_option,
    persist_option,
    vault_options,
)
from fleetkit.report.base import Reporter
from fleetkit.results import RunResult

if TYPE_CHECKING:
    from fleetkit.playbook.session import Prepared


@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("playbook", metavar="PLAYBOOK")
@config_inventory_option
@limit_option
@ansible_config_options
@vault_options
@persist_option
@click.option(
    "-e",
    "--extra-vars",
    "extra_vars",
    multiple=True,
    metavar="K=V|JSON|@FILE",
    help="Variables that win over every other layer (repeatable).",
)
@click.option("--check", is_flag=True, help="Predict changes without making any.")
@click.option("--diff", is_flag=True, help="Show unified diffs of the files tasks change.")
@click.option("-t", "--tags", multiple=True, metavar="TAGS", help="Run only tasks with these tags.")
@click.option("--skip-tags", multiple=True, metavar="TAGS", help="Skip tasks with these tags.")
@click.option(
    "-f", "--forks", type=click.IntRange(1, 256), help="Hosts at once (default: all, up to 256)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout instead of text.")
@click.option(
    "--metrics-textfile",
    metavar="PATH",
    help="Write run metrics for node_exporter's textfile collector (atomically).",
)
@click.option("--pushgateway", metavar="URL", help="Push run metrics to a Prometheus Pushgateway.")
@click.option(
    "--list-hosts", is_flag=True, help="List each play's hosts and exit (connects to none)."
)
@click.option("--list-tasks", is_flag=True, help="List the tasks that would run and exit.")
@click.option("--list-tags", is_flag=True, help="List each play's task tags and exit.")
@click.option("--syntax-check", is_flag=True, help="Load and check the playbook, then exit.")
@click.option(
    "--start-at-task", metavar="NAME", help="Skip the tasks before the first named NAME (glob)."
)
@click.option(
    "--cluster",
    default=None,
    metavar="tcp://SCHEDULER:8786",
    help="Run on a Dask cluster's workers (also FLEETKIT_CLUSTER or the inventory's"
    " fleetkit_cluster); needs fleetkit[cluster].",
)
def run(
    playbook: str,
    inventory_path: str,
    limit: str | None,
    extra_vars: tuple[str, ...],
    check: bool,
    diff: bool,
    tags: tuple[str, ...],
    skip_tags: tuple[str, ...],
    forks: int | None,
    as_json: bool,
    metrics_textfile: str | None,
    pushgateway: str | None,
    list_hosts: bool,
    list_tasks: bool,
    list_tags: bool,
    syntax_check: bool,
    start_at_task: str | None,
    cluster: str | None,
    config: CommandConfig,
) -> int:
    """Run a playbook on the hosts of an inventory.

    ansible.cfg (found as Ansible finds it) and ANSIBLE_* give the defaults: the
    inventory when -i is not given, forks, remote_user, become and the rest.
    """
    from fleetkit.playbook.session import RunRequest, execute, finish, prepare, split_tags

    defaults = config.defaults
    request = RunRequest(
        playbook=Path(playbook),
        inventory=config.inventory[0] if len(config.inventory) == 1 else config.inventory,
        limit=limit,
        extra_vars=extra_vars,
        check=check,
        diff=diff,
        tags=split_tags(tags),
        skip_tags=split_tags(skip_tags),
        forks=forks or defaults.forks,
        cwd=Path.cwd(),
        start_at_task=start_at_task,
        defaults=defaults,
    )
    prepared = prepare(request)
    if list_hosts or list_tasks or list_tags or syntax_check:
        from fleetkit.playbook.listing import Listing, render

        sys.stdout.write(render(prepared, Listing(list_hosts, list_tasks, list_tags)))
        return 0
    address = _cluster(cluster, prepared)
    reporter = _reporter(as_json, diff)
    for message in config.warnings:
        reporter.warning(message)
    if check:
        reporter.warning("check mode: nothing will be changed; 'changed' counts what would change")
    if address is None:
        outcome = execute(prepared, reporter)
    else:
        from fleetkit.distributed.run_client import run_playbook_on_cluster

        outcome = run_playbook_on_cluster(prepared, reporter, address)
    result = finish(prepared, outcome)
    reporter.summary(result)
    if metrics_textfile or pushgateway:
        _metrics(prepared.playbook.name, result, metrics_textfile, pushgateway, reporter)
    sys.stdout.flush()
    return result.exit_code()


def _cluster(option: str | None, prepared: Prepared) -> str | None:
    """The Dask scheduler to run on (None: in-process). A playbook that cannot be sharded
    is refused here (exit 2), before anything is sent."""
    import os

    from fleetkit.distributed.config import cluster_address

    address = cluster_address(option, os.environ, prepared.inventory)
    if address is not None:
        from fleetkit.distributed.shardable import check_shardable

        check_shardable(prepared)
    return address


def _reporter(as_json: bool, diff: bool) -> Reporter:
    if as_json:
        from fleetkit.report.jsonl import JsonLinesReporter

        return JsonLinesReporter(sys.stdout)
    from fleetkit.report.console import ConsoleReporter

    return ConsoleReporter(sys.stdout, show_diff=diff)


def _metrics(
    playbook: str,
    result: RunResult,
    textfile: str | None,
    pushgateway: str | None,
    reporter: Reporter,
) -> None:
    """Write/push run metrics; a metrics failure is a warning, not the run's outcome."""
    from fleetkit.errors import FleetkitError
    from fleetkit.report.metrics import push_metrics, write_textfile

    try:
        if textfile:
            write_textfile(Path(textfile), playbook, result)
        if pushgateway:
            push_metrics(pushgateway, playbook, result)
    except FleetkitError as err:
        reporter.warning(f"metrics: {err.message}")
