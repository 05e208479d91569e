"""A keeper in this process (held connections are fakes) and a KeptConnection client:
results cross the socket unchanged, errors keep their class, idle connections expire,
the socket is private and other uids are refused."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetkit.connection.base import CommandResult, Connection
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.keeper import identity, protocol, server, sockets
from fleetkit.keeper.client import KeeperSession, KeptConnection, keeper_request
from fleetkit.keeper.server import Keeper
from fleetkit.keeper.settings import DEFAULT_PERSIST_S, parse_persist
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


class FakeKeeper(Keeper):
    """A keeper whose held connections are FakeConnections (counted as they are made),
    counting the client sockets it accepts."""

    def __init__(self, path: Path, **kwargs: float) -> None:
        super().__init__(path, **kwargs)  # type: ignore[arg-type]
        self.made: list[str] = []
        self.sockets = 0

    def _make(self, spec: ConnectionSpec) -> Connection:
        self.made.append(spec.name)

        def handler(call: FakeCall) -> CommandResult | tuple[int, str, str]:
            if call.command == "boom":
                raise HostConnectionError(f"{spec.name}: connection lost: test")
            if call.command.startswith("sleep "):
                time.sleep(float(call.command.split()[1]))
            return 7, f"{spec.user}:{call.command}:{(call.stdin or b'').decode()}", "err\n"

        def echo(sock: socket.socket) -> None:  # the host's end of /run/echo.sock
            while data := sock.recv(65536):
                sock.sendall(data.upper())

        return FakeConnection(spec.name, handler, listeners={("unix", "/run/echo.sock"): echo})

    def _client(self, sock: socket.socket) -> None:
        self.sockets += 1
        super()._client(sock)


def _serving(k: FakeKeeper) -> threading.Thread:
    thread = threading.Thread(target=k.serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not k.path.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return thread


@pytest.fixture
def keeper(tmp_path: Path) -> Iterator[FakeKeeper]:
    k = FakeKeeper(tmp_path / "run" / "keeper.sock")
    thread = _serving(k)
    yield k
    k.stop()
    thread.join(5)


def _kept(keeper: Keeper, spec: ConnectionSpec, persist: float = 60.0) -> KeptConnection:
    session = KeeperSession(persist, keeper.path)

    def direct() -> Connection:
        raise AssertionError("went direct")

    return KeptConnection(spec, session, direct)


SPEC = ConnectionSpec(name="web1", address="198.18.0.2", user="fleet")


def test_run_result_crosses_unchanged_and_connection_is_reused(keeper: FakeKeeper) -> None:
    first = _kept(keeper, SPEC)
    result = first.run("uptime", stdin=b"in")
    first.close()
    assert (result.rc, result.stdout, result.stderr, result.timed_out) == (
        7,
        "fleet:uptime:in",
        "err\n",
        False,
    )
    second = _kept(keeper, SPEC)
    assert second.run("true").stdout == "fleet:true:"
    second.close()
    assert keeper.made == ["web1"]  # one connection for both runs


def test_changed_user_opens_a_new_connection(keeper: FakeKeeper) -> None:
    from dataclasses import replace

    with _kept(keeper, SPEC) as first:
        first.run("a")
    with _kept(keeper, replace(SPEC, user="root")) as other:
        assert other.run("b").stdout == "root:b:"
    assert keeper.made == ["web1", "web1"]
    assert len(keeper.status()) == 2


def test_errors_keep_their_class_and_message(keeper: FakeKeeper) -> None:
    with _kept(keeper, SPEC) as conn:
        with pytest.raises(HostConnectionError, match="web1: connection lost: test"):
            conn.run("boom")
        assert conn.run("after").rc == 7  # the socket still serves


def test_idle_connection_expires_then_keeper_exits(tmp_path: Path) -> None:
    path = tmp_path / "k" / "keeper.sock"
    k = FakeKeeper(path)
    thread = threading.Thread(target=k.serve, daemon=True)
    thread.start()
    while not path.exists():
        time.sleep(0.01)
    conn = _kept(k, SPEC, persist=0.3)
    conn.run("x")
    assert len(k.status()) == 1
    conn.close()  # the run ends: the keeper keeps the connection until it expires
    conn._session.close()
    thread.join(10)
    assert not thread.is_alive()  # expired after 0.3 s idle, then nothing held: exited
    assert k.status() == []
    assert not path.exists()


def test_status_and_stop_requests(keeper: FakeKeeper) -> None:
    with _kept(keeper, SPEC) as conn:
        conn.run("x")
    reply = keeper_request("status", keeper.path)
    assert reply is not None
    assert [r["host"] for r in reply["held"]] == ["web1"]
    assert keeper_request("stop", keeper.path) == {"ok": True, "blobs": 0}


def test_socket_is_private(keeper: FakeKeeper) -> None:
    assert stat.S_IMODE(os.stat(keeper.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keeper.path.parent).st_mode) == 0o700


def test_directory_open_to_others_is_refused(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    with pytest.raises(sockets.UnsafeSocketDir, match="open to other users"):
        sockets.private_dir(loose)
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(sockets.UnsafeSocketDir, match="not a directory"):
        sockets.private_dir(link)


NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
PEER_SCRIPT = """
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = b'{"op":"status"}'
s.sendall(struct.pack('>I', len(body)) + body)
data = b''
while chunk := s.recv(65536):
    data += chunk
