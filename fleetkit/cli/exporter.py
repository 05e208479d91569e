"""`fleetkit exporter -i INV [--listen ADDR:PORT] [--interval S] [--once] [--shard I/N]`: serve
fleet metrics; `fleetkit exporter file-sd`: Prometheus targets for the shards."""

from __future__ import annotations

from pathlib import Path

import click

from fleetkit.cli.common import Seconds, limit_option


@click.group("exporter", invoke_without_command=True, subcommand_metavar="[file-sd ...]")
@click.option(
    "-i",
    "--inventory",
    "inventory_path",
    default=None,
    metavar="INV",
    help="Inventory file or directory (hosts.yml/hosts.ini with group_vars/, host_vars/).",
)
@limit_option
@click.option(
    "--listen",
    default=":9469",
    show_default=True,
    metavar="ADDR:PORT",
    help="Where to serve /metrics (':9469' is every interface; '127.0.0.1:0' picks a port).",
)
@click.option(
    "--interval",
    type=Seconds(0.1, inclusive=True),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
    help="Start a collection cycle every SECONDS.",
)
@click.option(
    "--timeout",
    type=Seconds(0.1, inclusive=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Per host: connect and probe within SECONDS or count as down.",
)
@click.option("--once", is_flag=True, help="Collect one cycle, print the metrics text and exit.")
@click.option(
    "--web-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="TLS and basic auth for /metrics (Prometheus exporter-toolkit format; SIGHUP reloads).",
)
@click.option(
    "--max-series-per-host",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    metavar="N",
    help="Serve at most N filesystem/network/CPU/container series per host"
    " (fleetkit_exporter_series_truncated counts the rest).",
)
@click.option(
    "--shard",
    "shard_text",
    default=None,
    metavar="I/N",
    envvar="FLEETKIT_EXPORTER_SHARD",
    help="Collect only shard I (0-based) of N: the hosts Prometheus' hashmod of their"
    " name puts there. Shard 0 also reports the swarm/k8s cluster.",
)
@click.option(
    "--shard-slot",
    "slot_text",
    default=None,
    metavar="S/N",
    envvar="FLEETKIT_EXPORTER_SHARD_SLOT",
    help="Like --shard with a 1-based Swarm task slot S: shard S-1 of N"
    " (FLEETKIT_EXPORTER_SHARD_SLOT='{{.Task.Slot}}/N' in a replicated service).",
)
@click.option("-v", "--verbose", count=True, help="Log every cycle (-vv: SSH details too).")
@click.pass_context
def exporter(
    ctx: click.Context,
    inventory_path: str | None,
    limit: str | None,
    listen: str,
    interval: float,
    timeout: float,
    once: bool,
    web_config: Path | None,
    max_series_per_host: int,
    shard_text: str | None,
    slot_text: str | None,
    verbose: int,
) -> int:
    """Collect host and container health over SSH and serve it to Prometheus.

    \b
    Every --interval seconds each host gets one SSH round trip (a persistent
    connection; a failed host is retried with backoff); /metrics serves the last
    complete cycle and never triggers SSH. Default: port 9469 on every interface;
    protect it with --web-config (TLS, basic auth) or use --listen 127.0.0.1:9469.
    SIGTERM or Ctrl-C stop it cleanly; SIGHUP reloads --web-config.
    `fleetkit exporter file-sd` writes Prometheus targets for --shard exporters.
    """
    if ctx.invoked_subcommand is not None:
        return 0
    if inventory_path is None:
        raise click.UsageError("Missing option '-i' / '--inventory'.", ctx)
    from fleetkit.monitoring.exporter import ExporterOptions, run
    from fleetkit.monitoring.logsetup import configure_logging
    from fleetkit.monitoring.shard import Shard

    if shard_text is not None and slot_text is not None:
        raise click.UsageError("give --shard or --shard-slot, not both", ctx)
    shard = Shard()
    if shard_text is not None:
        shard = Shard.parse(shard_text)
    elif slot_text is not None:
        shard = Shard.from_slot(slot_text)
    configure_logging(verbose)
    options = ExporterOptions(
        inventory=inventory_path,
        limit=limit,
        listen=listen,
        interval=interval,
        timeout=timeout,
        web_config=web_config,
        max_series_per_host=max_series_per_host,
        shard=shard,
    )
    text = run(options, once=once)
    if text is not None:
        click.echo(text, nl=False)
    return 0


@exporter.command("file-sd")
@click.argument("targets", nargs=-1, metavar="ADDR:PORT...")
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Number of shards (needed with a '{shard}' target template).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="K=V",
    help="An extra label on every target group (repeatable).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the targets file here (atomically); default: stdout.",
)
def file_sd(
    targets: tuple[str, ...], shards: int | None, labels: tuple[str, ...], output: Path | None
) -> int:
    """Write a Prometheus file_sd targets file for exporter shards.

    \b
    Shard I is the I-th ADDR:PORT, or one template such as 'mon-{shard}:9469'
    with --shards N. Each target group is labelled shard="I", shards="N".
    """
    import yaml

    from fleetkit.atomic import write_atomic
    from fleetkit.errors import UsageError
    from fleetkit.monitoring.shard import expand_targets, file_sd_groups

    extra: dict[str, str] = {}
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--label {item!r}: expected K=V")
        extra[key] = value
    groups = file_sd_groups(expand_targets(targets, shards), extra)
    text = "# fleetkit exporter shards (written by `fleetkit exporter file-sd`)\n"
    text += yaml.safe_dump(groups, sort_keys=False)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
    return 0
