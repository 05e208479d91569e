"""`python -m fleetkit.keeper --socket PATH`: the keeper process (started by a run)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from fleetkit.keeper.settings import ENV, KEEPER_ENV, socket_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleetkit.keeper")
    parser.add_argument("--socket", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.pop(ENV, None)  # the keeper's own connections are plain SSH ones
    os.environ[KEEPER_ENV] = "1"
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s keeper[%(process)d] %(message)s", stream=sys.stderr
    )
    from fleetkit.keeper.server import run_keeper

    return run_keeper(args.socket or socket_path())


if __name__ == "__main__":
    raise SystemExit(main())
