"""Shared by the k3s module tests: a fake connection that records every command and
runs it on this machine's shell (files under tmp_path), and a context builder."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.unit.modules.helpers import make_ctx

from fleetkit.connection.base import Connection
from fleetkit.modules.base import ModuleContext, ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection, Handler

REPO_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def shell(call: FakeCall) -> tuple[int, str, str]:
    """Run the recorded command locally (no sudo), as a host's shell would."""
    done = subprocess.run(
        ["/bin/sh", "-c", call.command], input=call.stdin, capture_output=True, check=False
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


class ShellFake(FakeConnection):
    """A FakeConnection whose commands and file transfers really happen, locally."""

    def put_file(
        self, local_path: Path, remote_path: str, *, mode: int | None = None, become: bool = False
    ) -> None:
        super().put_file(local_path, remote_path, mode=mode, become=become)  # recorded
        Connection.put_file(self, local_path, remote_path, mode=mode, become=become)

    def remote_sha256(self, remote_path: str, *, become: bool = False) -> str | None:
        return Connection.remote_sha256(self, remote_path, become=become)


def recording_shell(handler: Handler | None = None) -> FakeConnection:
    return ShellFake("h1", handler or shell)


def ctx_for(
    module: str,
    args: Mapping[str, Any],
    conn: FakeConnection,
    *,
    check: bool = False,
    diff: bool = False,
    variables: Mapping[str, Any] | None = None,
) -> ModuleContext:
    return make_ctx(
        module,
        args,
        conn,
        check=check,
        diff=diff,
        variables=variables,
        templates=(REPO_TEMPLATES,),
    )


def run(module: str, args: Mapping[str, Any], conn: FakeConnection, **kw: Any) -> ModuleResult:
    mod = lookup(module)
    assert mod is not None
    return mod.run(ctx_for(module, args, conn, **kw))
