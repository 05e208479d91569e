"""Issue 12, finding 4: every known_hosts file is read, and accept-new records only strangers.

fleetkit read only the first UserKnownHostsFile, so a key that contradicted the
second one, GlobalKnownHostsFile or /etc/ssh/ssh_known_hosts was accepted and
written, where OpenSSH refuses. A real SSH server on 127.0.0.1 plays the host;
the user's ~/.ssh/config (HOME points at a temp dir) names two user files and a
global file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
from tests.unit.security.sshd import LoopbackSSHD, known_line, new_ed25519, write_user_key

from fleetkit.connection.factory import ConnectionFactory
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import HostKeyError

pytestmark = pytest.mark.unit


@dataclass
class Setup:
    server: LoopbackSSHD
    first: Path  # UserKnownHostsFile, first: the one accept-new writes
    second: Path  # UserKnownHostsFile, second
    global_file: Path  # GlobalKnownHostsFile

    def line(self, key: paramiko.PKey | None = None) -> str:
        return known_line(f"[127.0.0.1]:{self.server.port}", key or self.server.host_key)

    def contents(self) -> tuple[str | None, ...]:
        return tuple(
            p.read_text() if p.exists() else None
            for p in (self.first, self.second, self.global_file)
        )


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    home = tmp_path / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    write_user_key(ssh / "id_ed25519")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("FLEETKIT_PERSIST", raising=False)
    first, second, global_file = ssh / "known_hosts", ssh / "known_hosts2", tmp_path / "global"
    with LoopbackSSHD(new_ed25519()) as server:
        (ssh / "config").write_text(
            f"Host target\n    HostName 127.0.0.1\n    Port {server.port}\n    User fleet\n"
            f"    IdentityFile {ssh / 'id_ed25519'}\n"
            f"    UserKnownHostsFile {first} {second}\n"
            f"    GlobalKnownHostsFile {global_file}\n"
        )
        yield Setup(server, first, second, global_file)


def run_on_target(policy: str) -> str:
    spec = ConnectionSpec(
        name="target", address="target", host_key_policy=policy, connect_timeout=5
    )
    factory = ConnectionFactory({"target": spec})
    conn = factory("target")
    try:
        return conn.run("true").stdout
    finally:
        conn.close()
        factory.close()


def test_accept_new_refuses_a_key_the_global_file_contradicts_and_writes_nothing(
    setup: Setup,
) -> None:
    setup.global_file.write_text(setup.line(new_ed25519()))
    before = setup.contents()
    with pytest.raises(HostKeyError, match=f"has CHANGED.*{setup.global_file}"):
        run_on_target("accept-new")
    assert setup.contents() == before
    assert setup.server.auth_attempts == []


def test_accept_new_refuses_a_host_the_global_file_knows_by_another_key_type(
    setup: Setup,
) -> None:
    setup.global_file.write_text(setup.line(paramiko.RSAKey.generate(2048)))
    before = setup.contents()
    with pytest.raises(HostKeyError, match="has CHANGED"):
        run_on_target("accept-new")
    assert setup.contents() == before
    assert setup.server.auth_attempts == []


def test_accept_new_refuses_a_key_the_second_user_file_contradicts(setup: Setup) -> None:
    setup.second.write_text(setup.line(new_ed25519()))
    before = setup.contents()
    with pytest.raises(HostKeyError, match="has CHANGED"):
        run_on_target("accept-new")
    assert setup.contents() == before
    assert setup.server.auth_attempts == []


def test_accept_new_records_a_stranger_in_the_first_user_file_only(setup: Setup) -> None:
    assert run_on_target("accept-new") == "ok\n"
    assert setup.contents() == (setup.line(), None, None)
    assert run_on_target("verify") == "ok\n"  # a new run finds it there


def test_verify_accepts_a_key_known_only_from_the_global_file(setup: Setup) -> None:
    setup.global_file.write_text(setup.line())
    assert run_on_target("verify") == "ok\n"
    assert setup.contents() == (None, None, setup.line())


def test_verify_names_every_file_it_searched(setup: Setup) -> None:
    with pytest.raises(HostKeyError) as err:
        run_on_target("verify")
    for path in (setup.first, setup.second, setup.global_file):
        assert str(path) in str(err.value)
    assert setup.server.auth_attempts == []


def test_marker_lines_in_a_global_file_are_skipped_not_fatal(setup: Setup) -> None:
    other = new_ed25519()
    setup.global_file.write_text(
        f"@cert-authority *.example.org {other.get_name()} {other.get_base64()}\n"
        f"@revoked [127.0.0.1]:1 {other.get_name()} {other.get_base64()}\n"
        "damaged line\n" + setup.line()
    )
    assert run_on_target("verify") == "ok\n"
