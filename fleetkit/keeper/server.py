"""The keeper process: holds SSHConnections for the user's runs and serves them over a
unix socket.

A run talks to the keeper over one socket (multiplexed, see protocol.py): it binds
each host once ("open": the spec is keyed, the held connection found or made, a
handle returned) and then sends its commands on that handle, many in flight at
once; each request is answered by a worker of one thread pool, so a command costs
no thread start, no re-keying and no extra socket. A stream (a socket to a Docker
API on the host, say) has a socket of its own that becomes a raw byte pipe.

A held connection is the very SSHConnection a run would make (through a
ConnectionFactory: same ssh_config, keys, jump, host-key policy and `timeout -k`
wrapper), keyed by identity.connection_key. While a run has it bound it stays; once
no run has, it closes after its persist time (OpenSSH's ControlPersist counts the
same way, from the last client's end). One unused for more than PROBE_AFTER_S is
asked for a keepalive reply before use and re-opened once when the host does not
answer. The keeper exits when it holds nothing and no client is connected.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fleetkit.connection.base import Connection, Stream
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import FleetkitError
from fleetkit.keeper import identity, protocol, sockets

log = logging.getLogger("fleetkit.keeper")

PROBE_AFTER_S = 1.0  # unused longer than this when a run binds it: check the host answers
PROBE_IN_RUN_S = 10.0  # the same check before a command, after this long without one
PROBE_TIMEOUT_S = 5.0
TICK_S = 1.0
PUMP_SIZE = 65536
MAX_WORKERS = 4096  # requests in flight at once, over all clients (threads made as needed)


@dataclass
class Held:
    """One held connection and what `persist status` shows about it."""

    key: str
    spec: ConnectionSpec
    conn: Connection | None
    persist_s: float
    opened_at: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    busy: int = 0  # commands and streams in flight
    refs: int = 0  # handles of connected runs bound to it
    commands: int = 0
    opens: int = 0
    reopened: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_open(self) -> bool:
        return self.conn is not None and self.conn.is_open


def spec_from(data: dict[str, Any]) -> ConnectionSpec:
    """A ConnectionSpec from its JSON form (unknown keys refused: a client of another version)."""
    names = {f.name for f in fields(ConnectionSpec)}
    unknown = set(data) - names
    if unknown:
        raise protocol.ProtocolError(f"unknown spec fields {sorted(unknown)}")
    return ConnectionSpec(**data)


def alive(conn: Connection, timeout: float) -> bool:
    """Whether the host's sshd answers a keepalive request within timeout."""
    fab = getattr(conn, "fabric", None)
    transport = fab.client.get_transport() if fab is not None else None
    if transport is None or not transport.is_active():
        return False
    done = threading.Event()

    def ask() -> None:
        try:
            transport.global_request("keepalive@openssh.com", wait=True)
        except Exception:
            pass
        finally:
            done.set()

    # paramiko's wait has no timeout: the request waits on a thread of its own
    threading.Thread(target=ask, name="keeper-probe", daemon=True).start()
    return done.wait(timeout) and bool(transport.is_active())


class Client:
    """One connected run: its socket (replies written whole, under a lock) and the
    handles it bound. The socket is closed once the run is gone and no reply is due."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.handles: dict[int, Held] = {}
        self._next = 0
        self._write = threading.Lock()
        self._state = threading.Lock()
        self._inflight = 0
        self._reading = True
        self._closed = False

    def send(self, header: dict[str, Any], blobs: list[bytes] | tuple[bytes, ...] = ()) -> None:
        data = protocol.pack(header, blobs)
        with self._write:
            if not self._closed:
                with contextlib.suppress(OSError):  # the run went away: its reply is dropped
                    self.sock.sendall(data)

    def bind(self, held: Held) -> int | None:
        """A handle for held; None when the run is gone already (nothing to bind to)."""
        with self._state:
            if not self._reading:
                return None
            self._next += 1
            self.handles[self._next] = held
            return self._next

    def held(self, handle: object) -> Held:
        with self._state:
            held = self.handles.get(handle) if isinstance(handle, int) else None
        if held is None:
            raise protocol.ProtocolError(f"no such handle {handle!r}")
        return held

    def unbind(self, handle: object) -> Held | None:
        with self._state:
            return self.handles.pop(handle, None) if isinstance(handle, int) else None

    def begin(self) -> None:
        with self._state:
            self._inflight += 1

    def end(self) -> None:
        with self._state:
            self._inflight -= 1
            last = not self._reading and self._inflight == 0
        if last:
            self._close()

    def finish_reading(self) -> list[Held]:
        """The run's socket ended: the handles it held (to release); closed when idle."""
        with self._state:
            self._reading = False
            gone = list(self.handles.values())
            self.handles.clear()
            last = self._inflight == 0
        if last:
            self._close()
        return gone

    def _close(self) -> None:
        with self._write:
            self._closed = True
            with contextlib.suppress(OSError):
                self.sock.close()


