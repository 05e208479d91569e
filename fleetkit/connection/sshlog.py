"""Keep paramiko's own log records off the user's terminal.

paramiko's transport thread logs each failed handshake (a refused, reset or
closed connection, a missing banner) at ERROR, one record per line of a
traceback, and with no handler configured Python's last-resort handler prints
them all on stderr, under --json too. The same failure reaches the user once,
in fleetkit's words: the host's `unreachable` result line (or JSON event). So
the CLI turns paramiko's logger down; `fleetkit exporter -vv` turns it back on
(monitoring/logsetup.py).
"""

from __future__ import annotations

import logging

PARAMIKO_LOGGER = "paramiko"


def quiet_paramiko() -> None:
    """Drop paramiko's records unless something already chose a level for its logger."""
    logger = logging.getLogger(PARAMIKO_LOGGER)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.CRITICAL + 1)
