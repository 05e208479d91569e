"""`fleetkit exporter -i INV [--listen ADDR:PORT] [--interval S] [--once]`: serve fleet metrics."""

from __future__ import annotations

from pathlib import Path

import click

from fleetkit.cli.common import inventory_option, limit_option


@click.command("exporter")
@inventory_option
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
    type=click.FloatRange(min=0.1),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
    help="Start a collection cycle every SECONDS.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
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
@click.option("-v", "--verbose", count=True, help="Log every cycle (-vv: SSH details too).")
def exporter(
    inventory_path: str,
    limit: str | None,
    listen: str,
    interval: float,
    timeout: float,
    once: bool,
    web_config: Path | None,
    max_series_per_host: int,
    verbose: int,
) -> int:
    """Collect host and container health over SSH and serve it to Prometheus.

    \b
    Every --interval seconds each host gets one SSH round trip (a persistent
    connection; a failed host is retried with backoff); /metrics serves the last
    complete cycle and never triggers SSH. Default: port 9469 on every interface;
    protect it with --web-config (TLS, basic auth) or use --listen 127.0.0.1:9469.
    SIGTERM or Ctrl-C stop it cleanly; SIGHUP reloads --web-config.
    """
    from fleetkit.monitoring.exporter import ExporterOptions, run
    from fleetkit.monitoring.logsetup import configure_logging

    configure_logging(verbose)
    options = ExporterOptions(
        inventory=inventory_path,
        limit=limit,
        listen=listen,
        interval=interval,
        timeout=timeout,
        web_config=web_config,
        max_series_per_host=max_series_per_host,
    )
    text = run(options, once=once)
    if text is not None:
        click.echo(text, nl=False)
    return 0