class Keeper:
    """Serve held connections on path until stopped or idle with nothing held."""

    def __init__(
        self,
        path: Path,
        *,
        probe_after_s: float = PROBE_AFTER_S,
        probe_in_run_s: float = PROBE_IN_RUN_S,
    ) -> None:
        self.path = path
        self.probe_after_s = probe_after_s
        self.probe_in_run_s = probe_in_run_s
        self.env = identity.client_env()
        self._held: dict[str, Held] = {}
        self._factories: dict[str, tuple[Any, dict[str, ConnectionSpec]]] = {}
        self._lock = threading.Lock()
        self._make_lock = threading.Lock()
        self._clients = 0
        self._stop = threading.Event()
        self._last_activity = time.monotonic()
        self._linger_s = 0.0
        self._pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="keeper")

    # lifetime -----------------------------------------------------------------------

    def serve(self) -> None:
        """Accept clients until stop; the caller holds the keeper lock."""
        listener = sockets.listen(self.path)
        listener.settimeout(TICK_S)
        log.info("keeper %d listening on %s", os.getpid(), self.path)
        last_expire = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    sock, _ = listener.accept()
                except TimeoutError:
                    pass
                else:
                    sock.settimeout(None)
                    threading.Thread(target=self._client, args=(sock,), daemon=True).start()
                if time.monotonic() - last_expire >= TICK_S:
                    last_expire = time.monotonic()
                    self._expire()
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.close_all()
            self._pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        self._stop.set()

    def status(self) -> list[dict[str, Any]]:
        with self._lock:
            held = list(self._held.values())
        return status_rows(held)

    def close_all(self) -> None:
        with self._lock:
            held = list(self._held.values())
            self._held.clear()
        for h in held:
            if h.conn is not None:
                with contextlib.suppress(Exception):
                    h.conn.close()

    def _expire(self) -> None:
        """Close connections no run uses that were idle past their persist time; stop
        when nothing is left."""
        now = time.monotonic()
        with self._lock:
            gone = [
                h
                for h in self._held.values()
                if h.busy == 0 and h.refs == 0 and now - h.last_used > h.persist_s
            ]
            for h in gone:
                del self._held[h.key]
            empty = not self._held and self._clients == 0
            quiet = now - self._last_activity > self._linger_s
        for h in gone:
            log.info("expired %s after %.0fs idle", h.spec.name, now - h.last_used)
            if h.conn is not None:
                with contextlib.suppress(Exception):
                    h.conn.close()
        if empty and quiet:
            log.info("nothing held: exiting")
            self._stop.set()

    # connections --------------------------------------------------------------------

    def _make(self, spec: ConnectionSpec) -> Connection:
        from fleetkit.connection.factory import ConnectionFactory

        ctx = identity.context_key(self.env)
        with self._make_lock:  # specs[name] is this spec until the factory has read it
            entry = self._factories.get(ctx)
            if entry is None:
                specs: dict[str, ConnectionSpec] = {}
                entry = self._factories[ctx] = (ConnectionFactory(specs), specs)
            factory, specs = entry
            specs[spec.name] = spec
            conn: Connection = factory(spec.name)
        return conn

    def bind(self, spec: ConnectionSpec, persist_s: float) -> Held:
        """The held connection for spec, open (checked if unused for a while); refs+1."""
        key = identity.connection_key(spec, self.env)
        with self._lock:
            held = self._held.get(key)
            if held is None:
                held = self._held[key] = Held(key, spec, None, persist_s)
            held.refs += 1
            held.persist_s = persist_s
            self._linger_s = max(self._linger_s, 1.0)
        try:
            self._ready(held, self.probe_after_s)
        except BaseException:
            self.unbind(held)
            with self._lock:
                if held.commands == 0 and held.refs == 0 and self._held.get(key) is held:
                    del self._held[key]
            raise
        return held

    def unbind(self, held: Held) -> None:
        with self._lock:
            held.refs -= 1
            held.last_used = self._last_activity = time.monotonic()

    def _ready(self, held: Held, probe_after: float) -> Connection:
        """held's connection, opened; re-opened once when it died (or does not answer)."""
        with held.lock:
            if held.conn is None:
                held.conn = self._make(held.spec)
            conn = held.conn
            idle = time.monotonic() - held.last_used
            if held.busy == 0 and conn.is_open and idle > probe_after:
                wait = min(PROBE_TIMEOUT_S, held.spec.connect_timeout)
                if alive(conn, wait):
                    held.last_used = time.monotonic()
                else:
                    log.info("%s: held connection is dead: re-opening", held.spec.name)
                    with contextlib.suppress(Exception):
                        conn.close()
            if not conn.is_open:
                held.reopened += held.opens > 0
                conn.open()
                held.opens += 1
        return conn

    def _begin(self, held: Held) -> None:
        with self._lock:
            held.busy += 1

    def _done(self, held: Held) -> None:
        with self._lock:
            held.busy -= 1
            held.commands += 1
            held.last_used = self._last_activity = time.monotonic()

    # clients ------------------------------------------------------------------------

    def _client(self, sock: socket.socket) -> None:
        with self._lock:
            self._clients += 1
            self._last_activity = time.monotonic()
        client: Client | None = None
        try:
            uid = sockets.peer_uid(sock)
            if uid != os.getuid():
                log.warning("refused a client of uid %d", uid)
                _refuse(sock)
                sock.close()
                return
            client = Client(sock)
            reader = protocol.Reader(sock)
            while True:
                try:
                    header, blobs = reader.recv()
                except protocol.PeerClosed:
                    return
                if header.get("op") == "stream":  # the socket is the stream's from now on
                    client = None
                    self._stream_request(sock, header, reader.leftover())
                    return
                if not self._dispatch(client, header, blobs):
                    return
        except (OSError, protocol.ProtocolError) as err:
            log.info("client dropped: %s", err)
        finally:
            if client is not None:
                for held in client.finish_reading():
                    self.unbind(held)
            with self._lock:
                self._clients -= 1
                self._last_activity = time.monotonic()

    def _dispatch(self, client: Client, header: dict[str, Any], blobs: list[bytes]) -> bool:
        """Answer one request (host work on the pool); False when the keeper stops."""
        op = header.get("op")
        rid = {"id": header["id"]} if "id" in header else {}
        if op == "status":
            client.send({"ok": True, "pid": os.getpid(), "held": self.status(), **rid})
            return True
        if op == "ping":
            client.send({"ok": True, "pid": os.getpid(), **rid})
            return True
        if op == "stop":
            client.send({"ok": True, **rid})
            self.stop()
            return False
        if op == "release":  # a run closed one host's connection: no reply
            held = client.unbind(header.get("h"))
            if held is not None:
                self.unbind(held)
            return True
        client.begin()
        try:
            self._pool.submit(self._serve, client, header, blobs)
        except RuntimeError:  # the pool is shut down: the keeper is stopping
            client.end()
            return False
        return True

    def _serve(self, client: Client, header: dict[str, Any], blobs: list[bytes]) -> None:
        """One host request on a pool worker; the reply carries the request's id."""
        op = header.get("op")
        reply: dict[str, Any]
        out: list[bytes] = []
        try:
            if op == "open":
                reply = self._open(client, header)
            elif op in ("run", "put_file"):
                reply, out = self._use(client.held(header.get("h")), op, header, blobs)
            else:
                raise protocol.ProtocolError(f"unknown op {op!r}")
        except FleetkitError as err:
            reply = _error(err)
        except (KeyError, TypeError, ValueError, protocol.ProtocolError) as err:
            reply = {"error": {"type": "protocol", "message": str(err)}}
        except Exception as err:
            log.exception("%s failed", op)
            reply = _error(HostConnectionError(f"keeper: {op}: {err}"))
        try:
            client.send({**reply, "id": header.get("id")}, out)
        finally:
            client.end()

    def _open(self, client: Client, header: dict[str, Any]) -> dict[str, Any]:
        if header.get("env") != self.env:
            return {"error": {"type": "env", "message": "environment differs"}}
        spec = spec_from(header["spec"])
        held = self.bind(spec, float(header["persist_s"]))
        handle = client.bind(held)
        if handle is None:  # the run went away while its host was being opened
            self.unbind(held)
            return {"error": {"type": "protocol", "message": "the run is gone"}}
        return {"ok": True, "h": handle}

    def _use(
        self, held: Held, op: str, header: dict[str, Any], blobs: list[bytes]
    ) -> tuple[dict[str, Any], list[bytes]]:
        conn = self._ready(held, self.probe_in_run_s)
        self._begin(held)
        try:
            if op == "run":
                result = conn.run(
                    str(header["command"]),
                    timeout=header.get("timeout"),
                    become=bool(header.get("become")),
                    stdin=blobs[0] if blobs else None,
                )
                reply = {
                    "ok": True,
                    "rc": result.rc,
                    "duration_s": result.duration_s,
                    "timed_out": result.timed_out,
                    "truncated": getattr(result, "truncated", False),
                }
                return reply, [result.stdout.encode(), result.stderr.encode()]
            mode = header.get("mode")
            conn.put_file(
                Path(header["local_path"]),
                str(header["remote_path"]),
                mode=int(mode) if mode is not None else None,
                become=bool(header.get("become")),
            )
            return {"ok": True}, []
        finally:
            self._done(held)

    def _stream_request(self, sock: socket.socket, header: dict[str, Any], early: bytes) -> None:
        """A stream on its own socket: bind, open the asked stream, then pipe bytes."""
        if header.get("env") != self.env:
            protocol.send(sock, {"error": {"type": "env", "message": "environment differs"}})
            sock.close()
            return
        try:
            spec = spec_from(header["spec"])
            persist_s = float(header["persist_s"])
        except (KeyError, TypeError, ValueError, protocol.ProtocolError) as err:
            protocol.send(sock, {"error": {"type": "protocol", "message": str(err)}})
            sock.close()
            return
        try:
            held = self.bind(spec, persist_s)
        except FleetkitError as err:
            protocol.send(sock, _error(err))
            sock.close()
            return
        try:
            conn = self._ready(held, self.probe_in_run_s)
            self._begin(held)
            try:
                self._stream(sock, conn, header, early)
            finally:
                self._done(held)
        except FleetkitError as err:
            with contextlib.suppress(OSError):
                protocol.send(sock, _error(err))
        except (KeyError, TypeError, ValueError) as err:  # before the stream's "ok"
            with contextlib.suppress(OSError):
                protocol.send(sock, {"error": {"type": "protocol", "message": str(err)}})
        finally:
            self.unbind(held)
            sock.close()

    def _stream(
        self, sock: socket.socket, conn: Connection, header: dict[str, Any], early: bytes
    ) -> None:
        """Open the asked stream on the held connection, then pipe bytes both ways."""
        timeout = float(header.get("timeout", 10.0))
        kind = header.get("kind")
        stream: Stream
        if kind == "unix":
            stream = conn.open_unix_stream(str(header["path"]), timeout=timeout)
        elif kind == "tcp":
            port, host = int(header["port"]), str(header["host"])
            stream = conn.open_tcp_stream(port, host=host, timeout=timeout)
        elif kind == "command":
            stream = conn.open_command_stream(str(header["command"]), timeout=timeout)
        else:
            raise HostConnectionError(f"keeper: unknown stream kind {kind!r}")
        protocol.send(sock, {"ok": True})
        try:
            if early:
                stream.sendall(early)
            pump(sock, stream)
        finally:
            stream.close()


