"""Run commands on the controller itself (inventory host `localhost`, or address local)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from fleetkit.connection.base import (
    STREAM_TIMEOUT_S,
    CommandResult,
    Connection,
    Stream,
    become_wrap,
)
from fleetkit.connection.sftp import PRIVATE, install_script
from fleetkit.errors import ConnectionError, StreamRefused, TaskError

# connect() errors that mean "the socket or port refused", not "the machine is gone".
REFUSED = (ConnectionRefusedError, FileNotFoundError, PermissionError, NotADirectoryError)


def _copy_atomic(src: Path, dst: Path, mode: int) -> None:
    """Stream src to a temp file beside dst (mode set before any byte), fsync, rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.fleetkit-", dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            os.fchmod(out.fileno(), mode)
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class LocalConnection(Connection):
    """A connection to the machine fleetkit runs on, through /bin/sh.

    Each command runs in its own session; close() kills the ones still running
    (as closing an SSH connection ends its commands), so Ctrl-C stops them too.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def open(self) -> None:
        return None

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        cmd = become_wrap(command) if become else command
        start = time.monotonic()
        proc = subprocess.Popen(
            ["/bin/sh", "-c", cmd],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        with self._lock:
            self._running.add(proc)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the shell and everything it started
            out, err = proc.communicate()
            return CommandResult(
                None,
                out.decode(errors="replace"),
                err.decode(errors="replace"),
                time.monotonic() - start,
                timed_out=True,
            )
        finally:
            with self._lock:
                self._running.discard(proc)
        return CommandResult(
            proc.returncode,
            out.decode(errors="replace"),
            err.decode(errors="replace"),
            time.monotonic() - start,
        )

    def open_unix_stream(self, path: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        return self._connect(sock, path, path, timeout)

    def open_tcp_stream(
        self, port: int, *, host: str = "127.0.0.1", timeout: float = STREAM_TIMEOUT_S
    ) -> Stream:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._connect(sock, (host, port), f"{host}:{port}", timeout)

    def _connect(
        self, sock: socket.socket, address: str | tuple[str, int], what: str, timeout: float
    ) -> socket.socket:
        """sock connected to address within timeout, then blocking (as SSH channels are)."""
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except REFUSED as err:
            sock.close()
            why = err.strerror or type(err).__name__
            raise StreamRefused(f"{self.name}: {what} refused the connection: {why}") from None
        except OSError as err:
            sock.close()
            raise ConnectionError(f"{self.name}: cannot connect to {what}: {err}") from None
        sock.settimeout(None)
        return sock

    def put_file(
        self,
        local_path: Path,
        remote_path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        """Copy through a temp file beside remote_path and rename (root copies it with sudo)."""
        local = Path(local_path)
        if not local.is_file():
            raise TaskError(f"cannot copy {local}: no such file")
        if become:
            script = install_script(str(local), remote_path, mode, keep_source=True)
            result = self.run(script, become=True)
            if not result.ok:
                raise TaskError(f"cannot write {remote_path}: {result.stderr.strip()}")
            return
        try:
            _copy_atomic(local, Path(remote_path), mode if mode is not None else PRIVATE)
        except OSError as err:
            raise TaskError(f"cannot write {remote_path}: {err.strerror or err}") from None

    def close(self) -> None:
        with self._lock:
            running = list(self._running)
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
