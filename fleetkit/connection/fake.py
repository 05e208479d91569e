"""A scriptable in-memory connection for unit tests of everything above transports.

It lives in the package (not in tests/) so any layer can be tested without a
network: give it a handler that maps a command to a result, or a table of
regular expressions, and read back `calls` to see what would have run.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fleetkit.connection.base import CommandResult, Connection
from fleetkit.errors import ConnectionError


@dataclass(frozen=True)
class FakeCall:
    """One command the fake connection was asked to run."""

    host: str
    command: str
    become: bool
    stdin: bytes | None
    timeout: float | None


Handler = Callable[[FakeCall], CommandResult | tuple[int, str, str] | None]


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
    """

    def __init__(
        self,
        name: str,
        handler: Handler | None = None,
        *,
        unreachable: bool = False,
        delay: float = 0.0,
        connect_delay: float = 0.0,
    ) -> None:
        super().__init__(name)
        self.handler = handler
        self.unreachable = unreachable
        self.delay = delay
        self.connect_delay = connect_delay
        self.calls: list[FakeCall] = []
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

    def close(self) -> None:
        self._open = False
        self.closed = True

    @property
    def commands(self) -> list[str]:
        return [c.command for c in self.calls]
