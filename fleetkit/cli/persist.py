"""`fleetkit persist status|stop`: what the user's connection keeper holds, and ending it."""

from __future__ import annotations

import json

import click


@click.group("persist")
def persist() -> None:
    """The connection keeper (runs with --persist / FLEETKIT_PERSIST keep SSH connections)."""


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@persist.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per held connection.")
def status(as_json: bool) -> int:
    """List the held connections: host, address, age, idle time, channels open now."""
    from fleetkit.keeper.client import keeper_request

    reply = keeper_request("status")
    if reply is None:
        if not as_json:
            click.echo("no connection keeper is running")
        return 0
    rows = reply.get("held", [])
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, sort_keys=True))
        return 0
    click.echo(f"keeper pid {reply.get('pid')}: {len(rows)} connection(s) held")
    if rows:
        click.echo(f"{'HOST':<24} {'ADDRESS':<28} {'AGE':>8} {'IDLE':>8} {'CHANNELS':>8}")
    for row in sorted(rows, key=lambda r: str(r["host"])):
        where = f"{row.get('user') or ''}@{row['address']}:{row.get('port') or 22}"
        click.echo(
            f"{row['host']:<24} {where:<28} {_duration(row['age_s']):>8}"
            f" {_duration(row['idle_s']):>8} {row['channels']:>8}"
        )
    return 0


@persist.command("stop")
def stop() -> int:
    """Close every held connection and end the keeper."""
    from fleetkit.keeper.client import keeper_request

    reply = keeper_request("stop")
    click.echo("no connection keeper is running" if reply is None else "connection keeper stopped")
    return 0
