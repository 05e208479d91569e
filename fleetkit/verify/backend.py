"""A testinfra backend whose commands run on a fleetkit Connection.

testinfra's modules (file, user, package, service ...) build shell commands and
call `backend.run`; this backend sends them over the host's open fleetkit
connection, so a test file sees exactly what `fleetkit exec` would.
"""

from __future__ import annotations

from typing import Any

import testinfra.host
from testinfra.backend import base

from fleetkit.connection.base import Connection

TIMEOUT_RC = 124
"""Exit status reported for a command cut by --timeout (as coreutils' timeout says)."""


class FleetkitBackend(base.BaseBackend):  # type: ignore[misc]  # testinfra is untyped
    """Run testinfra's commands through one fleetkit Connection.

    `become` sends every command through the connection's sudo (`fleetkit verify
    --become`, with the inventory's become_user); testinfra's own `with
    host.sudo(user):` wraps the commands inside it in sudo, as with any backend.
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
        text = self.get_command(command, *args)  # host.sudo() wraps it here
        result = self.conn.run(text, timeout=self.timeout, become=self.become)
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
