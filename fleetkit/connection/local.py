"""Run commands on the controller itself (inventory host `localhost`, or address local)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time

from fleetkit.connection.base import CommandResult, Connection, become_wrap


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

    def close(self) -> None:
        with self._lock:
            running = list(self._running)
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
