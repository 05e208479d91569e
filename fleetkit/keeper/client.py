"""The run's side of the keeper: KeptConnection forwards each command, file copy and
stream to the keeper, which runs it on a held SSHConnection.

All of a run's hosts share one socket to the keeper (Mux): a host is bound once
("open", answered with a handle) and its commands go as small requests on that
handle, any number in flight at once, replies matched by id.

Commands go as they are (command, timeout, become, stdin): the keeper's
SSHConnection adds the remote `timeout -k` wrapper and sudo exactly as a direct
one does, so results are the same. get/put/remote_sha256 are built on run (as
for SSH). When the keeper cannot be used (unsafe directory, it will not start,
it went away, another environment) the run connects directly, with one note.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import fleetkit.errors as errors_mod
from fleetkit.connection.base import STREAM_TIMEOUT_S, CommandResult, Connection, Stream
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import FleetkitError, TaskError
from fleetkit.keeper import identity, protocol, sockets
from fleetkit.keeper.settings import ENV, KEEPER_ENV, socket_path

START_WAIT_S = 10.0
REPLY_SLACK_S = 30.0  # beyond the command's own deadline before the keeper counts as stuck
HAS_TRUNCATED = "truncated" in CommandResult.__dataclass_fields__


class KeeperGone(Exception):
    """The keeper's socket ended (or broke) before the reply came."""


class _Waiter:
    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: tuple[dict[str, Any], list[bytes]] | None = None


class Mux:
    """A run's one socket to the keeper: requests from many threads at once, each with an
    id, written whole under a lock; one reader thread hands each reply to its caller."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._write = threading.Lock()
        self._lock = threading.Lock()
        self._pending: dict[int, _Waiter] = {}
        self._next = 0
        self.broken: str | None = None
        threading.Thread(target=self._read, name="keeper-reader", daemon=True).start()

    def call(
        self, header: dict[str, Any], blobs: list[bytes], wait: float | None
    ) -> tuple[dict[str, Any], list[bytes]]:
        """The reply to one request; KeeperGone when the socket ends first, TimeoutError
        after wait seconds (the request is forgotten: a late reply is dropped)."""
        waiter = _Waiter()
        with self._lock:
            if self.broken is not None:
                raise KeeperGone(self.broken)
            self._next += 1
            rid = self._next
            self._pending[rid] = waiter
        try:
            self._send({**header, "id": rid}, blobs)
            if not waiter.event.wait(wait):
                raise TimeoutError
        finally:
            with self._lock:
                self._pending.pop(rid, None)
        if waiter.reply is None:
            raise KeeperGone(self.broken or "the keeper closed the connection")
        return waiter.reply

    def tell(self, header: dict[str, Any]) -> None:
        """A request without a reply (release); dropped when the socket is gone."""
        with contextlib.suppress(KeeperGone):
            self._send(header, [])

    def _send(self, header: dict[str, Any], blobs: list[bytes]) -> None:
        data = protocol.pack(header, blobs)
        with self._write:
            try:
                self._sock.sendall(data)
            except OSError as err:
                self._fail(str(err))
                raise KeeperGone(str(err)) from None

    def _read(self) -> None:
        reader = protocol.Reader(self._sock)
        try:
            while True:
                header, blobs = reader.recv()
                with self._lock:
                    waiter = self._pending.pop(header.get("id"), None)  # type: ignore[arg-type]
                if waiter is not None:
                    waiter.reply = (header, blobs)
                    waiter.event.set()
        except protocol.PeerClosed:
            self._fail("the keeper closed the connection")
        except (OSError, protocol.ProtocolError) as err:
            self._fail(str(err))
        # under the write lock: no sendall is using the descriptor while it closes
        with self._write, contextlib.suppress(OSError):
            self._sock.close()

    def _fail(self, why: str) -> None:
        """The socket is done: every caller still waiting gets KeeperGone."""
        with self._lock:
            if self.broken is None:
                self.broken = why
            waiting = list(self._pending.values())
            self._pending.clear()
        for waiter in waiting:
            waiter.event.set()

    def close(self) -> None:
        """End the socket: the reader wakes, callers still waiting get KeeperGone, and the
        reader closes it."""
        self._fail("closed")
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)


class KeeperSession:
    """One run's view of the keeper: one multiplexed socket, the keeper started at most
    twice, a single note when it is not used."""

    def __init__(self, persist_s: float, path: Path | None = None) -> None:
        self.persist_s = persist_s
        self.path = path or socket_path()
        self.env = identity.client_env()
        self._lock = threading.Lock()
        self._mux_lock = threading.Lock()
        self._mux: Mux | None = None
        self._down: str | None = None
        self._starts = 0

    @property
    def down(self) -> str | None:
        return self._down

    def mark_down(self, why: str) -> None:
        with self._lock:
            if self._down is None:
                self._down = why
                print(f"fleetkit: note: {why}; connecting directly", file=sys.stderr)

    def mux(self) -> Mux | None:
        """The run's socket to a live keeper (connecting, or starting one), None: go direct."""
        with self._mux_lock:
            if self._down is not None:
                return None
            if self._mux is None or self._mux.broken is not None:
                sock = self.connect()
                self._mux = Mux(sock) if sock is not None else None
            return self._mux

    def forget(self, mux: Mux) -> None:
        """mux broke before the keeper did anything for it: the next mux() connects anew."""
        with self._mux_lock:
            if self._mux is mux:
                self._mux = None
        mux.close()

    def close(self) -> None:
        with self._mux_lock:
            mux, self._mux = self._mux, None
        if mux is not None:
            mux.close()

    def connect(self) -> socket.socket | None:
        """A socket to a live keeper (starting one if none answers), None: go direct."""
        if self._down is not None:
            return None
        try:
            return sockets.connect(self.path)
        except sockets.UnsafeSocketDir as err:
            self.mark_down(err.message)
            return None
        except OSError:
            pass
        with self._lock:
            if self._down is None and self._starts < 2:
                self._starts += 1
                self._start()
        deadline = time.monotonic() + START_WAIT_S
        while True:
            try:
                return sockets.connect(self.path)
            except OSError as err:
                if time.monotonic() > deadline:
                    self.mark_down(f"the connection keeper did not start ({err.strerror})")
                    return None
                time.sleep(0.02)

    def _start(self) -> None:
        """Start `python -m fleetkit.keeper` in its own session (Ctrl-C never reaches it),
        detached through a shell so it is not this process's child."""
        sockets.private_dir(self.path.parent)
        env = {k: v for k, v in os.environ.items() if k != ENV}
        env[KEEPER_ENV] = "1"
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        log = self.path.parent / "keeper.log"
        cmd = shlex.join([sys.executable, "-m", "fleetkit.keeper", "--socket", str(self.path)])
        subprocess.run(
            ["/bin/sh", "-c", f"{cmd} </dev/null >>{shlex.quote(str(log))} 2>&1 &"],
            env=env,
            cwd="/",
            start_new_session=True,
            check=False,
        )


