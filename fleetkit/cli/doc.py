"""`fleetkit doc MODULE` / `fleetkit doc --list`: a module's arguments and how it runs.

The `ansible-doc` habit: native modules show their declared arguments; a module
only Ansible has shows its own DOCUMENTATION and RETURN (read with ansible-core).
"""

from __future__ import annotations

import click

from fleetkit.errors import UsageError


@click.command("doc", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("module", required=False)
@click.option("--list", "as_list", is_flag=True, help="Every module this controller can run.")
def doc(module: str | None, as_list: bool) -> int:
    """Show MODULE's arguments, return values and whether it runs natively or via Ansible."""
    from fleetkit.modules.describe import describe, listing

    if as_list:
        click.echo(listing())
        return 0
    if not module:
        raise UsageError("name a module (fleetkit doc MODULE) or use --list")
    click.echo(describe(module))
    return 0
