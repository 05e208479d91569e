"""Which changes give a new held connection (the key), and which do not."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from fleetkit.connection.spec import ConnectionSpec
from fleetkit.keeper.identity import connection_key

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
