"""The keeper's wire format: a message is a JSON header and zero or more byte blobs,
each a frame of a 4-byte big-endian length and that many bytes.

The header says how many blobs follow ("blobs"); stdin, stdout and stderr travel
as blobs, never inside JSON, so binary data costs no escaping. Sizes are bounded
so a confused peer cannot make the other side allocate without limit.

A run's requests share one socket (multiplexed: each request carries an "id" and
its reply the same "id", in any order), so a message is written with one sendall
(`pack`) under the writer's lock and read through a buffered `Reader`.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

LENGTH = struct.Struct(">I")
MAX_HEADER = 1 << 20
MAX_BLOB = (1 << 32) - 1
MAX_BLOBS = 8


class ProtocolError(Exception):
    """The peer sent something that is not a keeper message (or closed mid-message)."""


class PeerClosed(ProtocolError):
    """The peer closed the socket cleanly between messages."""


def encode(header: dict[str, Any], blobs: tuple[bytes, ...] | list[bytes] = ()) -> list[bytes]:
    """The frames of one message (the header gets its "blobs" count)."""
    if len(blobs) > MAX_BLOBS:
        raise ProtocolError(f"too many blobs ({len(blobs)})")
    body = json.dumps({**header, "blobs": len(blobs)}, separators=(",", ":")).encode()
    if len(body) > MAX_HEADER:
        raise ProtocolError("header too large")
    out = [LENGTH.pack(len(body)), body]
    for blob in blobs:
        if len(blob) > MAX_BLOB:
            raise ProtocolError("blob too large")
        out += [LENGTH.pack(len(blob)), blob]
    return out


def pack(header: dict[str, Any], blobs: tuple[bytes, ...] | list[bytes] = ()) -> bytes:
    """One message as one bytes value (one sendall: a message is never interleaved)."""
    return b"".join(encode(header, blobs))


def send(
    sock: socket.socket, header: dict[str, Any], blobs: tuple[bytes, ...] | list[bytes] = ()
) -> None:
    sock.sendall(pack(header, blobs))


def _exact(sock: socket.socket, n: int, *, first: bool = False) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            if first and not buf:
                raise PeerClosed("peer closed")
            raise ProtocolError("peer closed in the middle of a message")
        buf += chunk
    return bytes(buf)


def recv(sock: socket.socket) -> tuple[dict[str, Any], list[bytes]]:
    """One message: (header, blobs). PeerClosed at a clean end, ProtocolError otherwise."""
    (size,) = LENGTH.unpack(_exact(sock, LENGTH.size, first=True))
    if size > MAX_HEADER:
        raise ProtocolError(f"header of {size} bytes is over the limit")
    header = _parse_header(_exact(sock, size))
    blobs = []
    for _ in range(header.get("blobs", 0)):
        (n,) = LENGTH.unpack(_exact(sock, LENGTH.size))
        blobs.append(_exact(sock, n))
    return header, blobs


def _parse_header(body: bytes) -> dict[str, Any]:
    try:
        header = json.loads(body)
    except ValueError as err:
        raise ProtocolError(f"header is not JSON: {err}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not an object")
    count = header.get("blobs", 0)
    if not isinstance(count, int) or not 0 <= count <= MAX_BLOBS:
        raise ProtocolError(f"bad blob count {count!r}")
    return header


class Reader:
    """Messages from a socket read in big chunks (a few recv calls per many messages,
    not several per message). Only for sockets that carry nothing but messages: bytes
    after the last message read are kept here, not left in the socket."""

    def __init__(self, sock: socket.socket, chunk: int = 1 << 16) -> None:
        self._sock = sock
        self._chunk = chunk
        self._buf = bytearray()

    def _fill(self, n: int, *, first: bool = False) -> None:
        while len(self._buf) < n:
            data = self._sock.recv(max(self._chunk, min(n - len(self._buf), 1 << 20)))
            if not data:
                if first and not self._buf:
                    raise PeerClosed("peer closed")
                raise ProtocolError("peer closed in the middle of a message")
            self._buf += data

    def _take(self, n: int, *, first: bool = False) -> bytes:
        self._fill(n, first=first)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def leftover(self) -> bytes:
        """What was read past the last message (a stream's first bytes)."""
        out, self._buf = bytes(self._buf), bytearray()
        return out

    def recv(self) -> tuple[dict[str, Any], list[bytes]]:
        """One message, as protocol.recv reads it."""
        (size,) = LENGTH.unpack(self._take(LENGTH.size, first=True))
        if size > MAX_HEADER:
            raise ProtocolError(f"header of {size} bytes is over the limit")
        header = _parse_header(self._take(size))
        blobs = []
        for _ in range(header.get("blobs", 0)):
            (n,) = LENGTH.unpack(self._take(LENGTH.size))
            blobs.append(self._take(n))
        return header, blobs
