"""An httpx2 transport whose connections are streams over the host's SSH connection.

Each HTTP connection to the API server is `conn.open_tcp_stream(6443)` (SSH
direct-tcpip to the server's loopback), with TLS done in memory over that stream
(ssl.SSLObject + MemoryBIO), so no API port needs to be open to the controller.
Every read has a deadline: a watch's read timeout (None in lightkube) is capped
at `max_read_s`, so a silent tunnel can never hang a wait.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore2
import httpx2

from fleetkit.connection.base import Stream
from fleetkit.errors import StreamRefused

StreamOpener = Callable[[float], Stream]
"""Opens a stream to the API port; the argument is the connect timeout in seconds."""

TLS_RECORD = 16384
DEFAULT_MAX_READ_S = 60.0


def _capped(timeout: float | None, cap: float) -> float:
    return cap if timeout is None else min(timeout, cap)


class TLSStream(httpcore2.NetworkStream):
    """TLS over a fleetkit Stream: the SSL object works on memory, the stream moves bytes."""

    def __init__(
        self,
        stream: Stream,
        context: ssl.SSLContext,
        server_hostname: str | None,
        max_read_s: float,
    ) -> None:
        self._stream = stream
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._max_read_s = max_read_s
        self._ssl = context.wrap_bio(
            self._incoming, self._outgoing, server_hostname=server_hostname
        )

    def handshake(self, timeout: float | None) -> TLSStream:
        try:
            self._io(self._ssl.do_handshake, timeout)
        except _IO_ERRORS as exc:
            raise _mapped(exc, httpcore2.ConnectError, httpcore2.ConnectTimeout) from exc
        return self

    def _io(self, func: Callable[[], Any], timeout: float | None) -> Any:
        self._stream.settimeout(_capped(timeout, self._max_read_s))
        while True:
            want_read = False
            try:
                result = func()
            except ssl.SSLWantReadError:
                want_read = True
            pending = self._outgoing.read()
            if pending:
                self._stream.sendall(pending)
            if not want_read:
                return result
            data = self._stream.recv(TLS_RECORD)
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return bytes(self._io(functools.partial(self._ssl.read, max_bytes), timeout))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""
        except _IO_ERRORS as exc:
            raise _mapped(exc, httpcore2.ReadError, httpcore2.ReadTimeout) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        try:
            while view:
                sent = int(self._io(functools.partial(self._ssl.write, view), timeout))
                view = view[sent:]
        except _IO_ERRORS as exc:
            raise _mapped(exc, httpcore2.WriteError, httpcore2.WriteTimeout) from exc

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        raise httpcore2.ConnectError("TLS is already established on this stream")

    def get_extra_info(self, info: str) -> Any:
        return self._ssl if info == "ssl_object" else None


class PlainStream(httpcore2.NetworkStream):
    """The raw tunnel stream before TLS; start_tls turns it into a TLSStream."""

    def __init__(self, stream: Stream, max_read_s: float) -> None:
        self._stream = stream
        self._max_read_s = max_read_s

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            self._stream.settimeout(_capped(timeout, self._max_read_s))
            return self._stream.recv(max_bytes)
        except _IO_ERRORS as exc:
            raise _mapped(exc, httpcore2.ReadError, httpcore2.ReadTimeout) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self._stream.settimeout(_capped(timeout, self._max_read_s))
            self._stream.sendall(buffer)
        except _IO_ERRORS as exc:
            raise _mapped(exc, httpcore2.WriteError, httpcore2.WriteTimeout) from exc

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        tls = TLSStream(self._stream, ssl_context, server_hostname, self._max_read_s)
        try:
            return tls.handshake(timeout)
        except BaseException:
            self.close()  # a refused handshake must not leak the SSH channel
            raise


def _mapped(exc: BaseException, error: type[Exception], timeout: type[Exception]) -> Exception:
    """A socket or TLS error as httpcore's own, so httpx2 reports it as its own."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return timeout(str(exc) or "timed out")
    return error(str(exc) or type(exc).__name__)


_IO_ERRORS = (OSError, EOFError, ssl.SSLError)


class TunnelBackend(httpcore2.NetworkBackend):
    """connect_tcp opens a stream through the host's connection (host/port are ignored:
    the opener knows where the API server is). A refused stream is a ConnectError; a
    lost host stays fleetkit's ConnectionError, so the host is reported unreachable."""

    def __init__(self, opener: StreamOpener, max_read_s: float = DEFAULT_MAX_READ_S) -> None:
        self._opener = opener
        self._max_read_s = max_read_s

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        try:
            stream = self._opener(_capped(timeout, self._max_read_s))
        except StreamRefused as exc:  # the host is up, nothing listens: a service error
            raise httpcore2.ConnectError(str(exc)) from exc
        except _IO_ERRORS as exc:
            raise _mapped(exc, httpcore2.ConnectError, httpcore2.ConnectTimeout) from exc
        return PlainStream(stream, self._max_read_s)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        raise httpcore2.ConnectError("the API tunnel does not open unix sockets")


class TunnelTransport(httpx2.HTTPTransport):
    """httpx2's own transport (request mapping, errors) over a pool of tunnel streams."""

    def __init__(
        self,
        opener: StreamOpener,
        ssl_context: ssl.SSLContext,
        *,
        max_read_s: float = DEFAULT_MAX_READ_S,
        max_connections: int = 4,
    ) -> None:
        super().__init__(verify=ssl_context)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=TunnelBackend(opener, max_read_s),
        )