print(data[4:].decode())
"""


@pytest.mark.skipif(os.getuid() != 0 or not shutil.which("setpriv"), reason="needs root")
def test_other_uid_is_refused_even_when_it_can_reach_the_socket() -> None:
    base = Path(tempfile.mkdtemp(prefix="fk-peer-", dir="/tmp"))
    path = base / "run" / "keeper.sock"
    k = FakeKeeper(path)
    thread = threading.Thread(target=k.serve, daemon=True)
    thread.start()
    try:
        while not path.exists():
            time.sleep(0.01)
        with _kept(k, SPEC) as conn:
            conn.run("x")
        # Loosen the permissions on purpose: the peer-credential check must still refuse.
        for p in (base, path.parent):
            os.chmod(p, 0o755)
        os.chmod(path, 0o666)
        out = subprocess.run(
            [*NOBODY, "/usr/bin/python3", "-c", PEER_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert "wrong user" in out.stdout
        assert "web1" not in out.stdout  # nothing about held connections leaked
        assert len(k.status()) == 1  # and the keeper still serves its own user
    finally:
        k.stop()
        thread.join(5)
        shutil.rmtree(base)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("yes", DEFAULT_PERSIST_S),
        ("1", DEFAULT_PERSIST_S),
        ("no", None),
        ("0", None),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("45", 45.0),
        (True, DEFAULT_PERSIST_S),
    ],
)
def test_persist_values(raw: object, seconds: float | None) -> None:
    assert parse_persist(raw) == seconds


@pytest.mark.parametrize("raw", ["-5", "abc", "nan", "inf", "10x"])
def test_bad_persist_values_are_usage_errors(raw: str) -> None:
    from fleetkit.errors import UsageError

    with pytest.raises(UsageError):
        parse_persist(raw)


def test_framing_error_from_client_does_not_kill_the_keeper(keeper: FakeKeeper) -> None:
    sock = sockets.connect(keeper.path)
    sock.sendall(b"\x00\x00\x00\x05nope!")
    with pytest.raises(protocol.PeerClosed):
        protocol.recv(sock)  # the keeper drops that client...
    sock.close()
    with _kept(keeper, SPEC) as conn:
        assert conn.run("ok").rc == 7  # ...and serves the next


def _hosts(n: int) -> list[ConnectionSpec]:
    return [
        ConnectionSpec(name=f"web{i}", address=f"198.18.0.{i + 2}", user="fleet") for i in range(n)
    ]


def test_a_run_keys_each_host_once_and_shares_one_socket(
    keeper: FakeKeeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14's warm playbook was no faster than cold: every command re-keyed its host
    (reading and hashing the key, known_hosts and config files) on a socket per host."""
    keyed: list[str] = []
    real = identity.connection_key

    def counting(spec: ConnectionSpec, env: dict[str, str | None]) -> str:
        keyed.append(spec.name)
        return real(spec, env)

    monkeypatch.setattr(server.identity, "connection_key", counting)
    session = KeeperSession(60.0, keeper.path)
    conns = [KeptConnection(s, session, _no_direct) for s in _hosts(3)]
    for _task in range(4):
        for conn in conns:
            assert conn.run("true").rc == 7
    for conn in conns:
        conn.close()
    session.close()
    assert sorted(keyed) == ["web0", "web1", "web2"]  # once per host per run
    assert keeper.sockets == 1  # one socket for the whole run


