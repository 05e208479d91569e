"""A small HTTP/1.1 server that idle or slow clients cannot hold down.

One event-loop thread owns every socket (non-blocking, a selector): it accepts,
does TLS handshakes, buffers request headers and writes responses, so an idle
connection or a slowloris costs a buffer, never a thread. Only a request whose
headers are complete goes to a small worker pool (the handler may run bcrypt).
Bounds: at most `max_connections` open (the oldest idle one is closed to make
room, so new scrapes always get in), headers within `header_timeout_s` of the
connection or of its first byte, keep-alive idle for `idle_timeout_s`, the whole
response written within `write_timeout_s`, headers at most `max_header_bytes`.
HEAD gets the headers of GET and no body.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger("fleetkit.monitoring")

CHUNK = 256 * 1024


@dataclass(frozen=True)
class Limits:
    """How much the server gives any one client, and all of them together."""

    max_connections: int = 1024
    workers: int = 4
    header_timeout_s: float = 10.0
    idle_timeout_s: float = 90.0
    write_timeout_s: float = 30.0
    max_header_bytes: int = 16 * 1024
    backlog: int = 512


@dataclass(frozen=True)
class Request:
    """One parsed request: header names lower-cased, repeated headers joined with ', '."""

    method: str
    target: str
    version: str
    headers: Mapping[str, str]
    peer: tuple[str, int]
    scheme: str = "http"


@dataclass(frozen=True)
class Response:
    status: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    head_only: bool = False  # HEAD: send Content-Length of the body, not the body


@dataclass(frozen=True)
class TlsSettings:
    """The TLS context for new connections and a check of the verified client certificate."""

    context: ssl.SSLContext
    client_allowed: Callable[[dict[str, Any] | None], bool] = lambda cert: True


Handler = Callable[[Request], Response]


class _Conn:
    __slots__ = ("close_after", "deadline", "inbuf", "outbuf", "peer", "since", "sock", "state")

    def __init__(self, sock: socket.socket, peer: tuple[str, int], deadline: float) -> None:
        self.sock = sock
        self.peer = peer
        self.state = "read"  # handshake | read | work | write | closed
        self.inbuf = bytearray()
        self.outbuf: memoryview | None = None
        self.deadline = deadline
        self.since = time.monotonic()
        self.close_after = False


class HttpServer:
    """serve_forever() in a thread; shutdown() stops it and closes every connection."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: Handler,
        *,
        tls: TlsSettings | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.tls = tls
        self._handler = handler
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((host, port))
            self._listener.listen(self.limits.backlog)
        except OSError:
            self._listener.close()
            raise
        self._listener.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._done: queue.SimpleQueue[tuple[_Conn, Response]] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="fk-http")
        self._conns: dict[int, _Conn] = {}
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    def serve_forever(self) -> None:
        try:
            while not self._stopping.is_set():
                for key, mask in self._sel.select(timeout=0.25):
                    if key.data is None:
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._on_event(key.data, mask)
                self._finish_work()
                self._expire()
        finally:
            for conn in list(self._conns.values()):
                self._close(conn)
            self._sel.close()
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._stopped.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake()
        self._stopped.wait(timeout)

    # --- the loop's steps --------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full (a wake is pending anyway) or closed
            self._wake_w.send(b"x")

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, peer = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:  # EMFILE and the like: leave it in the backlog
                log.warning("cannot accept a connection: %s", err)
                return
            if len(self._conns) >= self.limits.max_connections and not self._evict_idle():
                sock.close()
                continue
            sock.setblocking(False)
            now = time.monotonic()
            conn = _Conn(sock, (str(peer[0]), int(peer[1])), now + self.limits.header_timeout_s)
            tls = self.tls
            if tls is not None:
                try:
                    conn.sock = tls.context.wrap_socket(
                        sock, server_side=True, do_handshake_on_connect=False
                    )
                except (ssl.SSLError, OSError):
                    sock.close()
                    continue
                conn.state = "handshake"
            self._conns[id(conn)] = conn
            self._sel.register(conn.sock, selectors.EVENT_READ, conn)

    def _evict_idle(self) -> bool:
        """Close the connection idle the longest (not one being answered) to make room."""
        idle = [c for c in self._conns.values() if c.state in ("read", "handshake")]
        if not idle:
            return False
        self._close(min(idle, key=lambda c: c.since))
        return True

    def _on_event(self, conn: _Conn, mask: int) -> None:
        if conn.state == "handshake":
            self._handshake(conn)
        elif conn.state == "read":
            self._read(conn)
        elif conn.state == "write":
            self._write(conn)

    def _handshake(self, conn: _Conn) -> None:
        assert isinstance(conn.sock, ssl.SSLSocket) and self.tls is not None
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._watch(conn, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._watch(conn, selectors.EVENT_WRITE)
            return
        except (ssl.SSLError, OSError):
            self._close(conn)
            return
        if not self.tls.client_allowed(conn.sock.getpeercert()):
            log.info("refused %s: client certificate SAN not allowed", conn.peer[0])
            self._close(conn)
            return
        conn.state = "read"
        self._watch(conn, selectors.EVENT_READ)
        self._read(conn)

    def _read(self, conn: _Conn) -> None:
        while True:
            try:
                data = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except OSError:
                self._close(conn)
                return
            if not data:
                self._close(conn)
                return
            if not conn.inbuf:  # the first byte of a request: its headers are due soon
                conn.deadline = min(conn.deadline, time.monotonic() + self.limits.header_timeout_s)
            conn.inbuf += data
            if b"\r\n\r\n" in conn.inbuf or len(conn.inbuf) > self.limits.max_header_bytes:
                break
        self._try_dispatch(conn)

    def _try_dispatch(self, conn: _Conn) -> None:
        while conn.inbuf.startswith(b"\r\n"):  # stray CRLF between requests (RFC 9112 2.2)
            del conn.inbuf[:2]
        end = conn.inbuf.find(b"\r\n\r\n")
        if end < 0:
            if len(conn.inbuf) > self.limits.max_header_bytes:
                self._respond(conn, _plain("431 Request Header Fields Too Large"), "GET", True)
            return
        if end > self.limits.max_header_bytes:
            self._respond(conn, _plain("431 Request Header Fields Too Large"), "GET", True)
            return
        head = bytes(conn.inbuf[:end])
        del conn.inbuf[: end + 4]
        request = self._parse(conn, head)
        if request is None:
            self._respond(conn, _plain("400 Bad Request"), "GET", True)
            return
        keep = request.version == "HTTP/1.1" and "close" not in request.headers.get(
            "connection", ""
        ).lower().replace(" ", "").split(",")
        if request.headers.get("transfer-encoding") or request.headers.get(
            "content-length", "0"
        ).strip() not in ("", "0"):
            keep = False  # a body we do not read: answer, then close
        conn.close_after = not keep
        conn.state = "work"
        self._sel.unregister(conn.sock)
        future = self._pool.submit(self._call, request)
        future.add_done_callback(lambda f: self._work_done(conn, request.method, f))

    def _parse(self, conn: _Conn, head: bytes) -> Request | None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1") or not parts[0].isalpha():
            return None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip() or " " in name:
                return None
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        scheme = "https" if isinstance(conn.sock, ssl.SSLSocket) else "http"
        return Request(parts[0], parts[1], parts[2], headers, conn.peer, scheme)

    def _call(self, request: Request) -> Response:
        try:
            return self._handler(request)
        except Exception:
            log.exception("error answering %s %s", request.method, request.target)
            return _plain("500 Internal Server Error")

    def _work_done(self, conn: _Conn, method: str, future: Future[Response]) -> None:
        response = future.result() if not future.cancelled() else _plain("503 Service Unavailable")
        self._done.put((conn, _with_method(response, method)))
        self._wake()

    def _finish_work(self) -> None:
        while True:
            try:
                conn, response = self._done.get_nowait()
            except queue.Empty:
                return
            if conn.state == "closed":
                continue
            self._respond(conn, response, "", conn.close_after)

    def _respond(self, conn: _Conn, response: Response, method: str, close: bool) -> None:
        conn.close_after = conn.close_after or close
        if method:
            response = _with_method(response, method)
        lines = [f"HTTP/1.1 {response.status}"]
        lines += [f"{k}: {v}" for k, v in response.headers if k.lower() != "content-length"]
        lines.append(f"Content-Length: {len(response.body)}")
        if conn.close_after:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if response.head_only else response.body
        conn.outbuf = memoryview(head + body)
        conn.state = "write"
        conn.deadline = time.monotonic() + self.limits.write_timeout_s
        self._watch(conn, selectors.EVENT_WRITE)
        self._write(conn)

    def _write(self, conn: _Conn) -> None:
        assert conn.outbuf is not None
        while conn.outbuf:
            try:
                sent = conn.sock.send(conn.outbuf[:CHUNK])
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                return
            except OSError:
                self._close(conn)
                return
            conn.outbuf = conn.outbuf[sent:]
        conn.outbuf = None
        if conn.close_after:
            self._close(conn)
            return
        conn.state = "read"
        conn.since = time.monotonic()
        conn.deadline = conn.since + self.limits.idle_timeout_s
        self._watch(conn, selectors.EVENT_READ)
        if conn.inbuf:  # a pipelined request already buffered
            conn.deadline = min(conn.deadline, conn.since + self.limits.header_timeout_s)
            self._try_dispatch(conn)

    def _watch(self, conn: _Conn, events: int) -> None:
        try:
            self._sel.modify(conn.sock, events, conn)
        except KeyError:
            self._sel.register(conn.sock, events, conn)

    def _expire(self) -> None:
        now = time.monotonic()
        for conn in [c for c in self._conns.values() if c.state != "work" and c.deadline < now]:
            self._close(conn)

    def _close(self, conn: _Conn) -> None:
        if conn.state == "closed":
            return
        if conn.state != "work":
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(conn.sock)
        conn.state = "closed"
        self._conns.pop(id(conn), None)
        with contextlib.suppress(OSError):
            conn.sock.close()


def _with_method(response: Response, method: str) -> Response:
    return replace(response, head_only=True) if method == "HEAD" else response


def _plain(status: str) -> Response:
    return Response(
        status,
        [("Content-Type", "text/plain; charset=utf-8")],
        (status.split(" ", 1)[1] + "\n").encode(),
    )
