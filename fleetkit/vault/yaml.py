"""Vaulted YAML: `!vault` values and whole-file vaults, opened with the command's passwords.

yamlpos calls these: `open_value` for a `!vault |` scalar, `open_file` for a file
whose text starts with the vault header (any file read through yamlpos.read_text:
inventories, group_vars/host_vars, vars_files, include_vars, `-e @file`), and
`mark_secret` on what a vaulted file's YAML parsed to. Every opened string is a
VaultStr registered with the redactor. A wrong password, damaged data or a
missing vault ID is a VaultError naming the file (and line of an inline value).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleetkit.errors import Position
from fleetkit.report.redact import register_secret
from fleetkit.vault import format as vault_format
from fleetkit.vault.context import current_secrets
from fleetkit.vault.secrets import VaultSecret, VaultSecrets
from fleetkit.vault.values import VaultError, VaultStr

_HINT = (
    "give the password with --vault-password-file FILE, --vault-id LABEL@FILE or --ask-vault-pass"
)


def decrypt_text(text: str | bytes, position: Position) -> bytes:
    """Plaintext bytes of vault text, tried with the command's passwords."""
    return open_vault(text, position, current_secrets())[0]


def open_vault(
    text: str | bytes, position: Position, secrets: VaultSecrets
) -> tuple[bytes, VaultSecret]:
    """Plaintext bytes of vault text and the secret that opened it."""
    what = "inline vault value" if position.line is not None else "vault-encrypted file"
    try:
        envelope = vault_format.parse(text)
    except vault_format.VaultFormatError as err:
        raise VaultError(f"damaged {what}: {err}", position=position) from None
    labelled = f" (vault ID {envelope.vault_id!r})" if envelope.vault_id else ""
    if not secrets:
        raise VaultError(
            f"{what}{labelled} but no vault password given", position=position, hint=_HINT
        )
    for secret in secrets.candidates(envelope.vault_id):
        try:
            return vault_format.decrypt(envelope, secret.password), secret
        except vault_format.VaultPasswordError:
            continue
        except vault_format.VaultFormatError as err:
            raise VaultError(f"damaged {what}: {err}", position=position) from None
    if envelope.vault_id and envelope.vault_id not in secrets.ids:
        raise VaultError(
            f"{what} is for vault ID {envelope.vault_id!r}, which no password was given for,"
            f" and no other vault password ({', '.join(secrets.ids)}) opens it",
            position=position,
            hint=f"add --vault-id {envelope.vault_id}@FILE",
        )
    raise VaultError(
        f"wrong vault password for {what}{labelled}, or its data was changed"
        f" (tried: {', '.join(s.vault_id for s in secrets.candidates(envelope.vault_id))})",
        position=position,
    )


def _text(plain: bytes, position: Position) -> str:
    try:
        return plain.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise VaultError(
            f"decrypted data is not UTF-8 text ({err.reason})", position=position
        ) from None


def open_value(ciphertext: str, position: Position) -> VaultStr:
    """The secret string of a `!vault` scalar."""
    value = VaultStr(_text(decrypt_text(ciphertext, position), position))
    register_secret(value)
    return value


def open_file(text: str, path: Path | str) -> VaultStr:
    """The plaintext of a whole-file vault (a VaultStr, so parse_yaml marks its values)."""
    where = Position(path)
    return VaultStr(_text(decrypt_text(text, where), where))


def mark_secret(data: Any) -> Any:
    """data with every string value (not key) a registered VaultStr, in place for maps/lists."""
    if isinstance(data, str):
        value = data if isinstance(data, VaultStr) else VaultStr(data)
        register_secret(value)
        return value
    if isinstance(data, dict):
        for key, value in data.items():
            data[key] = mark_secret(value)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            data[index] = mark_secret(value)
    return data