def _raise(name: str, error: dict[str, Any]) -> None:
    """Raise the FleetkitError the keeper's connection raised (same class and message)."""
    cls = getattr(errors_mod, str(error.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, FleetkitError)):
        cls = HostConnectionError
    raise cls(str(error.get("message")), hint=error.get("hint"))


class KeptConnection(Connection):
    """A host's connection held by the keeper; direct SSH when the keeper is not usable.

    open() binds the host once per run (the keeper keys the spec and opens or reuses
    the held connection); commands then name the binding's handle."""

    def __init__(
        self, spec: ConnectionSpec, session: KeeperSession, direct: Callable[[], Connection]
    ) -> None:
        super().__init__(spec.name)
        self.spec = spec
        self._session = session
        self._make_direct = direct
        self._mux: Mux | None = None
        self._handle: int | None = None
        self._direct: Connection | None = None
        self._spec_json = asdict(spec)

    @property
    def direct(self) -> Connection | None:
        """The direct connection this one fell back to, if it did."""
        return self._direct

    @property
    def is_open(self) -> bool:
        if self._direct is not None:
            return self._direct.is_open
        return self._handle is not None and self._mux is not None and self._mux.broken is None

    def _go_direct(self) -> Connection:
        if self._direct is None:
            self._direct = self._make_direct()
        self._direct.open()
        return self._direct

    def _header(self, op: str, **extra: Any) -> dict[str, Any]:
        return {
            "op": op,
            "spec": self._spec_json,
            "env": self._session.env,
            "persist_s": self._session.persist_s,
            **extra,
        }

    def open(self) -> None:
        if self._direct is not None:
            self._direct.open()
            return
        if self.is_open:
            return
        self._handle = self._mux = None
        for _attempt in (1, 2):  # a keeper that just exited idle: the session starts another
            mux = self._session.mux()
            if mux is None:
                self._go_direct()
                return
            try:
                reply, _ = mux.call(self._header("open"), [], None)
            except KeeperGone:
                self._session.forget(mux)
                continue
            if "error" in reply:
                if reply["error"].get("type") in ("env", "protocol"):
                    self._session.mark_down(
                        f"the connection keeper cannot serve this run"
                        f" ({reply['error'].get('message')})"
                    )
                    self._go_direct()
                    return
                _raise(self.name, reply["error"])
            self._mux, self._handle = mux, int(reply["h"])
            return
        self._session.mark_down("the connection keeper went away")
        self._go_direct()

    def _call(
        self, op: str, extra: dict[str, Any], blobs: list[bytes], wait: float | None
    ) -> tuple[dict[str, Any], list[bytes]]:
        """One request on this host's binding; a lost keeper is a clear error."""
        assert self._mux is not None
        try:
            reply, out = self._mux.call({"op": op, "h": self._handle, **extra}, blobs, wait)
        except TimeoutError:
            raise HostConnectionError(
                f"{self.name}: the connection keeper did not answer within {wait:g}s"
                " (the command may have run)",
                hint="fleetkit persist stop, then run again",
            ) from None
        except KeeperGone as err:
            self._handle = None
            self._session.mark_down("the connection keeper went away")
            raise HostConnectionError(
                f"{self.name}: the connection keeper went away during {op} ({err});"
                " the command may have run, so it was not retried",
                hint="run again: a new keeper starts (or FLEETKIT_PERSIST=no to connect directly)",
            ) from None
        if "error" in reply:
            _raise(self.name, reply["error"])
        return reply, out

    def _ready(self) -> Connection | None:
        """The direct connection when this one went direct, else None (bound in the keeper).
        A keeper gone before anything was sent: bound again (a new keeper) or direct."""
        if not self.is_open:
            self.open()
        return self._direct

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        direct = self._ready()
        if direct is not None:
            return direct.run(command, timeout=timeout, become=become, stdin=stdin)
        wait = None
        if timeout is not None:
            wait = timeout + 2 * self.spec.connect_timeout + REPLY_SLACK_S
        extra = {"command": command, "timeout": timeout, "become": become}
        reply, out = self._call("run", extra, [stdin] if stdin else [], wait)
        more = {"truncated": bool(reply.get("truncated"))} if HAS_TRUNCATED else {}
        return CommandResult(
            reply["rc"],
            out[0].decode("utf-8"),
            out[1].decode("utf-8"),
            float(reply["duration_s"]),
            bool(reply["timed_out"]),
            **more,
        )

    def put_file(
        self,
        local_path: Path,
        remote_path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        direct = self._ready()
        if direct is not None:
            direct.put_file(local_path, remote_path, mode=mode, become=become)
            return
        local = Path(local_path)
        if not local.is_file():  # as SSHConnection says it, before anything is sent
            raise TaskError(f"cannot copy {local}: no such file on the controller")
        extra = {
            "local_path": os.path.abspath(local),
            "remote_path": remote_path,
            "mode": mode,
            "become": become,
        }
        self._call("put_file", extra, [], None)

    def _stream(self, extra: dict[str, Any], timeout: float) -> Stream | None:
        """A keeper socket that now carries the stream's bytes, None: go direct."""
        if self._ready() is not None:
            return None
        sock = self._session.connect()
        if sock is None:
            return None
        try:
            protocol.send(sock, self._header("stream", **extra))
            sock.settimeout(timeout + 30)
            reply, _ = protocol.recv(sock)  # unbuffered: the stream's bytes stay in the socket
            sock.settimeout(None)
        except (OSError, protocol.ProtocolError) as err:
            sock.close()
            raise HostConnectionError(
                f"{self.name}: the connection keeper went away opening a stream ({err})"
            ) from None
        if "error" in reply:
            sock.close()
            _raise(self.name, reply["error"])
        return sock

    def open_unix_stream(self, path: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        stream = self._stream({"kind": "unix", "path": path, "timeout": timeout}, timeout)
        if stream is None:
            return self._go_direct().open_unix_stream(path, timeout=timeout)
        return stream

    def open_tcp_stream(
        self, port: int, *, host: str = "127.0.0.1", timeout: float = STREAM_TIMEOUT_S
    ) -> Stream:
        extra = {"kind": "tcp", "port": port, "host": host, "timeout": timeout}
        stream = self._stream(extra, timeout)
        if stream is None:
            return self._go_direct().open_tcp_stream(port, host=host, timeout=timeout)
        return stream

    def open_command_stream(self, command: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        stream = self._stream({"kind": "command", "command": command, "timeout": timeout}, timeout)
        if stream is None:
            return self._go_direct().open_command_stream(command, timeout=timeout)
        return stream

    def close(self) -> None:
        """End this run's use; the keeper keeps the SSH connection for the next run."""
        mux, handle = self._mux, self._handle
        self._mux = self._handle = None
        if mux is not None and handle is not None:
            mux.tell({"op": "release", "h": handle})
        if self._direct is not None:
            self._direct.close()


def keeper_request(op: str, path: Path | None = None) -> dict[str, Any] | None:
    """status/stop/ping to a running keeper; None when none runs (nothing is started)."""
    try:
        sock = sockets.connect(path or socket_path())
    except OSError:
        return None
    with sock:
        protocol.send(sock, {"op": op})
        try:
            reply, _ = protocol.recv(sock)
        except (OSError, protocol.ProtocolError):
            return None
    return reply
