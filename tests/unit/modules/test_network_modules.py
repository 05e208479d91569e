"""uri, wait_for and fetch: on loopback and local files only."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

pytestmark = pytest.mark.unit


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 404 if self.path == "/missing" else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def http_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("run_on", ["host", "controller"])
def test_uri_checks_the_status_and_returns_content(
    run_local: RunModule, http_url: str, run_on: str
) -> None:
    res = run_local("uri", {"url": f"{http_url}/", "return_content": True, "run_on": run_on})
    assert not res.failed and not res.changed, res.msg
    assert res.data["status"] == 200 and res.data["json"] == {"ok": True}


@pytest.mark.parametrize("run_on", ["host", "controller"])
def test_uri_fails_on_an_unwanted_status(run_local: RunModule, http_url: str, run_on: str) -> None:
    res = run_local("uri", {"url": f"{http_url}/missing", "run_on": run_on})
    assert res.failed and "-> 404 (wanted 200)" in res.msg


def test_uri_accepts_listed_statuses(run_local: RunModule, http_url: str) -> None:
    assert not run_local("uri", {"url": f"{http_url}/missing", "status_code": [200, 404]}).failed


def test_uri_in_check_mode_skips_unsafe_methods(run_local: RunModule, http_url: str) -> None:
    res = run_local("uri", {"url": http_url, "method": "POST", "body": "x"}, check=True)
    assert res.skipped


def test_wait_for_a_listening_port(run_local: RunModule) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        port = sock.getsockname()[1]
        res = run_local("wait_for", {"port": port, "timeout": 5})
        assert not res.failed and not res.changed, res.msg
    finally:
        sock.close()


def test_wait_for_times_out_on_a_closed_port(run_local: RunModule) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    res = run_local("wait_for", {"port": port, "timeout": 1, "sleep": 0.2})
    assert res.failed and "not started after 1s" in res.msg


def test_wait_for_a_path_with_content(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "ready"
    path.write_text("status: ready\n")
    assert not run_local(
        "wait_for", {"path": str(path), "search_regex": "ready", "timeout": 2}
    ).failed


def test_fetch_copies_once_then_is_ok(run_local: RunModule, tmp_path: Path) -> None:
    src = tmp_path / "remote.log"
    src.write_text("line\n")
    dest = tmp_path / "fetched"
    first = run_local("fetch", {"src": str(src), "dest": str(dest)})
    target = dest / "h1" / str(src).lstrip("/")
    assert first.changed and target.read_text() == "line\n"
    assert not run_local("fetch", {"src": str(src), "dest": str(dest)}).changed
    flat = run_local("fetch", {"src": str(src), "dest": f"{dest}/", "flat": True})
    assert flat.changed and (dest / "remote.log").exists()
