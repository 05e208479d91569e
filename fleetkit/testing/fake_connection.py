"""A scriptable in-memory connection for unit tests of everything above transports.

It lives in fleetkit.testing (importable by tests and bench, never by package
code) so any layer can be tested without a network: give it a handler that
maps a command to a result, or a table of regular expressions, and read back
`calls` to see what would have run.
Streams go to in-memory listeners (a function serving the far end of a
socketpair in a thread); put_file records the file instead of running anything.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fleetkit.connection.base import STREAM_TIMEOUT_S, CommandResult, Connection, Stream
from fleetkit.errors import ConnectionError, StreamRefused


@dataclass(frozen=True)
class FakeCall:
    """One command the fake connection was asked to run."""

    host: str
    command: str
    become: bool
    stdin: bytes | None
    timeout: float | None


Handler = Callable[[FakeCall], CommandResult | tuple[int, str, str] | None]

# A listener serves the host's end of one stream (it runs in a thread; the fake
# closes the socket when it returns). Keys: ("unix", path), ("tcp", port) for the
# host's loopback, ("tcp", "ADDR:PORT") for another address, ("exec", command).
Listener = Callable[[socket.socket], None]
ListenerKey = tuple[str, str | int]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class FakeStream:
    """One stream a test's code opened: kind ("unix", "tcp", "exec") and target."""

    host: str
    kind: str
    target: str | int


@dataclass(frozen=True)
class FakeFile:
    """One put_file: where it went, with what mode and sudo, and its bytes."""

    host: str
    path: str
    mode: int | None
    become: bool
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def table(rules: Mapping[str, tuple[int, str, str]]) -> Handler:
    """A handler answering the first rule whose regex matches (search) the command."""
    compiled = [(re.compile(k), v) for k, v in rules.items()]

    def handle(call: FakeCall) -> tuple[int, str, str] | None:
        for rx, answer in compiled:
            if rx.search(call.command):
                return answer
        return None

    return handle


class FakeConnection(Connection):
    """In-memory connection: answers from a handler, can be unreachable or slow.

    - handler returns a CommandResult, an (rc, stdout, stderr) tuple, or None
      (then rc 0 with empty output).
    - unreachable=True makes open() raise ConnectionError.
    - delay adds that many seconds to every command (a timeout cuts it).
    - connect_delay adds seconds to open().
    - listeners answer open_unix_stream / open_tcp_stream / open_command_stream;
      a stream to anything else is refused (StreamRefused). `streams` records them.
    - put_file records a FakeFile in `files` (and remote_sha256 answers from it).
    """

    def __init__(
        self,
        name: str,
        handler: Handler | None = None,
        *,
        unreachable: bool = False,
        delay: float = 0.0,
        connect_delay: float = 0.0,
        listeners: Mapping[ListenerKey, Listener] | None = None,
    ) -> None:
        super().__init__(name)
        self.handler = handler
        self.unreachable = unreachable
        self.delay = delay
        self.connect_delay = connect_delay
        self.calls: list[FakeCall] = []
        self.listeners: dict[ListenerKey, Listener] = dict(listeners or {})
        self.streams: list[FakeStream] = []
        self.files: list[FakeFile] = []
        self.threads: list[threading.Thread] = []
        self.opened = 0
        self.closed = False
        self._lock = threading.Lock()
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        if self._open:
            return
        if self.connect_delay:
            time.sleep(self.connect_delay)
        if self.unreachable:
            raise ConnectionError(f"{self.name}: connection refused (fake)")
        self.opened += 1
        self._open = True

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        self.open()
        call = FakeCall(self.name, command, become, stdin, timeout)
        with self._lock:
            self.calls.append(call)
        start = time.monotonic()
        if self.delay:
            if timeout is not None and self.delay > timeout:
                time.sleep(timeout)
                return CommandResult(None, "", "", time.monotonic() - start, timed_out=True)
            time.sleep(self.delay)
        answer = self.handler(call) if self.handler else None
        if isinstance(answer, CommandResult):
            return answer
        rc, out, err = answer if answer is not None else (0, "", "")
        return CommandResult(rc, out, err, time.monotonic() - start)

    def open_unix_stream(self, path: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        return self._stream("unix", path, ("unix", path), f"no socket {path} (fake)")

    def open_tcp_stream(
        self, port: int, *, host: str = "127.0.0.1", timeout: float = STREAM_TIMEOUT_S
    ) -> Stream:
        key: ListenerKey = ("tcp", port) if host in LOOPBACK else ("tcp", f"{host}:{port}")
        return self._stream("tcp", f"{host}:{port}", key, f"{host}:{port} refused (fake)")

    def open_command_stream(self, command: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        return self._stream("exec", command, ("exec", command), f"{command!r} failed (fake)")

    def _stream(self, kind: str, target: str, key: ListenerKey, refused: str) -> Stream:
        self.open()
        listener = self.listeners.get(key)
        if listener is None:
            raise StreamRefused(f"{self.name}: {refused}")
        ours, theirs = socket.socketpair()
        thread = threading.Thread(target=_serve, args=(listener, theirs), daemon=True)
        with self._lock:
            self.streams.append(FakeStream(self.name, kind, key[1]))
            self.threads.append(thread)
        thread.start()
        return ours

    def put_file(
        self,
        local_path: Path,
        remote_path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        self.open()
        data = Path(local_path).read_bytes()
        with self._lock:
            self.files.append(FakeFile(self.name, remote_path, mode, become, data))

    def file(self, remote_path: str) -> FakeFile | None:
        """The last file put_file wrote at remote_path, if any."""
        found = [f for f in self.files if f.path == remote_path]
        return found[-1] if found else None

    def remote_sha256(self, remote_path: str, *, become: bool = False) -> str | None:
        put = self.file(remote_path)
        return put.sha256 if put else super().remote_sha256(remote_path, become=become)

    def close(self) -> None:
        self._open = False
        self.closed = True

    @property
    def commands(self) -> list[str]:
        return [c.command for c in self.calls]


def _serve(listener: Listener, sock: socket.socket) -> None:
    try:
        listener(sock)
    finally:
        sock.close()
