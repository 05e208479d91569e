"""authorized_key: keys matched by blob; add, update options, exclusive, absent; 0600 file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.authorized_key import parse_key
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa alice@x"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb bob@y"


def keyfile(tmp_path: Path) -> Path:
    return tmp_path / "ssh" / "authorized_keys"


def test_key_added_once_with_a_private_file(run_local: RunModule, tmp_path: Path) -> None:
    path = keyfile(tmp_path)
    args = {"user": "root", "key": KEY_A, "path": str(path)}
    first = run_local("ansible.posix.authorized_key", args)
    assert first.changed and first.data["keyfile"] == str(path)
    assert path.read_text() == KEY_A + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not run_local("authorized_key", args).changed


def test_options_update_the_same_key_in_place(run_local: RunModule, tmp_path: Path) -> None:
    path = keyfile(tmp_path)
    path.parent.mkdir(mode=0o700)
    path.write_text(f"# keys\n{KEY_A}\n{KEY_B}\n")
    res = run_local(
        "authorized_key",
        {"user": "root", "key": KEY_A, "path": str(path), "key_options": 'from="10.0.0.1"'},
        diff=True,
    )
    assert res.changed and f'+from="10.0.0.1" {KEY_A}' in res.diff
    assert path.read_text() == f'# keys\nfrom="10.0.0.1" {KEY_A}\n{KEY_B}\n'


def test_exclusive_keeps_only_the_given_keys(run_local: RunModule, tmp_path: Path) -> None:
    path = keyfile(tmp_path)
    path.parent.mkdir(mode=0o700)
    path.write_text(f"{KEY_A}\n{KEY_B}\n")
    run_local(
        "authorized_key", {"user": "root", "key": KEY_B, "path": str(path), "exclusive": True}
    )
    assert path.read_text() == KEY_B + "\n"


def test_absent_removes_and_check_mode_predicts(run_local: RunModule, tmp_path: Path) -> None:
    path = keyfile(tmp_path)
    path.parent.mkdir(mode=0o700)
    path.write_text(f"{KEY_A}\n{KEY_B}\n")
    args = {"user": "root", "key": KEY_A, "path": str(path), "state": "absent"}
    assert run_local("authorized_key", args, check=True).changed
    assert path.read_text() == f"{KEY_A}\n{KEY_B}\n"
    assert run_local("authorized_key", args).changed
    assert path.read_text() == KEY_B + "\n"
    assert not run_local("authorized_key", args).changed


def test_unknown_user_fails(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("authorized_key", {"user": "no-such-user-fk", "key": KEY_A})
    assert res.failed and "does not exist" in res.msg


def test_parse_key_keeps_quoted_options() -> None:
    line = f'command="echo a b",no-pty {KEY_A}'
    assert parse_key(line) == (
        'command="echo a b",no-pty',
        "ssh-ed25519",
        KEY_A.split()[1],
        "alice@x",
    )


def test_not_a_key_and_urls_are_argument_errors() -> None:
    mod = lookup("authorized_key")
    assert mod is not None
    assert "not an SSH public key" in prepare(mod, {"user": "u", "key": "hello"})[1][0]
    url = prepare(mod, {"user": "u", "key": "https://github.com/u.keys"})[1][0]
    assert "not supported" in url
