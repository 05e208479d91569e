"""Streams and SFTP put_file over real SSH connections to lab hosts.

Streams are channels of the one SSH connection: a unix socket on the host
(direct-streamlocal) and a port on the host's own loopback (direct-tcpip) that
the controller cannot reach otherwise.
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetkit.connection.base import Connection, Stream
from fleetkit.connection.ssh import SSHConnection
from fleetkit.errors import ConnectionError, StreamRefused, TaskError
from fleetkit.executor.adhoc import connection_factory
from fleetkit.inventory.load import load_inventory
from fleetkit.lab import LabState

pytestmark = pytest.mark.integration


@pytest.fixture
def host(lab: LabState) -> str:
    return lab.hosts[-1].name


@pytest.fixture
def conn(lab: LabState, host: str) -> Iterator[Connection]:
    assert lab.inventory is not None
    factory = connection_factory(load_inventory(lab.inventory), [host])
    connection = factory(host)
    assert isinstance(connection, SSHConnection)
    connection.open()
    try:
        yield connection
    finally:
        connection.close()
        factory.close()


def http_get(stream: Stream, path: str) -> bytes:
    """One HTTP/1.0 request on stream; the whole answer (the server closes)."""
    stream.settimeout(10)
    stream.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    chunks = []
    while chunk := stream.recv(65536):
        chunks.append(chunk)
    stream.close()
    return b"".join(chunks)


def test_unix_stream_to_the_docker_socket_answers_ping(conn: Connection) -> None:
    answer = http_get(conn.open_unix_stream("/var/run/docker.sock"), "/_ping")
    assert answer.startswith(b"HTTP/1.0 200 OK")
    assert b"Api-Version:" in answer
    assert answer.endswith(b"\r\n\r\nOK")


def test_a_missing_unix_socket_is_refused_with_a_clear_reason(conn: Connection) -> None:
    with pytest.raises(StreamRefused) as err:
        conn.open_unix_stream("/run/fleetkit-no-such.sock")
    assert "there is no socket /run/fleetkit-no-such.sock on the host" in err.value.message
    assert conn.run("true").ok  # the connection is still good


@pytest.fixture
def loopback_server(conn: Connection) -> Iterator[tuple[int, str]]:
    """An HTTP server bound to the host's 127.0.0.1 serving one token file; stopped after."""
    token = secrets.token_hex(8)
    folder = f"/tmp/fk-streams-{token}"
    port = random.randint(20000, 40000)
    started = conn.run(
        f"mkdir {folder} && echo {token} > {folder}/token && cd {folder} &&"
        f" (nohup python3 -m http.server --bind 127.0.0.1 {port} >/dev/null 2>&1 &"
        " echo $!)"
    )
    assert started.ok, started.stderr
    pid = started.stdout.strip()
    try:
        deadline = time.monotonic() + 10
        while not conn.run(f"grep -q ':{port:04X} ' /proc/net/tcp").ok:
            assert time.monotonic() < deadline, "http.server did not start listening"
            time.sleep(0.1)
        yield port, token
    finally:
        conn.run(f"kill {pid}; rm -rf {folder}")


def test_tcp_stream_reaches_a_port_only_the_hosts_loopback_can(
    lab: LabState, conn: Connection, host: str, loopback_server: tuple[int, str]
) -> None:
    port, token = loopback_server
    answer = http_get(conn.open_tcp_stream(port), "/token")
    assert answer.startswith(b"HTTP/1.0 200")
    assert answer.endswith(f"{token}\n".encode())
    address = next(h.address for h in lab.hosts if h.name == host)
    with pytest.raises(OSError):  # not on the host's lab address
        socket.create_connection((address, port), timeout=3).close()
    try:  # and the controller's own loopback is another machine's
        direct = socket.create_connection(("127.0.0.1", port), timeout=3)
    except OSError:
        return
    assert token.encode() not in http_get(direct, "/token")


def test_a_closed_tcp_port_is_refused_not_unreachable(conn: Connection) -> None:
    with pytest.raises(StreamRefused, match=r"nothing accepts connections on 127\.0\.0\.1:1 "):
        conn.open_tcp_stream(1)


def test_a_host_without_sshd_is_unreachable_not_refused(lab: LabState, host: str) -> None:
    assert lab.inventory is not None
    factory = connection_factory(load_inventory(lab.inventory), [host], {"ansible_port": 1})
    with pytest.raises(ConnectionError) as err:
        factory(host).open_unix_stream("/var/run/docker.sock")
    assert not isinstance(err.value, StreamRefused)


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "payload.bin"
    path.write_bytes(os.urandom(5 * (1 << 20) + 123))
    return path


def staged_files(conn: Connection) -> set[str]:
    return set(conn.run("ls -1 /tmp | grep '^fleetkit-put' || true").stdout.split())


def test_put_file_over_sftp_is_atomic_with_mode(conn: Connection, big_file: Path) -> None:
    folder = f"/tmp/fk-put-{secrets.token_hex(6)}"
    target = f"{folder}/payload.bin"
    assert conn.run(f"mkdir {folder} && echo old > {target}").ok
    try:
        inode_before = conn.run(f"stat -c %i {target}").stdout
        conn.put_file(big_file, target, mode=0o640)
        assert conn.remote_sha256(target) == hashlib.sha256(big_file.read_bytes()).hexdigest()
        assert conn.run(f"stat -c '%a %U %s' {target}").stdout.split() == [
            "640",
            "fleet",
            str(big_file.stat().st_size),
        ]
        assert conn.run(f"stat -c %i {target}").stdout != inode_before  # renamed over
        assert conn.run(f"ls -A {folder}").stdout.split() == ["payload.bin"]  # no temp left
    finally:
        conn.run(f"rm -rf {folder}")


def test_put_file_with_become_installs_as_root_and_drops_the_staged_copy(
    conn: Connection, big_file: Path
) -> None:
    target = f"/etc/fk-put-{secrets.token_hex(6)}.bin"
    before = staged_files(conn)
    try:
        conn.put_file(big_file, target, mode=0o644, become=True)
        assert conn.run(f"stat -c '%a %U' {target}").stdout.split() == ["644", "root"]
        assert conn.remote_sha256(target) == hashlib.sha256(big_file.read_bytes()).hexdigest()
        assert staged_files(conn) == before
        assert "fleetkit-" not in conn.run("ls -A /etc").stdout
        conn.put_file(big_file, target, become=True)  # no mode: private, like put
        assert conn.run(f"stat -c '%a %U' {target}", become=True).stdout.split() == [
            "600",
            "root",
        ]
    finally:
        conn.run(f"rm -f {target}", become=True)


def test_put_file_failures_are_task_errors_and_leave_nothing(
    conn: Connection, big_file: Path
) -> None:
    before = staged_files(conn)
    with pytest.raises(TaskError, match="Permission denied"):
        conn.put_file(big_file, "/etc/fk-put-denied.bin")
    with pytest.raises(TaskError, match="cannot write /nonexistent/dir/f"):
        conn.put_file(big_file, "/nonexistent/dir/f", become=True)
    assert staged_files(conn) == before
    assert conn.run("true").ok
