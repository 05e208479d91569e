"""Bounded waits on an SSH peer, and bounded capture of what it sends.

paramiko's `Channel.exec_command` waits for the server's reply with no timeout:
a server that authenticates and then never answers the exec request (a wedged
sshd, a hung PAM session) blocks the caller forever. `exec_request` is that
method's body with a deadline, on the same private Channel members (listed in
PRIVATE_EXEC_CHANNEL and checked by tests/unit/reliability/test_stuck_peer.py,
as streams.py does for its own).

`Capture` (in outputcap.py, re-exported here) keeps at most `cap` bytes of one
stream and counts the rest, so a host that floods stdout costs the controller at
most the cap while it is drained.
"""

from __future__ import annotations

from typing import Any

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST

from fleetkit.connection.outputcap import (
    DEFAULT_MAX_OUTPUT,
    MAX_OUTPUT_ENV,
    SIZE_UNITS,
    Capture,
    max_output_from_env,
    parse_size,
    size_text,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "MAX_OUTPUT_ENV",
    "SIZE_UNITS",
    "Capture",
    "PeerTimeout",
    "exec_request",
    "max_output_from_env",
    "parse_size",
    "size_text",
]

PRIVATE_EXEC_CHANNEL = ("_event_pending", "event", "event_ready", "remote_chanid", "transport")


class PeerTimeout(paramiko.SSHException):
    """The SSH server did not answer a request within its deadline."""


def exec_request(chan: paramiko.Channel, command: str, timeout: float) -> None:
    """Ask the server to run command on chan; PeerTimeout if it does not answer in time.

    Raises paramiko.SSHException when the server refuses or the channel closes,
    as exec_command does.
    """
    c: Any = chan
    if c.closed or c.eof_received or c.eof_sent or not c.active:
        raise paramiko.SSHException("channel is not open")
    msg = paramiko.Message()
    msg.add_byte(cMSG_CHANNEL_REQUEST)
    msg.add_int(c.remote_chanid)
    msg.add_string("exec")
    msg.add_boolean(True)
    msg.add_string(command)
    c._event_pending()
    c.transport._send_user_message(msg)
    if not c.event.wait(max(timeout, 0.0)):
        raise PeerTimeout(f"no answer to the exec request within {timeout:g}s")
    if c.event_ready:
        return
    raise c.transport.get_exception() or paramiko.SSHException("the server refused the command")
