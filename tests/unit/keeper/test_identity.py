"""Which changes give a new held connection (the key), and which do not."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from fleetkit.connection.spec import ConnectionSpec
from fleetkit.keeper import identity
from fleetkit.keeper.identity import connection_key, known_hosts_paths

pytestmark = pytest.mark.unit


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "id"
    key.write_text("KEY-1\n")
    known = tmp_path / "known_hosts"
    known.write_text("198.18.0.2 ssh-ed25519 AAAA\n")
    return key, known


def _spec(key: Path, known: Path) -> ConnectionSpec:
    return ConnectionSpec(
        name="web1", address="198.18.0.2", user="fleet", ssh_key=str(key), known_hosts=str(known)
    )


ENV = {"HOME": "/root", "SSH_AUTH_SOCK": None}


def test_same_spec_and_files_same_key(files: tuple[Path, Path]) -> None:
    spec = _spec(*files)
    assert connection_key(spec, ENV) == connection_key(_spec(*files), dict(ENV))


@pytest.mark.parametrize(
    "change",
    [
        {"user": "root"},
        {"address": "198.18.0.3"},
        {"port": 2222},
        {"jump": "bastion:22"},
        {"host_key_policy": "accept-new"},
        {"name": "web2"},
        {"become_user": "postgres"},
        {"connect_timeout": 3.0},
    ],
)
def test_changed_spec_field_new_key(files: tuple[Path, Path], change: dict[str, object]) -> None:
    spec = _spec(*files)
    assert connection_key(replace(spec, **change), ENV) != connection_key(spec, ENV)  # type: ignore[arg-type]


def test_key_path_and_content_count(files: tuple[Path, Path], tmp_path: Path) -> None:
    key, known = files
    before = connection_key(_spec(key, known), ENV)
    key.write_text("KEY-2\n")  # same path, new key
    assert connection_key(_spec(key, known), ENV) != before
    other = tmp_path / "id2"
    other.write_text("KEY-2\n")
    assert connection_key(_spec(other, known), ENV) != connection_key(_spec(key, known), ENV)


def test_key_mtime_counts(files: tuple[Path, Path]) -> None:
    key, known = files
    before = connection_key(_spec(key, known), ENV)
    st = key.stat()
    os.utime(key, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert connection_key(_spec(key, known), ENV) != before


def test_known_hosts_content_counts(files: tuple[Path, Path]) -> None:
    key, known = files
    before = connection_key(_spec(key, known), ENV)
    known.write_text("198.18.0.2 ssh-ed25519 BBBB\n")
    assert connection_key(_spec(key, known), ENV) != before


def test_environment_counts(files: tuple[Path, Path]) -> None:
    spec = _spec(*files)
    agent = {**ENV, "SSH_AUTH_SOCK": "/tmp/agent.1"}
    assert connection_key(spec, agent) != connection_key(spec, ENV)


def test_ssh_config_in_home_counts(files: tuple[Path, Path], tmp_path: Path) -> None:
    spec = _spec(*files)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    env = {**ENV, "HOME": str(home)}
    before = connection_key(spec, env)
    (home / ".ssh" / "config").write_text("Host web1\n  User other\n")
    assert connection_key(spec, env) != before


def _bare_spec() -> ConnectionSpec:
    """A spec without the inventory's known_hosts: ssh_config's files (or the defaults)."""
    return ConnectionSpec(name="web1", address="198.18.0.2", user="fleet")


def test_the_second_default_user_known_hosts_file_counts(tmp_path: Path) -> None:
    """Host-key checking reads ~/.ssh/known_hosts2 too (OpenSSH's default, hostkeys.py):
    only ~/.ssh/known_hosts was fingerprinted, so a changed known_hosts2 reused the
    connection that the check would now refuse."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    env = {**ENV, "HOME": str(home)}
    before = connection_key(_bare_spec(), env)
    (home / ".ssh" / "known_hosts2").write_text("198.18.0.2 ssh-ed25519 CCCC\n")
    assert connection_key(_bare_spec(), env) != before


def test_a_global_known_hosts_file_counts_beside_the_inventory_one(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inventory's known_hosts replaces the user files only: /etc/ssh/ssh_known_hosts
    (GlobalKnownHostsFile) is still read, so it is part of the key."""
    glob = tmp_path / "ssh_known_hosts"
    monkeypatch.setattr(identity, "GLOBAL_KNOWN_HOSTS", (str(glob),))
    spec = _spec(*files)
    before = connection_key(spec, ENV)
    glob.write_text("198.18.0.2 ssh-ed25519 DDDD\n")
    assert connection_key(spec, ENV) != before


@pytest.mark.parametrize("option", ["GlobalKnownHostsFile", "UserKnownHostsFile"])
def test_known_hosts_files_named_in_ssh_config_count(
    files: tuple[Path, Path], tmp_path: Path, option: str
) -> None:
    """Any file an ssh_config line names (in any Host block: a ProxyJump hop reads it too)."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    named = tmp_path / "named_known_hosts"
    (home / ".ssh" / "config").write_text(
        f"Host bastion\n    {option}={named} ~/.ssh/other_known\nHost *\n    User fleet\n"
    )
    env = {**ENV, "HOME": str(home)}
    spec = _spec(*files)
    before = connection_key(spec, env)
    named.write_text("bastion ssh-ed25519 EEEE\n")
    middle = connection_key(spec, env)
    assert middle != before
    (home / ".ssh" / "other_known").write_text("bastion ssh-ed25519 FFFF\n")
    assert connection_key(spec, env) != middle
    assert str(named) in known_hosts_paths(spec, str(home))


def test_defaults_are_those_host_key_checking_reads() -> None:
    from fleetkit.connection import hostkeys

    assert tuple(hostkeys.DEFAULT_USER_KNOWN_HOSTS.split()) == identity.USER_KNOWN_HOSTS
    assert tuple(hostkeys.DEFAULT_GLOBAL_KNOWN_HOSTS.split()) == identity.GLOBAL_KNOWN_HOSTS


def test_a_remembered_digest_is_not_trusted_after_the_file_changes(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digests are remembered while a file's stat is unchanged; a rewrite of the same
    size with its mtime put back still changes ctime (and so the key)."""
    monkeypatch.setattr(identity, "RACY_S", 0.0)  # remember even a file just written
    key, known = files
    spec = _spec(key, known)
    before = connection_key(spec, ENV)
    assert connection_key(spec, ENV) == before  # remembered: same key
    st = key.stat()
    time.sleep(0.01)
    key.write_text("KEY-9\n")  # same size
    os.utime(key, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert connection_key(spec, ENV) != before
