"""What a process holding many SSH connections needs (issue 14: the connection keeper).

- Descriptors numbered 1024 and up: a keeper of 500 connections has them, and
  select() refuses them ("filedescriptor out of range in select()": the 500-alias
  warm exec came out with hosts unreachable). Commands wait with poll.
- An idle connection's transport thread sleeps: paramiko polls its socket every
  0.1 s, 10 wakeups a second per connection (an idle keeper of 500 used 20 % CPU).
  It now sleeps in recv until data comes or the keepalive tick, and close() wakes
  it at once.

A real SSH server on 127.0.0.1 plays the host (tests/unit/security/sshd.py).
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.unit.security.sshd import LoopbackSSHD, known_line, new_ed25519, write_user_key

from fleetkit.connection.factory import ConnectionFactory
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.connection.ssh import SSHConnection

pytestmark = pytest.mark.unit


@dataclass
class Target:
    server: LoopbackSSHD
    factory: ConnectionFactory


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    home = tmp_path / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    write_user_key(ssh / "id_ed25519")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("FLEETKIT_PERSIST", raising=False)
    with LoopbackSSHD(new_ed25519()) as server:
        (ssh / "known_hosts").write_text(known_line(f"[127.0.0.1]:{server.port}", server.host_key))
        (ssh / "config").write_text(
            f"Host target\n    HostName 127.0.0.1\n    Port {server.port}\n    User fleet\n"
            f"    IdentityFile {ssh / 'id_ed25519'}\n"
        )
        spec = ConnectionSpec(name="target", address="target", connect_timeout=5)
        factory = ConnectionFactory({"target": spec})
        yield Target(server, factory)
        factory.close()


@contextlib.contextmanager
def descriptors_above(floor: int) -> Iterator[None]:
    """Hold descriptors up to floor, so the next ones the process opens are above it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = floor + 256
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.skip(f"open-files limit {hard} is below {want}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    held: list[int] = []
    try:
        while not held or held[-1] < floor:
            held.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _connection(target: Target) -> SSHConnection:
    conn = target.factory("target", direct=True)
    assert isinstance(conn, SSHConnection)
    return conn


def test_a_command_runs_when_its_descriptors_are_above_1024(target: Target) -> None:
    with descriptors_above(1100):
        conn = _connection(target)
        try:
            result = conn.run("true", timeout=10)
            fab = conn.fabric.client.get_transport()
            assert fab.sock.fileno() > 1024
        finally:
            conn.close()
    assert (result.rc, result.stdout) == (0, "ok\n")


def _switches(native_id: int) -> int:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    line = next(ln for ln in status.splitlines() if ln.startswith("voluntary_ctxt_switches"))
    return int(line.split()[1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_an_idle_connection_does_not_wake_its_thread_ten_times_a_second(target: Target) -> None:
    conn = _connection(target)
    try:
        conn.open()
        transport = conn.fabric.client.get_transport()
        time.sleep(0.3)  # the login's last packets are handled
        before = _switches(transport.native_id)
        time.sleep(1.5)
        woke = _switches(transport.native_id) - before
    finally:
        conn.close()
    assert woke <= 3, f"the idle transport thread woke {woke} times in 1.5 s"


def test_close_ends_the_sleeping_transport_thread_at_once(target: Target) -> None:
    conn = _connection(target)
    conn.open()
    transport = conn.fabric.client.get_transport()
    time.sleep(0.2)
    start = time.monotonic()
    conn.close()
    transport.join(5)
    assert not transport.is_alive()
    assert time.monotonic() - start < 2.0  # not the idle tick (10 s)
