"""Vault passwords: files, executable scripts, client scripts, --vault-id, the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.vault.secrets import (
    SecretSource,
    VaultSecret,
    VaultSecrets,
    cli_sources,
    load_secrets,
    parse_vault_id,
    read_secret,
)
from fleetkit.vault.values import VaultError

pytestmark = pytest.mark.unit


def no_prompt(text: str) -> str:
    raise AssertionError(f"unexpected prompt {text!r}")


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o700)
    return path


def test_a_password_file_is_stripped_of_surrounding_whitespace(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("  s3cret \n\n")
    secret = read_secret(SecretSource("default", "pw"), tmp_path, no_prompt)
    assert secret == VaultSecret("default", b"s3cret", str(tmp_path / "pw"))
    assert "s3cret" not in repr(secret)


def test_an_executable_password_file_is_run_and_its_stdout_used(tmp_path: Path) -> None:
    script(tmp_path / "pw.sh", "echo from-script\n")
    assert read_secret(SecretSource("x", "pw.sh"), tmp_path, no_prompt).password == b"from-script"


def test_a_client_script_is_told_the_vault_id(tmp_path: Path) -> None:
    script(tmp_path / "keyring-client.sh", 'echo "id:$2"\n')
    secret = read_secret(SecretSource("prod", "keyring-client.sh"), tmp_path, no_prompt)
    assert secret.password == b"id:prod"


def test_a_client_script_exiting_2_has_no_secret_for_that_id(tmp_path: Path) -> None:
    script(tmp_path / "keyring-client", "exit 2\n")
    with pytest.raises(VaultError, match="no secret for vault ID 'prod'"):
        read_secret(SecretSource("prod", "keyring-client"), tmp_path, no_prompt)


def test_a_failing_script_is_an_error_with_its_stderr(tmp_path: Path) -> None:
    script(tmp_path / "pw.sh", "echo locked >&2; exit 5\n")
    with pytest.raises(VaultError, match=r"pw.sh exited 5: locked"):
        read_secret(SecretSource("default", "pw.sh"), tmp_path, no_prompt)


def test_empty_and_missing_password_files_are_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(VaultError, match=r"empty vault password from .*empty"):
        read_secret(SecretSource("default", "empty"), tmp_path, no_prompt)
    with pytest.raises(VaultError, match=r"cannot read vault password file .*nope"):
        read_secret(SecretSource("default", "nope"), tmp_path, no_prompt)


def test_prompt_asks_and_confirms(tmp_path: Path) -> None:
    answers = iter(["typed", "typed"])
    secret = read_secret(
        SecretSource("prod", "prompt"), tmp_path, lambda _: next(answers), confirm=True
    )
    assert secret.password == b"typed"
    answers = iter(["one", "two"])
    with pytest.raises(VaultError, match="do not match"):
        read_secret(
            SecretSource("default", "prompt"), tmp_path, lambda _: next(answers), confirm=True
        )


def test_vault_id_specs() -> None:
    assert parse_vault_id("prod@/etc/pw") == SecretSource("prod", "/etc/pw")
    assert parse_vault_id("/etc/pw") == SecretSource("default", "/etc/pw")
    assert parse_vault_id("dev@prompt") == SecretSource("dev", "prompt")
    with pytest.raises(VaultError, match="LABEL@SOURCE"):
        parse_vault_id("@pw")


def test_command_line_sources_replace_the_environment() -> None:
    env = {"FLEETKIT_VAULT_PASSWORD_FILE": "fk", "ANSIBLE_VAULT_PASSWORD_FILE": "an"}
    assert cli_sources((), (), False, env) == [SecretSource("default", "fk")]
    assert cli_sources((), (), False, {"ANSIBLE_VAULT_PASSWORD_FILE": "an"}) == [
        SecretSource("default", "an")
    ]
    assert cli_sources(("f",), ("p@g",), True, env) == [
        SecretSource("default", "f"),
        SecretSource("p", "g"),
        SecretSource("default", "prompt"),
    ]
    assert cli_sources((), (), False, {}) == []


def test_matching_vault_id_is_tried_first_then_the_others(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("A")
    (tmp_path / "b").write_text("B")
    secrets = load_secrets(
        [SecretSource("dev", "a"), SecretSource("prod", "b")], tmp_path, no_prompt
    )
    assert [s.vault_id for s in secrets.candidates("prod")] == ["prod", "dev"]
    assert [s.vault_id for s in secrets.candidates(None)] == ["dev", "prod"]


def test_the_secret_to_encrypt_with() -> None:
    one = VaultSecrets((VaultSecret("prod", b"x"),))
    assert one.for_encrypt(None).vault_id == "prod"
    two = VaultSecrets((VaultSecret("prod", b"x"), VaultSecret("dev", b"y")))
    assert two.for_encrypt("dev").password == b"y"
    with pytest.raises(VaultError, match="--encrypt-vault-id"):
        two.for_encrypt(None)
    with pytest.raises(VaultError, match="no vault password for vault ID 'qa'"):
        two.for_encrypt("qa")
    with pytest.raises(VaultError, match="no vault password given"):
        VaultSecrets().for_encrypt(None)
