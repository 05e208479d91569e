"""Log lines for the long-running monitoring commands (exporter, health) on stderr.

The exporter reports each host's trouble once, in its own words ("lab3: down:
timed out"); paramiko's own tracebacks for the same event (banner timeouts,
resets) are noise there, so they are shown only with -v.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbose: int = 0, *, level: int = logging.INFO) -> None:
    """fleetkit.* at `level` (DEBUG with -v) with timestamps; paramiko quiet unless -vv."""
    logger = logging.getLogger("fleetkit")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else level)
    logger.propagate = False
    logging.getLogger("paramiko").setLevel(logging.DEBUG if verbose > 1 else logging.CRITICAL)
