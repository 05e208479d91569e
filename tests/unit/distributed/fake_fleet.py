"""A fake fleet a playbook shard can take to its own process: picklable, stateless, and
logging every command it runs to a file (the test reads what ran, and where).

Answers: a command containing `fail-on-HOST` fails (rc 1) on HOST; `echo X` prints X;
a command containing `hold` on a host in `hold_hosts` waits until the file `release`
exists (so a test can act while a shard is mid-task). Commands run by fleetkit itself
(module probes) get rc 0 and no output.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from fleetkit.testing.fake_connection import FakeCall, FakeConnection

ECHO = re.compile(r"^echo (.*)$")


@dataclass(frozen=True)
class LoggedFleet:
    log: Path
    hold_hosts: frozenset[str] = frozenset()
    release: Path | None = None

    def __call__(self, host: str) -> FakeConnection:
        return FakeConnection(host, self._answer)

    def _answer(self, call: FakeCall) -> tuple[int, str, str]:
        with self.log.open("a") as log:
            log.write(f"{os.getpid()}\t{call.host}\t{call.command}\n")
        if "hold" in call.command and call.host in self.hold_hosts and self.release is not None:
            while not self.release.exists():
                time.sleep(0.02)
        if f"fail-on-{call.host}" in call.command:
            return (1, "", f"{call.host} failed on purpose")
        found = ECHO.match(call.command.strip())
        return (0, f"{found.group(1)}\n" if found else "", "")


def ran(log: Path) -> list[tuple[int, str, str]]:
    """(pid, host, command) of every command the fleet ran, in order."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        pid, host, command = line.split("\t", 2)
        out.append((int(pid), host, command))
    return out
