"""`fleetkit vault encrypt|decrypt|view|edit|create|encrypt_string|rekey`, as ansible-vault.

Files are written in Ansible Vault format 1.1 (1.2 with a vault ID other than
`default`), so ansible-vault reads what this writes and the other way round.
Files change in place atomically, keeping their permissions; `--output -` writes
to stdout.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fleetkit.cli.common import load_vault_secrets, vault_password_options
from fleetkit.errors import Position, UsageError

if TYPE_CHECKING:
    from fleetkit.vault.secrets import VaultSecret, VaultSecrets

_CTX = {"help_option_names": ["-h", "--help"]}


@click.group("vault", context_settings=_CTX)
def vault() -> None:
    """Encrypt, decrypt, view and edit Ansible Vault files and strings."""


def _encrypt_id_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--encrypt-vault-id",
        metavar="LABEL",
        default=None,
        help="Which vault ID encrypts, when several are given.",
    )(func)


def _output_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--output", metavar="FILE", default=None, help="Write there ('-': stdout), not in place."
    )(func)


def _secrets(
    files: tuple[str, ...], ids: tuple[str, ...], ask: bool, *, confirm: bool = False
) -> VaultSecrets:
    secrets: VaultSecrets = load_vault_secrets(files, ids, ask, confirm=confirm)
    return secrets


@vault.command("encrypt", context_settings=_CTX)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@vault_password_options
@_encrypt_id_option
@_output_option
def encrypt(
    files: tuple[str, ...],
    vault_password_files: tuple[str, ...],
    vault_ids: tuple[str, ...],
    ask_vault_pass: bool,
    encrypt_vault_id: str | None,
    output: str | None,
) -> None:
    """Encrypt files (in place, or to --output)."""
    from fleetkit.vault.format import is_vault

    secret = _secrets(vault_password_files, vault_ids, ask_vault_pass, confirm=True).for_encrypt(
        encrypt_vault_id
    )
    _one_output(files, output)
    for name in files:
        data = _read(Path(name))
        if is_vault(data):
            raise UsageError(f"{name} is already vault-encrypted", position=Position(name))
        _write(Path(name), _seal(data, secret).encode(), output)
    click.echo("Encryption successful", err=True)


@vault.command("decrypt", context_settings=_CTX)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@vault_password_options
@_output_option
def decrypt(
    files: tuple[str, ...],
    vault_password_files: tuple[str, ...],
    vault_ids: tuple[str, ...],
    ask_vault_pass: bool,
    output: str | None,
) -> None:
    """Decrypt files (in place, or to --output)."""
    secrets = _secrets(vault_password_files, vault_ids, ask_vault_pass)
    _one_output(files, output)
    for name in files:
        plain, _ = _open(Path(name), secrets)
        _write(Path(name), plain, output)
    click.echo("Decryption successful", err=True)


@vault.command("view", context_settings=_CTX)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@vault_password_options
def view(
    files: tuple[str, ...],
    vault_password_files: tuple[str, ...],
    vault_ids: tuple[str, ...],
    ask_vault_pass: bool,
) -> None:
    """Print the plaintext of vault files."""
    secrets = _secrets(vault_password_files, vault_ids, ask_vault_pass)
    for name in files:
        plain, _ = _open(Path(name), secrets)
        sys.stdout.buffer.write(plain)
    sys.stdout.flush()


@vault.command("edit", context_settings=_CTX)
@click.argument("file", metavar="FILE")
@vault_password_options
def edit(
    file: str,
    vault_password_files: tuple[str, ...],
    vault_ids: tuple[str, ...],
    ask_vault_pass: bool,
) -> None:
    """Edit a vault file in $EDITOR (decrypted in a private temp dir, re-encrypted after)."""
    secrets = _secrets(vault_password_files, vault_ids, ask_vault_pass)
    path = Path(file)
    plain, secret = _open(path, secrets)
    changed = _edit(plain, path.suffix)
    if changed is not None:
        _write(path, _seal(changed, secret).encode(), None)


@vault.command("create", context_settings=_CTX)
@click.argument("file", metavar="FILE")
@vault_password_options
@_encrypt_id_option
def create(
    file: str,
    vault_password_files: tuple[str, ...],
    vault_ids: tuple[str, ...],
    ask_vault_pass: bool,
    encrypt_vault_id: str | None,
) -> None:
    """Write a new vault file with what you type in $EDITOR."""
    path = Path(file)
    if path.exists():
        raise UsageError(f"{file} exists", hint="use `fleetkit vault edit` to change it")
    secret = _secrets(vault_password_files, vault_ids, ask_vault_pass, confirm=True).for_encrypt(
        encrypt_vault_id
    )
    text = _edit(b"", path.suffix)
    if text is not None:
        _write(path, _seal(text, secret).encode(), None, mode=0o600)


@vault.command("encrypt_string", context_settings=_CTX)
@click.argument("strings", nargs=-1, metavar="[STRING...]")
@click.option("-n", "--name", "names", multiple=True, metavar="NAME", help="Variable name(s).")
@click.option("--stdin-name", metavar="NAME", help="Read the string from stdin, name it NAME.")
@click.option("-p", "--prompt", "ask", is_flag=True, help="Prompt for the string.")
@vault_password_options
@_encrypt_id_option
def encrypt_string(
    strings: tuple[str, ...],
    names: tuple[str, ...],
    stdin_name: str | None,
    ask: bool,
    vault_password_files: tuple[str, ...],
    vault_ids: tuple[str, ...],
    ask_vault_pass: bool,
    encrypt_vault_id: str | None,
) -> None:
    """Print `NAME: !vault |` YAML for strings (arguments, --stdin-name or --prompt)."""
    secret = _secrets(vault_password_files, vault_ids, ask_vault_pass, confirm=True).for_encrypt(
        encrypt_vault_id
    )
    pairs: list[tuple[str | None, str]] = []
    if ask:
        value = str(click.prompt("String to encrypt", hide_input=True, err=True))
        pairs.append((names[0] if names else None, value))
    elif stdin_name is not None or not strings:
        pairs.append((stdin_name or (names[0] if names else None), sys.stdin.read()))
    else:
        if len(names) > len(strings):
            raise UsageError("more --name options than strings to encrypt")
        pairs += [(names[i] if i < len(names) else None, s) for i, s in enumerate(strings)]
    if any(not value for _, value in pairs):
        raise UsageError("an empty string cannot be encrypted")
    blocks = [format_inline(_seal(value.encode(), secret), name) for name, value in pairs]
    click.echo("\n".join(blocks))
    click.echo("Encryption successful", err=True)


@vault.command("rekey", context_settings=_CTX)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@vault_password_options
@click.option("--new-vault-password-file", metavar="FILE", help="The new password's file.")
@click.option("--new-vault-id", metavar="[LABEL@]SOURCE", help="The new vault ID and password.")
def rekey(
    files: tuple[str, ...],
    vault_password_files: tuple[str, ...],
    vault_ids: tuple[str, ...],
    ask_vault_pass: bool,
    new_vault_password_file: str | None,
    new_vault_id: str | None,
) -> None:
    """Re-encrypt files with a new password (prompted for unless given)."""
    secrets = _secrets(vault_password_files, vault_ids, ask_vault_pass)
    new = _secrets(
        (new_vault_password_file,) if new_vault_password_file else (),
        (new_vault_id,) if new_vault_id else (),
        not (new_vault_password_file or new_vault_id),
        confirm=True,
    ).for_encrypt(None)
    opened = [(Path(name), _open(Path(name), secrets)[0]) for name in files]  # all, then write
    for path, plain in opened:
        _write(path, _seal(plain, new).encode(), None)
    click.echo("Rekey successful", err=True)


def format_inline(vault_text: str, name: str | None = None, indent: int = 10) -> str:
    """The `!vault |` YAML of vault text, as ansible-vault encrypt_string prints it."""
    pad = " " * indent
    head = f"{name}: !vault |" if name else "!vault |"
    return "\n".join([head, *(pad + line for line in vault_text.splitlines())])


def _seal(plain: bytes, secret: VaultSecret) -> str:
    from fleetkit.vault.format import encrypt

    return encrypt(plain, secret.password, secret.vault_id)


def _open(path: Path, secrets: VaultSecrets) -> tuple[bytes, VaultSecret]:
    from fleetkit.vault.format import is_vault
    from fleetkit.vault.yaml import open_vault

    data = _read(path)
    if not is_vault(data):
        raise UsageError(f"{path} is not vault-encrypted", position=Position(path))
    return open_vault(data, Position(path), secrets)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


def _one_output(files: tuple[str, ...], output: str | None) -> None:
    if output is not None and output != "-" and len(files) > 1:
        raise UsageError("--output takes one input file (or '-' for stdout)")


def _write(path: Path, data: bytes, output: str | None, *, mode: int | None = None) -> None:
    """data to --output (or stdout for '-'), else over path atomically with its permissions."""
    from fleetkit.atomic import write_atomic

    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(output) if output is not None else path
    try:
        keep = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o600
        write_atomic(target, data, mode=mode if mode is not None else keep)
    except OSError as err:
        raise UsageError(f"cannot write {target}: {err.strerror}") from None


def _edit(plain: bytes, suffix: str) -> bytes | None:
    """The text after $EDITOR (or vi) edited plain in a private temp dir; None if unchanged."""
    editor = shlex.split(os.environ.get("EDITOR") or "vi")
    with tempfile.TemporaryDirectory(prefix="fleetkit-vault-") as tmp:  # 0700
        file = Path(tmp) / f"edit{suffix}"
        file.touch(mode=0o600)
        file.write_bytes(plain)
        try:
            done = subprocess.run([*editor, str(file)], check=False)
        except OSError as err:
            raise UsageError(f"cannot run editor {editor[0]}: {err.strerror}") from None
        if done.returncode != 0:
            raise UsageError(f"editor {editor[0]} exited {done.returncode}: file left unchanged")
        after = file.read_bytes()
    return after if after != plain else None
