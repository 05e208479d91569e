"""The keeper process: holds SSHConnections for the user's runs and serves them over a
unix socket (one thread per client socket; commands on one held connection run
on channels of its one transport, concurrently).

A held connection is the very SSHConnection a run would make (through a
ConnectionFactory: same ssh_config, keys, jump, host-key policy and `timeout -k`
wrapper), keyed by identity.connection_key. One idle for longer than its persist
time is closed; one idle for more than PROBE_AFTER_S is asked for a keepalive
reply before use and re-opened once when the host does not answer. The keeper
exits when it holds nothing and no client is connected.
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
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fleetkit.connection.base import Connection, Stream
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import FleetkitError
from fleetkit.keeper import identity, protocol, sockets

log = logging.getLogger("fleetkit.keeper")

PROBE_AFTER_S = 1.0  # idle longer than this: check the host still answers before use
PROBE_TIMEOUT_S = 5.0
TICK_S = 1.0
PUMP_SIZE = 65536


@dataclass
class Held:
    """One held connection and what `persist status` shows about it."""

    key: str
    spec: ConnectionSpec
    conn: Connection
    persist_s: float
    opened_at: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    busy: int = 0
    commands: int = 0
    reopened: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


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

    threading.Thread(target=ask, name="keeper-probe", daemon=True).start()
    return done.wait(timeout) and bool(transport.is_active())


class Keeper:
    """Serve held connections on path until stopped or idle with nothing held."""

    def __init__(self, path: Path, *, probe_after_s: float = PROBE_AFTER_S) -> None:
        self.path = path
        self.probe_after_s = probe_after_s
        self.env = identity.client_env()
        self._held: dict[str, Held] = {}
        self._factories: dict[str, tuple[Any, dict[str, ConnectionSpec]]] = {}
        self._lock = threading.Lock()
        self._clients = 0
        self._stop = threading.Event()
        self._last_activity = time.monotonic()
        self._linger_s = 0.0

    # lifetime -----------------------------------------------------------------------

    def serve(self) -> None:
        """Accept clients until stop; the caller holds the keeper lock."""
        listener = sockets.listen(self.path)
        listener.settimeout(TICK_S)
        log.info("keeper %d listening on %s", os.getpid(), self.path)
        try:
            while not self._stop.is_set():
                try:
                    sock, _ = listener.accept()
                except TimeoutError:
                    self._expire()
                    continue
                threading.Thread(target=self._client, args=(sock,), daemon=True).start()
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.close_all()

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
            with contextlib.suppress(Exception):
                h.conn.close()

    def _expire(self) -> None:
        """Close connections idle past their persist time; stop when nothing is left."""
        now = time.monotonic()
        with self._lock:
            gone = [
                h for h in self._held.values() if h.busy == 0 and now - h.last_used > h.persist_s
            ]
            for h in gone:
                del self._held[h.key]
            empty = not self._held and self._clients == 0
            quiet = now - self._last_activity > self._linger_s
        for h in gone:
            log.info("expired %s after %.0fs idle", h.spec.name, now - h.last_used)
            with contextlib.suppress(Exception):
                h.conn.close()
        if empty and quiet:
            log.info("nothing held: exiting")
            self._stop.set()

    # connections --------------------------------------------------------------------

    def _make(self, spec: ConnectionSpec) -> Connection:
        from fleetkit.connection.factory import ConnectionFactory

        ctx = identity.context_key(self.env)
        entry = self._factories.get(ctx)
        if entry is None:
            specs: dict[str, ConnectionSpec] = {}
            entry = self._factories[ctx] = (ConnectionFactory(specs), specs)
        factory, specs = entry
        specs[spec.name] = spec
        conn: Connection = factory(spec.name)
        return conn

    def acquire(self, spec: ConnectionSpec, persist_s: float) -> Held:
        """The held connection for spec, opened (or re-opened once if it died); busy+1."""
        key = identity.connection_key(spec, self.env)
        with self._lock:
            held = self._held.get(key)
            if held is None:
                held = self._held[key] = Held(key, spec, self._make(spec), persist_s)
            held.busy += 1
            held.persist_s = persist_s
            self._linger_s = max(self._linger_s, 1.0)
        try:
            with held.lock:
                idle = time.monotonic() - held.last_used
                probe = held.conn.is_open and idle > self.probe_after_s
                if probe and not alive(held.conn, min(PROBE_TIMEOUT_S, spec.connect_timeout)):
                    log.info("%s: held connection is dead: re-opening", spec.name)
                    with contextlib.suppress(Exception):
                        held.conn.close()
                    held.reopened += 1
                held.conn.open()
        except BaseException:
            self.release(held)
            with self._lock:
                if held.commands == 0 and self._held.get(key) is held:
                    del self._held[key]
            raise
        return held

    def release(self, held: Held) -> None:
        with self._lock:
            held.busy -= 1
            held.last_used = self._last_activity = time.monotonic()

    # clients ------------------------------------------------------------------------

    def _client(self, sock: socket.socket) -> None:
        with self._lock:
            self._clients += 1
            self._last_activity = time.monotonic()
        try:
            uid = sockets.peer_uid(sock)
            if uid != os.getuid():
                log.warning("refused a client of uid %d", uid)
                with contextlib.suppress(OSError):
                    protocol.send(sock, _error(HostConnectionError("keeper: wrong user")))
                    sock.shutdown(socket.SHUT_WR)
                    sock.settimeout(1.0)
                    while sock.recv(65536):  # drain, so the refusal is read, not reset
                        pass
                return
            while True:
                try:
                    header, blobs = protocol.recv(sock)
                except protocol.PeerClosed:
                    return
                if not self._dispatch(sock, header, blobs):
                    return
        except (OSError, protocol.ProtocolError) as err:
            log.info("client dropped: %s", err)
        finally:
            sock.close()
            with self._lock:
                self._clients -= 1
                self._last_activity = time.monotonic()

    def _dispatch(self, sock: socket.socket, header: dict[str, Any], blobs: list[bytes]) -> bool:
        """Answer one request; False when the socket now belongs to a stream (or stop)."""
        op = header.get("op")
        if op == "status":
            protocol.send(sock, {"ok": True, "pid": os.getpid(), "held": self.status()})
            return True
        if op == "stop":
            protocol.send(sock, {"ok": True})
            self.stop()
            return False
        if op == "ping":
            protocol.send(sock, {"ok": True, "pid": os.getpid()})
            return True
        if header.get("env") != self.env:
            protocol.send(sock, {"error": {"type": "env", "message": "environment differs"}})
            return True
        try:
            spec = spec_from(header["spec"])
            persist_s = float(header["persist_s"])
        except (KeyError, TypeError, ValueError, protocol.ProtocolError) as err:
            protocol.send(sock, {"error": {"type": "protocol", "message": str(err)}})
            return True
        try:
            held = self.acquire(spec, persist_s)
        except FleetkitError as err:
            protocol.send(sock, _error(err))
            return True
        try:
            if op == "stream":
                self._stream(sock, held, header)
                return False
            reply, out = self._call(held, op, header, blobs)
        except FleetkitError as err:
            reply, out = _error(err), []
        except Exception as err:
            log.exception("%s: %s failed", spec.name, op)
            reply, out = _error(HostConnectionError(f"{spec.name}: keeper: {err}")), []
        finally:
            held.commands += 1
            self.release(held)
        protocol.send(sock, reply, out)
        return True

    def _call(
        self, held: Held, op: Any, header: dict[str, Any], blobs: list[bytes]
    ) -> tuple[dict[str, Any], list[bytes]]:
        conn = held.conn
        if op == "open":
            return {"ok": True}, []
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
        if op == "put_file":
            mode = header.get("mode")
            conn.put_file(
                Path(header["local_path"]),
                str(header["remote_path"]),
                mode=int(mode) if mode is not None else None,
                become=bool(header.get("become")),
            )
            return {"ok": True}, []
        raise protocol.ProtocolError(f"unknown op {op!r}")

    def _stream(self, sock: socket.socket, held: Held, header: dict[str, Any]) -> None:
        """Open the asked stream on the held connection, then pipe bytes both ways."""
        conn = held.conn
        timeout = float(header.get("timeout", 10.0))
        kind = header.get("kind")
        stream: Stream
        try:
            if kind == "unix":
                stream = conn.open_unix_stream(str(header["path"]), timeout=timeout)
            elif kind == "tcp":
                port, host = int(header["port"]), str(header["host"])
                stream = conn.open_tcp_stream(port, host=host, timeout=timeout)
            elif kind == "command":
                stream = conn.open_command_stream(str(header["command"]), timeout=timeout)
            else:
                raise protocol.ProtocolError(f"unknown stream kind {kind!r}")
        except FleetkitError as err:
            protocol.send(sock, _error(err))
            return
        protocol.send(sock, {"ok": True})
        try:
            pump(sock, stream)
        finally:
            stream.close()


def pump(sock: socket.socket, stream: Any) -> None:
    """Copy bytes both ways until both sides have ended (half-closes passed on)."""
    stream.settimeout(None)
    sock_open = stream_open = True
    while sock_open or stream_open:
        wanted = [s for s, o in ((sock, sock_open), (stream, stream_open)) if o]
        ready, _, _ = select.select(wanted, [], [], 60.0)
        if sock in ready:
            data = sock.recv(PUMP_SIZE)
            if data:
                stream.sendall(data)
            else:
                sock_open = False
                _half_close(stream)
        if stream in ready:
            data = stream.recv(PUMP_SIZE)
            if data:
                sock.sendall(data)
            else:
                stream_open = False
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                if not sock_open:
                    break
        if not stream_open and not sock_open:
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
            "commands": h.commands,
            "reopened": h.reopened,
            "persist_s": h.persist_s,
            "open": h.conn.is_open,
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
