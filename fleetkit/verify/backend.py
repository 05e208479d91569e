"""A testinfra backend whose commands run on a fleetkit Connection.

testinfra's modules (file, user, package, service ...) build shell commands and
call `backend.run`; this backend sends them over the host's open fleetkit
connection, so a test file sees exactly what `fleetkit exec` would.
"""

from __future__ import annotations

from typing import Any

import testinfra.host
from testinfra.backend import base

from fleetkit.connection.base import Connection, become_wrap

TIMEOUT_RC = 124
"""Exit status reported for a command cut by --timeout (as coreutils' timeout says)."""


class FleetkitBackend(base.BaseBackend):  # type: ignore[misc]  # testinfra is untyped
    """Run testinfra's commands through one fleetkit Connection.

    `become` sends every command through sudo (`fleetkit verify --become`);
    testinfra's own `host.sudo(user)` is honoured per command as well.
    """

    NAME = "fleetkit"

    def __init__(
        self,
        conn: Connection,
        *,
        become: bool = False,
        timeout: float | None = None,
    ) -> None:
        super().__init__(conn.name)
        self.conn = conn
        self.become = become
        self.timeout = timeout

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        text = self.quote(command, *args)
        become = self.become or self.sudo
        if self.sudo and self.sudo_user is not None:
            text, become = become_wrap(text, self.sudo_user), False
        result = self.conn.run(text, timeout=self.timeout, become=become)
        rc = TIMEOUT_RC if result.timed_out or result.rc is None else result.rc
        return self.result(rc, self.encode(text), result.stdout, result.stderr)


def make_host(
    conn: Connection, *, become: bool = False, timeout: float | None = None
) -> testinfra.host.Host:
    """A testinfra Host (what a test's `host` fixture is) over conn."""
    backend = FleetkitBackend(conn, become=become, timeout=timeout)
    host = testinfra.host.Host(backend)
    backend.set_host(host)
    return host
