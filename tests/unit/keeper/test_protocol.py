"""The keeper's framing: header + blobs round-trip, bounds, and a peer closing mid-message."""

from __future__ import annotations

import socket
import struct
import threading

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


def test_reader_splits_messages_sent_in_one_write(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    a.sendall(protocol.pack({"id": 1}, [b"out", b""]) + protocol.pack({"id": 2}) + b"tail")
    reader = protocol.Reader(b, chunk=7)  # small chunks: messages cross recv boundaries
    assert reader.recv() == ({"id": 1, "blobs": 2}, [b"out", b""])
    assert reader.recv() == ({"id": 2, "blobs": 0}, [])
    rest = reader.leftover()
    assert b"tail".startswith(rest)  # what was read past the last message, if any


def test_reader_reads_a_blob_bigger_than_its_chunk(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    big = bytes(range(256)) * 4096  # 1 MiB
    sender = threading.Thread(target=protocol.send, args=(a, {"op": "run"}, [big]))
    sender.start()
    header, blobs = protocol.Reader(b).recv()
    sender.join(5)
    assert header == {"op": "run", "blobs": 1} and blobs == [big]


def test_reader_close_between_and_inside_messages(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    a.sendall(protocol.pack({"n": 1}) + protocol.pack({"n": 2})[:-3])
    a.close()
    reader = protocol.Reader(b)
    assert reader.recv()[0] == {"n": 1, "blobs": 0}
    with pytest.raises(protocol.ProtocolError) as err:
        reader.recv()
    assert not isinstance(err.value, protocol.PeerClosed)
    c, d = socket.socketpair()
    c.close()
    with pytest.raises(protocol.PeerClosed):
        protocol.Reader(d).recv()
    d.close()
