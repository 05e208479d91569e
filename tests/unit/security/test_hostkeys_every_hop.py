"""Issue 12, finding 3: a ProxyJump bastion from ~/.ssh/config gets fleetkit's host-key check.

Fabric builds ssh_config ProxyJump hops as Connections of its own with AutoAddPolicy
and no known_hosts: any bastion was accepted and offered the user's key. Here a
real SSH server on 127.0.0.1 plays the bastion and another the target; the user's
~/.ssh/config (HOME points at a temp dir) sends the target through the bastion.
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
class Hops:
    home: Path
    known_hosts: Path
    bastion: LoopbackSSHD
    target: LoopbackSSHD

    def known(self, server: LoopbackSSHD, key: paramiko.PKey | None = None) -> str:
        return known_line(f"[127.0.0.1]:{server.port}", key or server.host_key)


@pytest.fixture
def hops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hops]:
    home = tmp_path / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    write_user_key(ssh / "id_ed25519")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("FLEETKIT_PERSIST", raising=False)
    with LoopbackSSHD(new_ed25519()) as bastion, LoopbackSSHD(new_ed25519()) as target:
        (ssh / "config").write_text(
            f"Host target\n    HostName 127.0.0.1\n    Port {target.port}\n"
            "    ProxyJump bastion\n"
            f"Host bastion\n    HostName 127.0.0.1\n    Port {bastion.port}\n"
            "Host *\n    User fleet\n"
            f"    IdentityFile {ssh / 'id_ed25519'}\n"
            f"    UserKnownHostsFile {ssh / 'known_hosts'}\n"
            f"    GlobalKnownHostsFile {tmp_path / 'no_global_known_hosts'}\n"
        )
        yield Hops(home, ssh / "known_hosts", bastion, target)


def run_on_target(policy: str = "verify") -> str:
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


def test_an_unknown_bastion_is_refused_before_it_sees_the_users_key(hops: Hops) -> None:
    hops.known_hosts.write_text(hops.known(hops.target))
    with pytest.raises(HostKeyError, match=r"jump bastion.*unknown host key for \[127\.0\.0\.1\]"):
        run_on_target()
    assert hops.bastion.connections == 1
    assert hops.bastion.auth_attempts == []
    assert hops.target.connections == 0


def test_a_bastion_with_a_changed_key_is_refused_before_it_sees_the_users_key(
    hops: Hops,
) -> None:
    hops.known_hosts.write_text(hops.known(hops.target) + hops.known(hops.bastion, new_ed25519()))
    with pytest.raises(HostKeyError, match="has CHANGED"):
        run_on_target()
    assert hops.bastion.auth_attempts == []
    assert hops.target.connections == 0


def test_accept_new_records_the_bastion_in_the_users_known_hosts(hops: Hops) -> None:
    hops.known_hosts.write_text(hops.known(hops.target))
    assert run_on_target("accept-new") == "ok\n"
    assert hops.known_hosts.read_text() == hops.known(hops.target) + hops.known(hops.bastion)


def test_a_known_bastion_carries_the_connection_to_the_target(hops: Hops) -> None:
    hops.known_hosts.write_text(hops.known(hops.target) + hops.known(hops.bastion))
    assert run_on_target() == "ok\n"
    assert hops.bastion.auth_attempts == ["publickey"]
    assert hops.target.auth_attempts == ["publickey"]
