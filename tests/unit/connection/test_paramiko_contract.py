"""What fleetkit relies on in paramiko beyond its public API (connection/streams.py).

A paramiko server on a socketpair (no network) plays sshd: if a paramiko release
renames the Transport members open_streamlocal uses, changes how a channel
opened by hand is confirmed or refused, or moves to another major version, these
fail before any lab run does.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import paramiko
import pytest
from paramiko.common import (
    AUTH_SUCCESSFUL,
    OPEN_FAILED_CONNECT_FAILED,
    OPEN_SUCCEEDED,
    cMSG_CHANNEL_OPEN,
)

from fleetkit.connection import streams

pytestmark = pytest.mark.unit


@dataclass
class Server(paramiko.ServerInterface):
    """Accepts one user, stream-local channels (except to a 'refused' kind) and direct-tcpip."""

    accept_streamlocal: bool = True
    requests: list[tuple[str, object]] = field(default_factory=list)

    def check_auth_none(self, username: str) -> int:
        return AUTH_SUCCESSFUL

    def get_allowed_auths(self, username: str) -> str:
        return "none"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        self.requests.append((kind, chanid))
        if kind == streams.STREAMLOCAL and self.accept_streamlocal:
            return OPEN_SUCCEEDED
        return OPEN_FAILED_CONNECT_FAILED

    def check_channel_direct_tcpip_request(
        self, chanid: int, origin: tuple[str, int], destination: tuple[str, int]
    ) -> int:
        self.requests.append(("direct-tcpip", destination))
        return OPEN_SUCCEEDED if destination[1] == 6443 else OPEN_FAILED_CONNECT_FAILED


@dataclass
class Pair:
    client: paramiko.Transport
    server: paramiko.Transport
    iface: Server


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


@pytest.fixture
def pair(host_key: paramiko.PKey) -> Iterator[Pair]:
    a, b = socket.socketpair()
    server = paramiko.Transport(b)
    server.add_server_key(host_key)
    iface = Server()
    started = threading.Thread(target=server.start_server, kwargs={"server": iface})
    started.start()
    client = paramiko.Transport(a)
    client.connect(username="fleet")  # auth none
    started.join(5)
    client.auth_none("fleet")
    try:
        yield Pair(client, server, iface)
    finally:
        client.close()
        server.close()


def test_paramiko_major_version_is_the_pinned_one() -> None:
    # pyproject pins paramiko>=4,<6: this file passes on 4.0 (what the bench extra's
    # pyinfra needs, paramiko<5) and on 5.1; a new major needs it re-checked.
    assert paramiko.__version__.split(".")[0] in ("4", "5")


def test_the_private_members_open_streamlocal_uses_still_exist(pair: Pair) -> None:
    missing = [m for m in streams.PRIVATE_TRANSPORT if not hasattr(pair.client, m)]
    assert missing == []
    chan_missing = [m for m in streams.PRIVATE_CHANNEL if not hasattr(paramiko.Channel, m)]
    assert chan_missing == []


def test_the_streamlocal_request_has_openssh_layout() -> None:
    msg = paramiko.Message(streams.streamlocal_message(7, 2097152, 32768, "/run/x.sock").asbytes())
    assert msg.get_byte() == cMSG_CHANNEL_OPEN
    assert msg.get_text() == "direct-streamlocal@openssh.com"
    assert (msg.get_int(), msg.get_int(), msg.get_int()) == (7, 2097152, 32768)
    assert msg.get_text() == "/run/x.sock"
    assert msg.get_text() == ""  # reserved
    assert msg.get_int() == 0  # reserved
    assert msg.get_remainder() == b""


def test_a_hand_opened_streamlocal_channel_carries_bytes_both_ways(pair: Pair) -> None:
    chan = streams.open_streamlocal(pair.client, "/var/run/docker.sock", timeout=5)
    far = pair.server.accept(5)
    assert far is not None
    chan.sendall(b"GET /_ping")
    assert far.recv(100) == b"GET /_ping"
    far.sendall(b"OK")
    assert chan.recv(100) == b"OK"
    assert (streams.STREAMLOCAL, chan.get_id()) in pair.iface.requests
    chan.close()


def test_a_refused_streamlocal_channel_raises_channel_exception(pair: Pair) -> None:
    pair.iface.accept_streamlocal = False
    with pytest.raises(paramiko.ChannelException) as err:
        streams.open_streamlocal(pair.client, "/var/run/docker.sock", timeout=5)
    assert err.value.code == OPEN_FAILED_CONNECT_FAILED
    # the transport is still usable afterwards
    pair.iface.accept_streamlocal = True
    streams.open_streamlocal(pair.client, "/var/run/docker.sock", timeout=5).close()


def test_streamlocal_on_a_closed_transport_is_an_ssh_exception(pair: Pair) -> None:
    pair.client.close()
    with pytest.raises(paramiko.SSHException):
        streams.open_streamlocal(pair.client, "/var/run/docker.sock", timeout=5)


def test_direct_tcpip_sends_the_destination_and_refusal_is_a_channel_exception(
    pair: Pair,
) -> None:
    chan = streams.open_direct_tcpip(pair.client, "127.0.0.1", 6443, timeout=5)
    assert ("direct-tcpip", ("127.0.0.1", 6443)) in pair.iface.requests
    chan.close()
    with pytest.raises(paramiko.ChannelException):
        streams.open_direct_tcpip(pair.client, "127.0.0.1", 1, timeout=5)
