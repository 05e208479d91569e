"""Finding 2b: secrets travel over stdin or 0600 files, never on a command line, which
`ps` shows every local user: `environment:` values, `uri` headers and URL
credentials, `user` password hashes.

Commands run on the controller's own shell (LocalConnection), while a thread reads
every process's /proc/PID/cmdline, as `ps -eo args` does; a positive control (the
command's own marker) proves the scan saw the command while it ran.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetkit.connection.base import CommandResult
from fleetkit.connection.local import LocalConnection
from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleContext, ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.playbook.render import Renderer
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

SECRET = "Planted-Argv-Secret-71"
HASH = "$6$plantedsalt$PlantedHashValueForTheUserModule0123456789abcdef"


class Recording(LocalConnection):
    """The local shell, remembering each command line it was given."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.commands: list[str] = []

    def run(self, command: str, **kw: Any) -> CommandResult:
        self.commands.append(command)
        return super().run(command, **kw)


class ProcScan:
    """Reads every process's command line until stopped; keeps the ones with needles."""

    def __init__(self, *needles: str) -> None:
        self.needles = needles
        self.hits: dict[str, set[str]] = {n: set() for n in needles}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._scan, daemon=True)

    def _scan(self) -> None:
        while not self._stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                for needle in self.needles:
                    if needle in text:
                        self.hits[needle].add(text)
            time.sleep(0.01)

    def __enter__(self) -> ProcScan:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def context(module: str, conn: Any, args: dict[str, Any], **kw: Any) -> ModuleContext:
    mod = lookup(module)
    assert mod is not None
    prepared, errors = prepare(mod, args)
    assert not errors, errors
    return ModuleContext(
        host="h1", conn=conn, args=prepared, variables={}, templar=Renderer(), **kw
    )


def run_module(module: str, ctx: ModuleContext) -> ModuleResult:
    mod = lookup(module)
    assert mod is not None
    return mod.run(ctx)


@pytest.mark.parametrize("become", [False, True])
def test_environment_values_never_reach_a_command_line(become: bool) -> None:
    conn = Recording("h1")
    ctx = context("shell", conn, {"cmd": "x"}, environment={"DB_PASSWORD": SECRET}, become=become)
    with ProcScan(SECRET, "marker-env-71") as scan:
        res = ctx.run('sleep 0.6; echo "marker-env-71 $DB_PASSWORD"; cat')
    assert res.ok, res.stderr
    assert res.stdout == f"marker-env-71 {SECRET}\n"  # the command sees the variable
    assert scan.hits["marker-env-71"], "the scan never saw the command running"
    assert not scan.hits[SECRET], scan.hits[SECRET]
    assert not any(SECRET in c for c in conn.commands)


def test_environment_keeps_the_commands_own_stdin() -> None:
    ctx = context("shell", LocalConnection("h1"), {"cmd": "x"}, environment={"A": "1 2\n3'"})
    res = ctx.run('printf "%s|" "$A"; cat; echo "[${FLEETKIT_ENV-unset}]"', stdin=b"in\0put\n")
    assert res.ok, res.stderr
    assert res.stdout == "1 2\n3'|in\0put\n[unset]\n"


class _Echo(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        time.sleep(0.6)  # the request is in flight while the process list is scanned
        _Echo.seen.append(dict(self.headers.items()))
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Echo.seen.clear()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_uri_headers_and_url_credentials_never_reach_a_command_line(server: str) -> None:
    conn = Recording("h1")
    url = f"http://deploy:{SECRET}x@{server}/marker-uri-71"
    ctx = context("uri", conn, {"url": url, "headers": {"Authorization": f"Bearer {SECRET}"}})
    with ProcScan(SECRET, "curl") as scan:
        res = run_module("uri", ctx)
    assert not res.failed, res.msg
    assert _Echo.seen and _Echo.seen[0]["Authorization"] == f"Bearer {SECRET}"
    assert scan.hits["curl"], "the scan never saw curl running"
    assert not scan.hits[SECRET], scan.hits[SECRET]
    assert not any(SECRET in c for c in conn.commands)
    assert SECRET not in res.msg and SECRET not in str(dict(res.data))


def test_uri_url_credentials_are_sent_but_never_on_a_command_line(server: str) -> None:
    import base64

    conn = Recording("h1")
    ctx = context("uri", conn, {"url": f"http://deploy:{SECRET}@{server}/marker-uri-72"})
    with ProcScan(SECRET, "curl") as scan:
        res = run_module("uri", ctx)
    assert not res.failed, res.msg
    sent = base64.b64encode(f"deploy:{SECRET}".encode()).decode()
    assert _Echo.seen and _Echo.seen[0]["Authorization"] == f"Basic {sent}"
    assert scan.hits["curl"] and not scan.hits[SECRET]
    assert not any(SECRET in c for c in conn.commands)
    assert SECRET not in res.msg and "deploy:********@" in res.msg


def test_uri_through_wget_keeps_credentials_off_the_command_line(
    server: str, tmp_path: Path
) -> None:
    """No curl on the host: GNU wget reads headers from a wgetrc and the URL from a list."""
    import shutil

    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("sh", "mktemp", "base64", "cat", "sed", "tail", "rm", "wget", "sleep"):
        found = shutil.which(tool)
        assert found, tool
        (bindir / tool).symlink_to(found)
    conn = Recording("h1")
    url = f"http://{server}/marker-wget-71"
    ctx = context(
        "uri",
        conn,
        {"url": url, "headers": {"X-Token": SECRET}},
        environment={"PATH": str(bindir)},
    )
    with ProcScan(SECRET, "marker-wget-71") as scan:
        res = run_module("uri", ctx)
    assert not res.failed, res.msg
    assert _Echo.seen and _Echo.seen[0]["X-Token"] == SECRET
    assert not scan.hits[SECRET], scan.hits[SECRET]
    assert not any(SECRET in c for c in conn.commands)


def _user_host(existing: bool) -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str] | None:
        if call.command.startswith("getent passwd"):
            return (0, "app:x:1001:1001::/home/app:/bin/sh\ngroups=app\ngroup=app\n", "")
        if call.command.startswith("getent shadow"):
            return (0, "$6$old$oldhash\n", "")
        return None

    return FakeConnection("h1", handle if existing else None)


@pytest.mark.parametrize("existing", [False, True])
def test_user_password_hashes_go_to_chpasswd_on_stdin(existing: bool) -> None:
    conn = _user_host(existing)
    res = run_module("user", context("user", conn, {"name": "app", "password": HASH}))
    assert res.changed and not res.failed, res.msg
    assert not any(HASH in call.command for call in conn.calls)
    (write,) = [call for call in conn.calls if "chpasswd -e" in call.command]
    assert write.stdin == f"app:{HASH}\n".encode()
    assert HASH not in res.msg


def test_user_refuses_a_password_that_is_not_a_hash() -> None:
    mod = lookup("user")
    assert mod is not None
    _, errors = prepare(mod, {"name": "app", "password": "a:b\nroot::0:0"})
    assert errors and "crypt hash" in errors[0]
