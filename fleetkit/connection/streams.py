"""Byte streams to sockets on an SSH host, as channels of the connection's one transport.

A unix socket goes through OpenSSH's direct-streamlocal@openssh.com extension
(what `ssh -L /local:/remote.sock` uses), a TCP port through direct-tcpip
(RFC 4254 7.2); no process starts on the host and no port needs to be open to
the controller. Streams ride on the transport's socket, whose Nagle is off
(SSHConnection.open), so small requests do not wait for delayed ACKs.

paramiko's `Transport.open_channel` writes the extra fields of only direct-tcpip,
forwarded-tcpip and x11, so `open_streamlocal` is its body for the one other
kind, on the same private members. That is the one place fleetkit relies on
paramiko internals; pyproject pins paramiko's major version and
tests/unit/connection/test_paramiko_contract.py fails if they change.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import paramiko
from paramiko.common import cMSG_CHANNEL_OPEN

STREAMLOCAL = "direct-streamlocal@openssh.com"
POLL_S = 0.05

# The private Transport/Channel members open_streamlocal uses (checked by a unit test).
PRIVATE_TRANSPORT = (
    "lock",
    "active",
    "_sanitize_window_size",
    "_sanitize_packet_size",
    "_next_channel",
    "_channels",
    "channel_events",
    "channels_seen",
    "_send_user_message",
)
PRIVATE_CHANNEL = ("_set_transport", "_set_window")


def streamlocal_message(chanid: int, window: int, packet: int, path: str) -> paramiko.Message:
    """The CHANNEL_OPEN request for a unix socket (OpenSSH PROTOCOL, 2.4)."""
    msg = paramiko.Message()
    msg.add_byte(cMSG_CHANNEL_OPEN)
    msg.add_string(STREAMLOCAL)
    msg.add_int(chanid)
    msg.add_int(window)
    msg.add_int(packet)
    msg.add_string(path)
    msg.add_string("")  # reserved
    msg.add_int(0)  # reserved
    return msg


def open_streamlocal(transport: paramiko.Transport, path: str, timeout: float) -> paramiko.Channel:
    """A channel to the unix socket at path on the host.

    Raises paramiko.ChannelException when the server refuses the channel (no such
    socket, nothing listening, or stream-local forwarding disabled) and
    paramiko.SSHException when the transport is closed or the open times out.
    """
    t: Any = transport
    if not t.active:
        raise paramiko.SSHException("SSH session not active")
    with t.lock:
        window = t._sanitize_window_size(None)
        packet = t._sanitize_packet_size(None)
        chanid = t._next_channel()
        chan: Any = paramiko.Channel(chanid)
        t._channels.put(chanid, chan)
        event = threading.Event()
        t.channel_events[chanid] = event
        t.channels_seen[chanid] = True
        chan._set_transport(t)
        chan._set_window(window, packet)
    t._send_user_message(streamlocal_message(chanid, window, packet, path))
    return _wait_open(t, chanid, event, timeout)


def _wait_open(t: Any, chanid: int, event: threading.Event, timeout: float) -> paramiko.Channel:
    """Wait for the server's OPEN_CONFIRMATION or OPEN_FAILURE, as open_channel does."""
    deadline = time.monotonic() + timeout
    while not event.wait(POLL_S):
        if not t.active:
            raise t.get_exception() or paramiko.SSHException("SSH session closed")
        if time.monotonic() > deadline:
            raise paramiko.SSHException(f"timed out after {timeout:g}s opening a channel")
    opened = t._channels.get(chanid)
    if opened is None:
        # paramiko stores the server's OPEN_FAILURE (a ChannelException) as saved_exception.
        raise t.get_exception() or paramiko.ChannelException(1, "channel refused")
    return opened  # type: ignore[no-any-return]


def open_direct_tcpip(
    transport: paramiko.Transport, host: str, port: int, timeout: float
) -> paramiko.Channel:
    """A channel to host:port as the SSH server sees it (public paramiko API)."""
    return transport.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=timeout)


def open_exec(transport: paramiko.Transport, command: str, timeout: float) -> paramiko.Channel:
    """A channel whose bytes are command's stdin and stdout on the host (the exec request
    also answered within timeout: deadlines.exec_request)."""
    from fleetkit.connection.deadlines import exec_request

    chan = transport.open_session(timeout=timeout)
    try:
        exec_request(chan, command, timeout)
    except BaseException:
        chan.close()
        raise
    return chan
