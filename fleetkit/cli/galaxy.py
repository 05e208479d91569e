"""`fleetkit galaxy check REQUIREMENTS`: what a requirements file names that is not installed.

Nothing is downloaded (fleetkit installs nothing): roles are looked for in roles/
beside the playbooks (the current folder's) and the roles path, collections in the
current folder's collections/, the collections path and sys.path, as a run finds
them (the paths of ansible.cfg and ANSIBLE_*, fleetkit/config, unless given).
Exit 0 when everything is installed (in a wanted version), 1 when something is
missing or in another version, 2 for a file that cannot be read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from fleetkit.galaxy.requirements import Finding


@click.group("galaxy", context_settings={"help_option_names": ["-h", "--help"]})
def galaxy() -> None:
    """Galaxy roles and collections already on disk (nothing is downloaded)."""


def _paths(values: tuple[str, ...]) -> tuple[Path, ...] | None:
    """--roles-path/--collections-path values (each may be colon-separated); None: not given."""
    if not values:
        return None
    return tuple(Path(p).expanduser().absolute() for v in values for p in v.split(os.pathsep) if p)


@galaxy.command("check")
@click.argument("requirements", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--roles-path",
    "roles_paths",
    multiple=True,
    metavar="PATH",
    help="Where roles are installed (default: ansible.cfg's roles_path, as a run).",
)
@click.option(
    "--collections-path",
    "collections_paths",
    multiple=True,
    metavar="PATH",
    help="Where collections are installed (default: ansible.cfg's collections_path).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def check(
    requirements: Path,
    roles_paths: tuple[str, ...],
    collections_paths: tuple[str, ...],
    as_json: bool,
) -> int:
    """Say which roles and collections REQUIREMENTS names that are not installed."""
    from fleetkit.config.ansible_cfg import load_config
    from fleetkit.config.defaults import ConfigDefaults
    from fleetkit.galaxy.check import check_file
    from fleetkit.playbook.roles import roles_path

    cwd = Path.cwd()
    defaults = ConfigDefaults.from_config(load_config(os.environ, cwd))
    findings = check_file(
        requirements,
        cwd=cwd,
        roles_path=_paths(roles_paths) or roles_path(configured=defaults.roles_path),
        collections_path=_paths(collections_paths) or defaults.collections_path,
    )
    failing = [f for f in findings if f.status.fails]
    if as_json:
        click.echo(json.dumps(_json(findings), ensure_ascii=False))
    else:
        for kind in ("role", "collection"):
            rows = [f for f in findings if f.requirement.kind == kind]
            if rows:
                click.echo(f"{kind}s:")
                for finding in rows:
                    click.echo(f"  {_line(finding)}")
        if failing:
            names = ", ".join(f.requirement.name for f in failing)
            click.echo(f"{len(failing)} of {len(findings)} not installed as wanted: {names}")
        else:
            click.echo(f"all {len(findings)} installed")
    return 1 if failing else 0


def _line(finding: Finding) -> str:
    req = finding.requirement
    wanted = f" {req.version}" if req.version and req.version != "*" else ""
    have = f" (installed {finding.installed})" if finding.installed else ""
    where = f" {finding.path}" if finding.path else ""
    detail = f": {finding.detail}" if finding.detail else ""
    return f"{finding.status.value:<15} {req.name}{wanted}{have}{where}{detail}"


def _json(findings: list[Finding]) -> dict[str, object]:
    def one(f: Finding) -> dict[str, object]:
        return {
            "name": f.requirement.name,
            "wanted": f.requirement.version,
            "type": f.requirement.source_type,
            "status": f.status.value,
            "installed": f.installed,
            "path": str(f.path) if f.path else None,
            "detail": f.detail,
            "at": str(f.requirement.pos),
        }

    return {
        "roles": [one(f) for f in findings if f.requirement.kind == "role"],
        "collections": [one(f) for f in findings if f.requirement.kind == "collection"],
        "not_installed": [f.requirement.name for f in findings if f.status.fails],
    }