def _refuse(sock: socket.socket) -> None:
    """Tell another uid's client no, and drain, so the refusal is read, not reset."""
    with contextlib.suppress(OSError):
        protocol.send(sock, _error(HostConnectionError("keeper: wrong user")))
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        while sock.recv(65536):
            pass


def pump(sock: socket.socket, stream: Any) -> None:
    """Copy bytes both ways until both sides have ended (half-closes passed on).

    poll, not select: the keeper's descriptors pass 1024 when it holds many connections."""
    stream.settimeout(None)
    sock_open = stream_open = True
    poller = select.poll()
    fds = {sock.fileno(): sock, stream.fileno(): stream}
    for fd in fds:
        poller.register(fd, select.POLLIN)
    while sock_open or stream_open:
        ready = {fds[fd] for fd, _ in poller.poll(60_000)}
        if sock in ready:
            data = sock.recv(PUMP_SIZE)
            if data:
                stream.sendall(data)
            else:
                sock_open = False
                poller.unregister(sock.fileno())
                _half_close(stream)
        if stream in ready:
            data = stream.recv(PUMP_SIZE)
            if data:
                sock.sendall(data)
            else:
                stream_open = False
                poller.unregister(stream.fileno())
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                if not sock_open:
                    break


def _half_close(stream: Any) -> None:
    with contextlib.suppress(Exception):
        if hasattr(stream, "shutdown_write"):
            stream.shutdown_write()
        else:
            stream.shutdown(socket.SHUT_WR)


def _error(err: FleetkitError) -> dict[str, Any]:
    return {"error": {"type": type(err).__name__, "message": err.message, "hint": err.hint}}


def status_rows(held: list[Held]) -> list[dict[str, Any]]:
    now_wall, now = time.time(), time.monotonic()
    return [
        {
            "host": h.spec.name,
            "address": h.spec.address,
            "port": h.spec.port,
            "user": h.spec.user,
            "age_s": round(now_wall - h.opened_at, 1),
            "idle_s": round(0.0 if h.busy else now - h.last_used, 1),
            "channels": h.busy,
            "runs": h.refs,
            "commands": h.commands,
            "reopened": h.reopened,
            "persist_s": h.persist_s,
            "open": h.is_open,
        }
        for h in held
    ]


def run_keeper(path: Path) -> int:
    """The keeper's main: one per socket directory (an flock), serve until done."""
    sockets.private_dir(path.parent)
    lock = open(path.parent / "keeper.lock", "a+")  # noqa: SIM115 - held for the lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another keeper serves this directory
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    Keeper(path).serve()
    return 0
