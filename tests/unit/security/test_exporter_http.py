"""Finding 6: the exporter's HTTP server cannot be held down (all on loopback).

Idle and slowloris connections cost no thread and are closed on time, /metrics
answers under 1,000 idle connections, methods other than GET/HEAD get 405,
HEAD has no body, SIGHUP reloads the web config (a real `fleetkit exporter`
process), and a host with 100,000 mounts cannot blow up a scrape.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from tests.unit.security.test_exporter_webconfig import basic

from fleetkit.monitoring import web
from fleetkit.monitoring.exporter import MetricsCache, reload_web_config, stop_on_signals
from fleetkit.monitoring.snapshot import Filesystem, FleetSnapshot, HostSnapshot

pytestmark = pytest.mark.unit

BODY = b"fleetkit_host_up 1\n"


def make_server(limits: web.Limits | None = None, cfg: web.WebConfig | None = None) -> web.Server:
    app = web.MetricsApp(lambda accept: (BODY, "text/plain"), ready=lambda: True)
    return web.serve(app, "127.0.0.1", 0, cfg, limits=limits)


@pytest.fixture
def server() -> Iterator[web.Server]:
    srv = make_server(web.Limits(header_timeout_s=1.0, idle_timeout_s=5.0))
    yield srv
    srv.shutdown()


@pytest.fixture
def many_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))


def scrape(srv: web.Server, method: str = "GET", path: str = "/metrics") -> tuple[int, bytes, Any]:
    host, port = srv.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.read(), resp
    finally:
        conn.close()


def idle_connections(srv: web.Server, n: int) -> list[socket.socket]:
    return [socket.create_connection(srv.address, timeout=5) for _ in range(n)]


def test_metrics_answers_under_1000_idle_connections(many_files: None) -> None:
    srv = make_server(web.Limits(header_timeout_s=30.0))
    socks = idle_connections(srv, 1000)
    try:
        time.sleep(0.5)  # let the server accept them all
        assert srv.httpd.open_connections >= 990
        start = time.monotonic()
        status, body, _ = scrape(srv)
        assert (status, body) == (200, BODY)
        assert time.monotonic() - start < 3.0
        workers = [t for t in threading.enumerate() if t.name.startswith("fk-http")]
        assert len(workers) <= srv.httpd.limits.workers  # no thread per connection
    finally:
        for s in socks:
            s.close()
        srv.shutdown()


def test_past_the_connection_cap_the_oldest_idle_one_makes_room(many_files: None) -> None:
    srv = make_server(web.Limits(max_connections=100, header_timeout_s=30.0))
    socks = idle_connections(srv, 150)
    try:
        time.sleep(0.5)
        assert srv.httpd.open_connections <= 100
        assert scrape(srv)[:2] == (200, BODY)
        socks[0].settimeout(2)
        assert socks[0].recv(1) == b""  # the oldest was closed
    finally:
        for s in socks:
            s.close()
        srv.shutdown()


def test_slowloris_connections_are_closed_after_the_header_timeout(server: web.Server) -> None:
    socks = idle_connections(server, 300)
    try:
        for s in socks:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # keep trickling header bytes
            for s in socks:
                with contextlib.suppress(OSError):
                    s.sendall(b"X-a: b\r\n")
            time.sleep(0.2)
        time.sleep(0.5)
        assert server.httpd.open_connections == 0
        socks[0].settimeout(2)
        with contextlib.suppress(ConnectionResetError):
            assert socks[0].recv(1) == b""
        assert scrape(server)[:2] == (200, BODY)
    finally:
        for s in socks:
            s.close()


def test_idle_connections_without_a_request_are_closed_too(server: web.Server) -> None:
    socks = idle_connections(server, 50)
    try:
        time.sleep(1.8)
        assert server.httpd.open_connections == 0
    finally:
        for s in socks:
            s.close()


def test_oversized_headers_get_431(server: web.Server) -> None:
    with socket.create_connection(server.address, timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 431")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_methods_other_than_get_and_head_get_405(server: web.Server, method: str) -> None:
    status, _, resp = scrape(server, method)
    assert status == 405
    assert resp.headers["Allow"] == "GET, HEAD"


def test_head_has_the_headers_of_get_and_no_body(server: web.Server) -> None:
    with socket.create_connection(server.address, timeout=5) as s:
        s.sendall(
            b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        data = b""
        while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(BODY):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head, get = data.split(b"HTTP/1.1 200 OK")[1:]
    assert f"Content-Length: {len(BODY)}".encode() in head
    assert head.endswith(b"\r\n\r\n")  # nothing after the HEAD's headers
    assert get.endswith(b"\r\n\r\n" + BODY)


def test_keep_alive_serves_several_requests_on_one_connection(server: web.Server) -> None:
    host, port = server.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, BODY)
    finally:
        conn.close()


def test_the_listen_backlog_is_raised() -> None:
    srv = make_server()
    try:
        port = srv.address[1]
        out = subprocess.run(
            ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()
        assert int(out[2]) >= 128  # Send-Q of a listening socket is its backlog
    finally:
        srv.shutdown()


# --- SIGHUP ---------------------------------------------------------------------------


def users_file(path: Path, password: bytes) -> Path:
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds=4)).decode()
    path.write_text(f"basic_auth_users:\n  prom: '{hashed}'\n")
    return path


def status_with(srv: web.Server, password: str) -> int:
    host, port = srv.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": basic("prom", password)})
        return conn.getresponse().status
    finally:
        conn.close()


def test_reload_applies_a_new_web_config_and_keeps_the_old_on_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = users_file(tmp_path / "web.yml", b"one")
    srv = make_server(cfg=web.load_web_config(path))
    try:
        assert status_with(srv, "one") == 200
        users_file(path, b"two")
        assert reload_web_config(srv, path)
        assert (status_with(srv, "one"), status_with(srv, "two")) == (401, 200)
        path.write_text("basic_auth_users:\n  prom: not-a-hash\n")
        with caplog.at_level(logging.ERROR, logger="fleetkit.monitoring"):
            assert not reload_web_config(srv, path)
        assert "keeping the previous web config" in caplog.text
        assert status_with(srv, "two") == 200
    finally:
        srv.shutdown()


def test_sighup_asks_for_a_reload_and_does_not_stop() -> None:
    reload = threading.Event()
    with stop_on_signals(reload) as stop:
        os.kill(os.getpid(), signal.SIGHUP)
        assert reload.wait(2)
        assert not stop.is_set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_running_exporter_survives_sighup_reloads_and_stops_on_sigterm(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    h1:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n"
    )
    path = users_file(tmp_path / "web.yml", b"one")
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "fleetkit"),
            "exporter",
            "-i",
            str(inventory),
            "--listen",
            f"127.0.0.1:{port}",
            "--web-config",
            str(path),
            "--interval",
            "60",
            "--timeout",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/-/healthy"
        for _ in range(100):
            try:
                req = urllib.request.Request(url, headers={"Authorization": basic("prom", "one")})
                with urllib.request.urlopen(req, timeout=1) as resp:
                    assert resp.status == 200
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the exporter did not start")
        users_file(path, b"two")
        proc.send_signal(signal.SIGHUP)
        for _ in range(50):
            req = urllib.request.Request(url, headers={"Authorization": basic("prom", "two")})
            try:
                with urllib.request.urlopen(req, timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("SIGHUP did not reload the web config")
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "reloaded the web config" in err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


# --- the series cap -------------------------------------------------------------------


def test_a_host_with_100000_mounts_is_capped_and_the_truncation_reported() -> None:
    mounts = tuple(Filesystem(f"/mnt/m{i}", "tmpfs", "tmpfs", 1000, 500) for i in range(100_000))
    snap = FleetSnapshot(
        hosts=(
            HostSnapshot("big", up=True, filesystems=mounts),
            HostSnapshot("small", up=True, filesystems=mounts[:3]),
        ),
        cycle=1,
    )
    text = MetricsCache(lambda: snap, max_series_per_host=10_000).text()
    assert len(text) < 3_000_000  # 23 MB before the cap
    lines = text.splitlines()

    def fs_series(host: str) -> int:
        return sum(
            1
            for line in lines
            if line.startswith("fleetkit_host_filesystem_size_bytes{") and f'host="{host}"' in line
        )

    assert fs_series("big") == 5_000
    assert 'fleetkit_exporter_series_truncated{host="big"} 190000.0' in text
    assert 'fleetkit_exporter_series_truncated{host="small"} 0.0' in text
    assert fs_series("small") == 3
