"""A small SSH server on 127.0.0.1 for host-key tests: it records who tried to log in.

`LoopbackSSHD(host_key)` listens on a free loopback port with the given host key,
accepts any public key for any user (so a client that got past host-key checking
would log in and offer its key: `auth_attempts` lists each method tried), answers
every exec with `ok` and exit status 0, and forwards direct-tcpip channels to
loopback ports (what a ProxyJump bastion does). Leaving the block closes the
listener and every transport.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import paramiko

REPLY_FIRST_S = 0.05  # let paramiko send the exec request's SUCCESS before our data


def _ed25519_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return pem.decode()


def new_ed25519() -> paramiko.PKey:
    """A fresh Ed25519 key (paramiko cannot generate one itself)."""
    return paramiko.Ed25519Key.from_private_key(io.StringIO(_ed25519_pem()))


def write_user_key(path: Path) -> None:
    """A fresh private key file for the client, mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(_ed25519_pem())


def known_line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


class _Interface(paramiko.ServerInterface):
    def __init__(self, server: LoopbackSSHD) -> None:
        self._server = server
        self._dests: dict[int, tuple[str, int]] = {}

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_none(self, username: str) -> int:
        self._server.auth_attempts.append("none")
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        self._server.auth_attempts.append("password")
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        self._server.auth_attempts.append("publickey")
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_direct_tcpip_request(
        self, chanid: int, origin: tuple[str, int], destination: tuple[str, int]
    ) -> int:
        if destination[0] not in ("127.0.0.1", "localhost"):
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        self._dests[chanid] = destination
        return paramiko.OPEN_SUCCEEDED

    def destination(self, chanid: int) -> tuple[str, int] | None:
        return self._dests.pop(chanid, None)

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        def answer() -> None:
            time.sleep(REPLY_FIRST_S)
            with contextlib.suppress(OSError, EOFError):  # the client may be gone already
                channel.sendall(b"ok\n")
                channel.send_exit_status(0)
                channel.close()

        threading.Thread(target=answer, daemon=True).start()
        return True


def _pump(a: paramiko.Channel, b: socket.socket) -> None:
    """Copy bytes both ways between a channel and a socket until either side closes."""

    def one_way(read: object, write: object) -> None:
        try:
            while data := read.recv(65536):  # type: ignore[attr-defined]
                write.sendall(data)  # type: ignore[attr-defined]
        except (OSError, EOFError):  # paramiko raises EOFError on a transport gone
            pass
        finally:
            for end in (a, b):
                with contextlib.suppress(OSError, EOFError):
                    end.close()

    threading.Thread(target=one_way, args=(a, b), daemon=True).start()
    threading.Thread(target=one_way, args=(b, a), daemon=True).start()


class LoopbackSSHD:
    """See the module docstring."""

    def __init__(self, host_key: paramiko.PKey) -> None:
        self.host_key = host_key
        self.auth_attempts: list[str] = []
        self.connections = 0
        self._stop = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> LoopbackSSHD:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        for transport in self._transports:
            transport.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        self._transports.append(transport)
        transport.add_server_key(self.host_key)
        iface = _Interface(self)
        try:
            transport.start_server(server=iface)
        except (paramiko.SSHException, EOFError, OSError):
            return
        while transport.is_active() and not self._stop.is_set():
            chan = transport.accept(0.2)
            if chan is None:
                continue
            dest = iface.destination(chan.get_id())
            if dest is not None:
                try:
                    _pump(chan, socket.create_connection(dest, timeout=5))
                except OSError:
                    chan.close()
