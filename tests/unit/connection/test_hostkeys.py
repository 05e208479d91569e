"""known_hosts handling: parsed once per run, each client gets only its host's keys."""

from __future__ import annotations

import stat
from pathlib import Path

import paramiko
import pytest

from fleetkit.connection.hostkeys import (
    AcceptNewPolicy,
    KnownHostsStore,
    VerifyPolicy,
    known_hosts_name,
)
from fleetkit.errors import HostKeyError

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def keys() -> list[paramiko.Ed25519Key]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out = []
    for _ in range(2):
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        import io

        out.append(paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode())))
    return out


def line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def test_names_off_port_22_are_bracketed() -> None:
    assert known_hosts_name("10.0.0.1", 22) == "10.0.0.1"
    assert known_hosts_name("10.0.0.1", 2222) == "[10.0.0.1]:2222"


def test_a_client_gets_only_its_own_hosts_keys(
    tmp_path: Path, keys: list[paramiko.Ed25519Key]
) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(line("10.0.0.1", keys[0]) + line("[10.0.0.2]:2222", keys[1]))
    store = KnownHostsStore(path)
    client = paramiko.SSHClient()
    store.install(client, "[10.0.0.2]:2222")
    known = client.get_host_keys()
    assert list(known.keys()) == ["[10.0.0.2]:2222"]
    assert known["[10.0.0.2]:2222"]["ssh-ed25519"] == keys[1]


def test_the_file_is_parsed_once_per_store(tmp_path: Path, keys: list[paramiko.Ed25519Key]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(line("10.0.0.1", keys[0]))
    store = KnownHostsStore(path)
    store.install(paramiko.SSHClient(), "10.0.0.1")
    path.write_text("")  # a second parse would now find nothing
    client = paramiko.SSHClient()
    store.install(client, "10.0.0.1")
    assert "10.0.0.1" in client.get_host_keys()


def test_verify_refuses_an_unknown_key_and_says_how_to_accept_it(
    keys: list[paramiko.Ed25519Key],
) -> None:
    policy = VerifyPolicy("web1", Path("/etc/fk/known_hosts"))
    with pytest.raises(HostKeyError) as err:
        policy.missing_host_key(paramiko.SSHClient(), "10.0.0.9", keys[0])
    text = str(err.value)
    assert "unknown host key for 10.0.0.9" in text
    assert "ssh-keyscan 10.0.0.9 >> /etc/fk/known_hosts" in text
    assert "accept-new" in text


def test_accept_new_appends_the_key_to_a_private_file(
    tmp_path: Path, keys: list[paramiko.Ed25519Key]
) -> None:
    path = tmp_path / "ssh" / "known_hosts"
    client = paramiko.SSHClient()
    AcceptNewPolicy(KnownHostsStore(path)).missing_host_key(client, "10.0.0.3", keys[0])
    assert path.read_text() == line("10.0.0.3", keys[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "10.0.0.3" in client.get_host_keys()


def test_the_keyscan_hint_carries_the_port(keys: list[paramiko.Ed25519Key]) -> None:
    policy = VerifyPolicy("web1", Path("/k"))
    with pytest.raises(HostKeyError, match=r"ssh-keyscan -p 2222 10\.0\.0\.9 >> /k"):
        policy.missing_host_key(paramiko.SSHClient(), "[10.0.0.9]:2222", keys[0])


def test_a_key_accept_new_recorded_is_known_to_the_same_store_afterwards(
    tmp_path: Path, keys: list[paramiko.Ed25519Key]
) -> None:
    """A store that outlives a run (the keeper's) must not record the same host twice."""
    path = tmp_path / "known_hosts"
    store = KnownHostsStore(path)
    store.install(paramiko.SSHClient(), "10.0.0.3")  # parsed: knows nothing
    AcceptNewPolicy(store).missing_host_key(paramiko.SSHClient(), "10.0.0.3", keys[0])
    again = paramiko.SSHClient()
    store.install(again, "10.0.0.3")
    assert again.get_host_keys()["10.0.0.3"]["ssh-ed25519"] == keys[0]
    assert path.read_text() == line("10.0.0.3", keys[0])
