"""`python -m fleetkit.dashboards [--check] [DIR]`: write (or check) grafana/dashboards/*.json."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fleetkit.dashboards.catalog import catalog

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"


def render_json(name: str) -> str:
    """The committed text of dashboard file `name`: sorted keys, 2-space indent."""
    return json.dumps(catalog()[name](), indent=2, sort_keys=True) + "\n"


def stale(directory: Path) -> list[str]:
    """Dashboard files in directory that differ from what the catalog builds."""
    out = []
    for name in catalog():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != render_json(name):
            out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write every dashboard, or with --check exit 1 naming the stale ones."""
    parser = argparse.ArgumentParser(prog="python -m fleetkit.dashboards")
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    directory: Path = args.directory
    if args.check:
        names = stale(directory)
        for name in names:
            print(f"{directory / name}: stale, run python -m fleetkit.dashboards", file=sys.stderr)
        return 1 if names else 0
    directory.mkdir(parents=True, exist_ok=True)
    for name in catalog():
        (directory / name).write_text(render_json(name), encoding="utf-8")
        print(directory / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
