"""`fleetkit lab up|down|status`: a local fleet of SSH hosts in Linux namespaces."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from fleetkit.lab.layout import MAX_HOSTS
from fleetkit.lab.model import LabState


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A progress callback: a live rich status line on a terminal, plain stderr lines otherwise."""
    if not sys.stderr.isatty():
        yield lambda msg: click.echo(msg, err=True)
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("fleetkit lab") as status:

        def say(msg: str) -> None:
            status.update(msg)
            if not msg.startswith("built "):
                console.print(f"[dim]{msg}[/dim]", highlight=False)

        yield say


def _host_summary(state: LabState) -> str:
    hosts = state.hosts
    if len(hosts) <= 5:
        return ", ".join(f"{h.name} {h.address}" for h in hosts)
    first, last = hosts[0], hosts[-1]
    return f"{first.name}..{last.name} ({first.address}..{last.address})"


@click.group()
def lab() -> None:
    """Bring a local fleet of lab hosts up or down (needs root).

    Each host is a set of Linux namespaces with its own hostname, address on
    bridge fkbr0 (198.18.0.0/15), sshd and writable /etc, /var, /home, /root,
    /srv, /opt and /tmp. State lives in /var/lib/fleetkit/lab.
    """


@lab.command()
@click.option(
    "--hosts", "count", type=click.IntRange(1, MAX_HOSTS), default=3, show_default=True,
    help="Number of hosts (lab1..labN).",
)  # fmt: skip
@click.option("--docker", is_flag=True, help="Also run a dockerd per host and a lab registry.")
@click.option(
    "--inventory-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("inventory/lab/hosts.yml"),
    show_default=True,
    help="Where to write the lab inventory (parent folders are created).",
)
def up(count: int, docker: bool, inventory_out: Path) -> int:
    """Make the lab (or report the live one) and write its inventory."""
    from fleetkit.lab import lab_up

    with _progress() as say:
        state = lab_up(hosts=count, docker=docker, inventory_out=inventory_out, progress=say)
    click.echo(f"lab: {len(state.hosts)} hosts: {_host_summary(state)}")
    if state.inventory is not None:
        click.echo(f"inventory: {state.inventory}")
    first = state.hosts[0]
    click.echo(
        f"ssh: ssh -i {state.key} -o UserKnownHostsFile={state.known_hosts} fleet@{first.address}"
    )
    return 0


@lab.command()
def down() -> int:
    """Remove the lab and everything it made (safe on any partial state, and twice).

    Stops the lab's processes (sshd and its sessions, dockerd, containers, what
    playbooks left running) and the registry; a shell someone entered a lab host
    with from outside (nsenter) is left running and named. Then it unmounts,
    deletes netns, veths, bridge fkbr0 and the lab's iptables rules, and removes
    /var/lib/fleetkit/lab. The inventory files `lab up` wrote are removed too,
    unless they were changed since.
    """
    from fleetkit.lab import lab_down

    with _progress() as say:
        lab_down(progress=say)
    return 0


@lab.command()
@click.option("--json", "as_json", is_flag=True, help="Print the state as one JSON object.")
def status(as_json: bool) -> int:
    """Show the lab's hosts and whether they are alive.

    Exit code 0 when the lab is up and every host alive, 1 otherwise (no lab,
    or a half-dead one: `fleetkit lab up` rebuilds it).
    """
    from fleetkit.lab import lab_status

    state = lab_status()
    if as_json:
        click.echo(json.dumps(state.to_json() if state else None, indent=1))
        return 0 if state is not None and state.alive else 1
    if state is None:
        click.echo("no lab on this machine (make one with `fleetkit lab up`)")
        return 1
    alive = sum(h.alive for h in state.hosts)
    verdict = "all alive" if state.alive else f"{alive} alive, HALF DEAD: run `fleetkit lab up`"
    if not state.complete:
        verdict = "INCOMPLETE (lab up did not finish): run `fleetkit lab up` or `lab down`"
    click.echo(
        f"lab: {len(state.hosts)} hosts, {verdict}; docker: {'yes' if state.docker else 'no'}"
    )
    click.echo(f"state: {state.state_dir}")
    if state.inventory is not None:
        click.echo(f"inventory: {state.inventory}")
    if state.registry is not None:
        alive_text = "alive" if state.registry_alive else "DEAD"
        click.echo(f"registry: {state.registry} {alive_text}")
    for h in state.hosts:
        flags = "alive" if h.alive else "DEAD: " + "; ".join(h.problems())
        daemons = f"sshd {h.sshd_pid or '-':<8}"
        if state.docker:
            daemons += f" dockerd {h.dockerd_pid or '-':<8}"
        click.echo(f"  {h.name:<8} {h.address:<15} {daemons} {flags}")
    return 0 if state.alive else 1
