"""The keeper's framing: header + blobs round-trip, bounds, and a peer closing mid-message."""

from __future__ import annotations

import socket
import struct

import pytest

from fleetkit.keeper import protocol

pytestmark = pytest.mark.unit


@pytest.fixture
def pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    yield a, b  # type: ignore[misc]
    a.close()
    b.close()


def test_header_and_blobs_round_trip(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    blobs = [b"", b"\x00\xffbinary", bytes(range(256)) * 100]
    protocol.send(a, {"op": "run", "command": "echo é"}, blobs)
    header, got = protocol.recv(b)
    assert header == {"op": "run", "command": "echo é", "blobs": 3}
    assert got == blobs


def test_two_messages_back_to_back(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    protocol.send(a, {"n": 1}, [b"x"])
    protocol.send(a, {"n": 2})
    assert protocol.recv(b) == ({"n": 1, "blobs": 1}, [b"x"])
    assert protocol.recv(b) == ({"n": 2, "blobs": 0}, [])


def test_clean_close_between_messages_is_peer_closed(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    a.close()
    with pytest.raises(protocol.PeerClosed):
        protocol.recv(b)


def test_close_mid_message_is_protocol_error(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    frames = protocol.encode({"op": "run"}, [b"0123456789"])
    a.sendall(b"".join(frames)[:-4])
    a.close()
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.recv(b)
    assert not isinstance(err.value, protocol.PeerClosed)


def test_oversized_header_refused_before_reading_it(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    a.sendall(struct.pack(">I", protocol.MAX_HEADER + 1))
    with pytest.raises(protocol.ProtocolError, match="over the limit"):
        protocol.recv(b)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"blobs": 99}', b'{"blobs": "x"}'])
def test_malformed_headers_refused(pair: tuple[socket.socket, socket.socket], body: bytes) -> None:
    a, b = pair
    a.sendall(struct.pack(">I", len(body)) + body)
    with pytest.raises(protocol.ProtocolError):
        protocol.recv(b)
