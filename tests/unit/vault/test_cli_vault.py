"""`fleetkit vault ...`: encrypt, decrypt, view, edit, encrypt_string, rekey; --ask-vault-pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tests.unit.vault.conftest import vaulted, write

from fleetkit.cli import cli, main
from fleetkit.vault import format as vf

pytestmark = pytest.mark.unit


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pw", "pw-main\n")
    write(tmp_path / "pw2", "pw-new\n")
    return tmp_path


def fk(*args: str) -> int:
    return int(main(list(args)))


def opened(path: Path, password: str) -> bytes:
    return vf.decrypt(vf.parse(path.read_text()), password.encode())


def test_encrypt_then_view_then_decrypt_in_place(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = write(cwd / "s.yml", "k: value-1\n")
    secret.chmod(0o640)
    assert fk("vault", "encrypt", "s.yml", "--vault-password-file", "pw") == 0
    assert secret.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert secret.stat().st_mode & 0o777 == 0o640
    assert opened(secret, "pw-main") == b"k: value-1\n"
    assert fk("vault", "encrypt", "s.yml", "--vault-password-file", "pw") == 2  # already
    capsys.readouterr()
    assert fk("vault", "view", "s.yml", "--vault-password-file", "pw") == 0
    assert capsys.readouterr().out == "k: value-1\n"
    assert fk("vault", "decrypt", "s.yml", "--vault-password-file", "pw") == 0
    assert secret.read_text() == "k: value-1\n"


def test_a_vault_id_writes_format_1_2_and_output_goes_elsewhere(cwd: Path) -> None:
    write(cwd / "s.yml", "k: v\n")
    assert fk("vault", "encrypt", "s.yml", "--vault-id", "prod@pw", "--output", "o.yml") == 0
    assert (cwd / "s.yml").read_text() == "k: v\n"
    assert (cwd / "o.yml").read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")


def test_view_with_a_wrong_password_is_exit_2_naming_the_file(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(cwd / "s.yml", vaulted("k: v\n", "other"))
    assert fk("vault", "view", "s.yml", "--vault-password-file", "pw") == 2
    assert capsys.readouterr().err.startswith("fleetkit: error: s.yml: wrong vault password")


def test_encrypt_string_prints_yaml_that_loads_back(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fk("vault", "encrypt_string", "--vault-id", "prod@pw", "-n", "db", "hunter22") == 0
    out = capsys.readouterr().out
    assert out.startswith("db: !vault |\n          $ANSIBLE_VAULT;1.2;AES256;prod\n")
    write(cwd / "vars.yml", out)
    write(cwd / "inv.yml", "all:\n  hosts:\n    h1: {ansible_connection: local}\n")
    assert fk("inventory", "-i", "inv.yml", "-e", "@vars.yml", "--vault-id", "prod@pw") == 0
    assert '"db": "********"' in capsys.readouterr().out
    text = yaml.safe_load(out.replace("!vault ", ""))["db"]
    assert vf.decrypt(vf.parse(text), b"pw-main") == b"hunter22"


def test_rekey_re_encrypts_with_the_new_password(cwd: Path) -> None:
    secret = write(cwd / "s.yml", vaulted("k: v\n"))
    assert (
        fk("vault", "rekey", "s.yml", "--vault-password-file", "pw", "--new-vault-id", "prod@pw2")
        == 0
    )
    assert secret.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert opened(secret, "pw-new") == b"k: v\n"


def test_edit_runs_the_editor_on_a_private_copy_and_re_encrypts(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = write(cwd / "s.yml", vaulted("k: old\n", vault_id="prod"))
    editor = write(
        cwd / "ed.sh", '#!/bin/sh\nls -ld "$(dirname "$1")" > dirmode\nsed -i s/old/new/ "$1"\n'
    )
    editor.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(editor))
    assert fk("vault", "edit", "s.yml", "--vault-id", "prod@pw") == 0
    assert secret.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert opened(secret, "pw-main") == b"k: new\n"
    assert (cwd / "dirmode").read_text().startswith("drwx------")


def test_ask_vault_pass_prompts_and_encrypt_confirms(cwd: Path) -> None:
    write(cwd / "s.yml", "k: v\n")
    runner = CliRunner()
    done = runner.invoke(cli, ["vault", "encrypt", "s.yml", "-J"], input="typed\ntyped\n")
    assert done.exit_code == 0, done.output
    assert opened(cwd / "s.yml", "typed") == b"k: v\n"
    done = runner.invoke(cli, ["vault", "view", "s.yml", "--ask-vault-pass"], input="typed\n")
    assert done.exit_code == 0 and "k: v" in done.output
