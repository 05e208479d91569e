"""A local shell whose kernel-facing commands (sysctl, mount, hostname...) are answered
by rules instead, and whose fixed host paths (/etc/hostname) are rewritten to files
under tmp_path: file edits run for real, the machine itself is never changed."""

from __future__ import annotations

import re
from collections.abc import Callable

from fleetkit.connection.base import CommandResult
from fleetkit.connection.local import LocalConnection

Rule = Callable[[str, bytes | None], tuple[int, str, str]]


class InterceptingConnection(LocalConnection):
    """LocalConnection that answers commands matching a rule's regex from the rule."""

    def __init__(self, rules: dict[str, Rule], paths: dict[str, str] | None = None) -> None:
        super().__init__("h1")
        self.rules = [(re.compile(k), v) for k, v in rules.items()]
        self.paths = dict(paths or {})
        self.intercepted: list[str] = []

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        for rx, rule in self.rules:
            if rx.search(command):
                self.intercepted.append(command)
                rc, out, err = rule(command, stdin)
                return CommandResult(rc, out, err, 0.0)
        for host_path, local_path in self.paths.items():
            command = command.replace(host_path, local_path)
        return super().run(command, timeout=timeout, become=become, stdin=stdin)
