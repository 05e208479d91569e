"""Streams to host sockets: the fake's listeners, real local sockets, the lazy wrapper."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetkit.connection.base import Stream
from fleetkit.connection.local import LocalConnection
from fleetkit.errors import ConnectionError, StreamRefused, TaskError
from fleetkit.playbook.runner import LazyConnection
from fleetkit.testing.fake_connection import FakeConnection, FakeStream

pytestmark = pytest.mark.unit


def echo_upper(sock: socket.socket) -> None:
    """A listener: answers each chunk in upper case until the client closes."""
    while data := sock.recv(1024):
        sock.sendall(data.upper())


def roundtrip(stream: Stream, data: bytes, *, close: bool = True) -> bytes:
    stream.settimeout(5)
    stream.sendall(data)
    answer = stream.recv(1024)
    if close:
        stream.close()
    return answer


# --- fake -------------------------------------------------------------------------------


def test_fake_streams_reach_the_listener_registered_for_their_socket_or_port() -> None:
    conn = FakeConnection(
        "lab1",
        listeners={("unix", "/var/run/docker.sock"): echo_upper, ("tcp", 6443): echo_upper},
    )
    unix = conn.open_unix_stream("/var/run/docker.sock")
    tcp = conn.open_tcp_stream(6443)
    assert roundtrip(unix, b"ping") == b"PING"
    assert roundtrip(tcp, b"get /version") == b"GET /VERSION"
    assert conn.streams == [
        FakeStream("lab1", "unix", "/var/run/docker.sock"),
        FakeStream("lab1", "tcp", 6443),
    ]


def test_fake_stream_to_an_unregistered_socket_is_refused_not_unreachable() -> None:
    conn = FakeConnection("lab1", listeners={("tcp", 6443): echo_upper})
    with pytest.raises(StreamRefused, match=r"/var/run/docker\.sock"):
        conn.open_unix_stream("/var/run/docker.sock")
    with pytest.raises(StreamRefused):
        conn.open_tcp_stream(6443, host="198.18.0.9")  # another address is another key
    assert conn.streams == []


def test_fake_stream_on_an_unreachable_host_is_a_plain_connection_error() -> None:
    conn = FakeConnection("lab1", unreachable=True, listeners={("tcp", 6443): echo_upper})
    with pytest.raises(ConnectionError) as err:
        conn.open_tcp_stream(6443)
    assert not isinstance(err.value, StreamRefused)


def test_fake_command_stream_serves_the_exec_listener() -> None:
    conn = FakeConnection("lab1", listeners={("exec", "docker system dial-stdio"): echo_upper})
    assert roundtrip(conn.open_command_stream("docker system dial-stdio"), b"x") == b"X"
    with pytest.raises(StreamRefused):
        conn.open_command_stream("something else")


def test_the_fake_closes_the_far_end_when_the_listener_returns() -> None:
    conn = FakeConnection("lab1", listeners={("unix", "/s"): lambda sock: sock.sendall(b"bye")})
    stream = conn.open_unix_stream("/s")
    stream.settimeout(5)
    assert stream.recv(10) == b"bye"
    assert stream.recv(10) == b""  # EOF
    stream.close()
    for thread in conn.threads:
        thread.join(5)
        assert not thread.is_alive()


# --- local ------------------------------------------------------------------------------


@pytest.fixture
def unix_server(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "svc.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()
    thread = threading.Thread(target=_serve_once, args=(server,), daemon=True)
    thread.start()
    yield path
    server.close()
    thread.join(5)


@pytest.fixture
def tcp_server() -> Iterator[int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    thread = threading.Thread(target=_serve_once, args=(server,), daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    thread.join(5)


def _serve_once(server: socket.socket) -> None:
    try:
        sock, _ = server.accept()
    except OSError:
        return
    with sock:
        echo_upper(sock)


def test_local_unix_stream_is_a_real_socket_to_the_path(unix_server: str) -> None:
    stream = LocalConnection("localhost").open_unix_stream(unix_server)
    assert isinstance(stream, socket.socket)
    assert stream.family == socket.AF_UNIX
    assert roundtrip(stream, b"hello") == b"HELLO"


def test_local_tcp_stream_has_nagle_off_and_blocks_after_connect(tcp_server: int) -> None:
    stream = LocalConnection("localhost").open_tcp_stream(tcp_server)
    assert isinstance(stream, socket.socket)
    with stream:
        assert stream.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert stream.gettimeout() is None
        assert roundtrip(stream, b"abc", close=False) == b"ABC"


def test_local_streams_to_nothing_are_refused(tmp_path: Path) -> None:
    conn = LocalConnection("localhost")
    with pytest.raises(StreamRefused, match="No such file"):
        conn.open_unix_stream(str(tmp_path / "missing.sock"))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(StreamRefused, match=f"127.0.0.1:{port} refused"):
        conn.open_tcp_stream(port)


# --- the playbook runner's lazy wrapper -------------------------------------------------


def test_lazy_connection_forwards_streams_and_files_to_the_real_one(tmp_path: Path) -> None:
    real = FakeConnection("lab1", listeners={("unix", "/s"): echo_upper, ("tcp", 80): echo_upper})
    lazy = LazyConnection("lab1", lambda name: real)
    assert roundtrip(lazy.open_unix_stream("/s"), b"a") == b"A"
    assert roundtrip(lazy.open_tcp_stream(80), b"b") == b"B"
    src = tmp_path / "f"
    src.write_bytes(b"data")
    lazy.put_file(src, "/etc/f", mode=0o644, become=True)
    assert lazy.remote_sha256("/etc/f") == real.files[0].sha256
    assert [s.kind for s in real.streams] == ["unix", "tcp"]


def test_a_delegate_whose_socket_refuses_fails_the_task() -> None:
    real = FakeConnection("db1")
    lazy = LazyConnection("db1", lambda name: real, delegate_for="web1")
    with pytest.raises(TaskError, match="delegate_to db1"):
        lazy.open_unix_stream("/var/run/docker.sock")