def test_commands_of_many_hosts_are_in_flight_at_once_on_the_one_socket(
    keeper: FakeKeeper,
) -> None:
    session = KeeperSession(60.0, keeper.path)
    conns = [KeptConnection(s, session, _no_direct) for s in _hosts(20)]
    for conn in conns:
        conn.open()
    results: list[int | None] = []
    start = time.monotonic()
    threads = [
        threading.Thread(target=lambda c=c: results.append(c.run("sleep 0.5").rc)) for c in conns
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - start
    session.close()
    assert results == [7] * 20
    assert elapsed < 5.0  # 20 x 0.5 s one after another would be 10 s
    assert keeper.sockets == 1


def test_a_command_costs_no_keepalive_probe_within_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command after a second idle was preceded by a keepalive round trip on a thread
    of its own (a 200-host task takes over a second): now only binding a host that was
    unused for a while checks it, and a command after PROBE_IN_RUN_S without one."""
    probes: list[str] = []

    def alive(conn: Connection, timeout: float) -> bool:
        probes.append(conn.name)
        return True

    monkeypatch.setattr(server, "alive", alive)
    k = FakeKeeper(tmp_path / "k" / "keeper.sock", probe_after_s=0.0)
    thread = _serving(k)
    try:
        with _kept(k, SPEC) as conn:
            conn.run("first")
        assert probes == []  # a connection just made is not probed
        with _kept(k, SPEC) as conn:  # the next run binds it again: one check
            for _ in range(5):
                time.sleep(0.02)
                conn.run("again")
        assert probes == ["web1"]
    finally:
        k.stop()
        thread.join(5)


def test_a_bound_connection_is_not_expired_while_its_run_lasts(tmp_path: Path) -> None:
    k = FakeKeeper(tmp_path / "k" / "keeper.sock")
    thread = _serving(k)
    try:
        conn = _kept(k, SPEC, persist=0.2)
        conn.run("x")
        time.sleep(1.5)  # past persist: the run still holds it (ControlPersist counts so)
        assert len(k.status()) == 1 and k.status()[0]["runs"] == 1
        assert conn.run("y").rc == 7
        assert k.made == ["web1"]
        conn.close()
        conn._session.close()
        thread.join(10)
        assert not thread.is_alive()  # released: expired, then nothing held
    finally:
        k.stop()
        thread.join(5)


def test_keeper_gone_mid_command_is_a_clear_error_for_every_waiting_host(
    keeper: FakeKeeper,
) -> None:
    session = KeeperSession(60.0, keeper.path)
    conns = [KeptConnection(s, session, _no_direct) for s in _hosts(3)]
    for conn in conns:
        conn.open()
    errors: list[str] = []

    def run(conn: KeptConnection) -> None:
        try:
            conn.run("sleep 5")
        except HostConnectionError as err:
            errors.append(str(err))

    threads = [threading.Thread(target=run, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while not all(row["channels"] for row in keeper.status()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    mux = session.mux()
    assert mux is not None
    mux._sock.shutdown(socket.SHUT_RDWR)  # what the keeper's death looks like to the run
    for t in threads:
        t.join(10)
    session.close()
    assert len(errors) == 3
    assert all("connection keeper went away during run" in e for e in errors)
    assert session.down is not None  # the rest of the run connects directly


def _no_direct() -> Connection:
    raise AssertionError("went direct")


def test_a_stream_is_pumped_when_its_descriptors_are_above_1024() -> None:
    """A keeper holding 500 connections has descriptors past 1024; select() refuses them."""
    from tests.unit.connection.test_held_connections import descriptors_above

    with descriptors_above(1100):
        client, keeper_side = socket.socketpair()
        host_side, stream = socket.socketpair()
        assert keeper_side.fileno() > 1024 and stream.fileno() > 1024
        pumping = threading.Thread(target=server.pump, args=(keeper_side, stream), daemon=True)
        pumping.start()
        client.sendall(b"ping")
        client.shutdown(socket.SHUT_WR)
        host_side.settimeout(5)
        assert host_side.recv(16) == b"ping"
        host_side.sendall(b"pong")
        host_side.close()
        client.settimeout(5)
        assert client.recv(16) == b"pong"
        pumping.join(5)
        assert not pumping.is_alive()
        for s in (client, keeper_side, stream):
            s.close()


def test_a_stream_crosses_the_keeper_and_a_refusal_keeps_its_class(keeper: FakeKeeper) -> None:
    from fleetkit.errors import StreamRefused

    with _kept(keeper, SPEC) as conn:
        conn.run("x")
        stream = conn.open_unix_stream("/run/echo.sock")
        stream.sendall(b"hello")
        stream.settimeout(5)
        got = b""
        while len(got) < 5:
            got += stream.recv(16)
        stream.close()
        assert got == b"HELLO"
        with pytest.raises(StreamRefused, match=r"no socket /run/nope\.sock"):
            conn.open_unix_stream("/run/nope.sock")
        assert conn.run("after").rc == 7
    assert keeper.made == ["web1"]  # the stream used the held connection
