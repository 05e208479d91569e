"""Where vault passwords come from, as Ansible takes them.

    --vault-password-file FILE     vault ID `default`, password read from FILE
    --vault-id [LABEL@]SOURCE      SOURCE is a file, an executable script or `prompt`
    --ask-vault-pass               prompt for the `default` password
    FLEETKIT_VAULT_PASSWORD_FILE   (else ANSIBLE_VAULT_PASSWORD_FILE) when no option is given

A password file is stripped of surrounding whitespace; an executable one is run
and its stdout used (a script named `*-client` or `*-client.EXT` gets
`--vault-id LABEL`, and exit code 2 means it has no secret for that ID), as
Ansible does. An empty password is an error.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fleetkit.vault.format import DEFAULT_ID
from fleetkit.vault.values import VaultError

ENV_VARS = ("FLEETKIT_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE")
PROMPT = "prompt"
CLIENT_UNKNOWN_ID_RC = 2

Prompter = Callable[[str], str]


@dataclass(frozen=True)
class VaultSecret:
    """One vault password and the ID it is for (the password never in repr)."""

    vault_id: str
    password: bytes = field(repr=False)
    source: str = ""


@dataclass(frozen=True)
class SecretSource:
    """Where one password is to come from: a file/script path or `prompt`."""

    vault_id: str
    source: str


@dataclass(frozen=True)
class VaultSecrets:
    """The passwords of one command, in the order given."""

    secrets: tuple[VaultSecret, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.secrets)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.vault_id for s in self.secrets))

    def candidates(self, vault_id: str | None) -> list[VaultSecret]:
        """Secrets to try for data of vault_id: that ID's first, then every other (as Ansible)."""
        wanted = vault_id or DEFAULT_ID
        first = [s for s in self.secrets if s.vault_id == wanted]
        return first + [s for s in self.secrets if s.vault_id != wanted]

    def for_encrypt(self, vault_id: str | None) -> VaultSecret:
        """The secret to encrypt with: the one of vault_id, else the only one given."""
        if vault_id is not None:
            found = [s for s in self.secrets if s.vault_id == vault_id]
            if not found:
                raise VaultError(
                    f"no vault password for vault ID {vault_id!r}"
                    f" (given: {', '.join(self.ids) or 'none'})",
                    hint=f"add --vault-id {vault_id}@FILE",
                )
            return found[0]
        if not self.secrets:
            raise VaultError(
                "no vault password given",
                hint="use --vault-password-file FILE, --vault-id LABEL@FILE or --ask-vault-pass",
            )
        if len(self.ids) > 1:
            raise VaultError(
                f"several vault IDs given ({', '.join(self.ids)}): say which one encrypts",
                hint="add --encrypt-vault-id LABEL",
            )
        return self.secrets[0]


def parse_vault_id(spec: str) -> SecretSource:
    """`LABEL@SOURCE` or `SOURCE` (label `default`), as --vault-id takes it."""
    label, at, source = spec.partition("@")
    if not at:
        label, source = DEFAULT_ID, spec
    if not label or not source:
        raise VaultError(
            f"--vault-id {spec!r}: expected LABEL@SOURCE",
            hint="SOURCE is a password file, an executable script or `prompt`",
        )
    return SecretSource(label, source)


def cli_sources(
    password_files: Sequence[str],
    vault_ids: Sequence[str],
    ask_vault_pass: bool,
    env: Mapping[str, str],
) -> list[SecretSource]:
    """The password sources of a command line; the environment's when it names none."""
    sources = [SecretSource(DEFAULT_ID, f) for f in password_files]
    sources += [parse_vault_id(v) for v in vault_ids]
    if ask_vault_pass:
        sources.append(SecretSource(DEFAULT_ID, PROMPT))
    if not sources:
        for name in ENV_VARS:
            if env.get(name):
                sources.append(SecretSource(DEFAULT_ID, env[name]))
                break
    return sources


def load_secrets(
    sources: Sequence[SecretSource], cwd: Path, prompt: Prompter, *, confirm: bool = False
) -> VaultSecrets:
    """Read every source now (files, scripts, prompts); VaultError names a bad one."""
    return VaultSecrets(tuple(read_secret(s, cwd, prompt, confirm=confirm) for s in sources))


def read_secret(
    source: SecretSource, cwd: Path, prompt: Prompter, *, confirm: bool = False
) -> VaultSecret:
    """One password from its source."""
    if source.source == PROMPT:
        label = "" if source.vault_id == DEFAULT_ID else f" ({source.vault_id})"
        text = prompt(f"Vault password{label}: ")
        if confirm and prompt(f"Confirm vault password{label}: ") != text:
            raise VaultError("the vault passwords entered do not match")
        password = text.encode()
        where = "the prompt"
    else:
        path = cwd / Path(source.source).expanduser()
        password = _run_script(path, source.vault_id) if _executable(path) else _read_file(path)
        where = str(path)
    password = password.strip()
    if not password:
        raise VaultError(f"empty vault password from {where}")
    return VaultSecret(source.vault_id, password, where)


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise VaultError(
            f"cannot read vault password file {path}: {err.strerror}",
            hint="--vault-password-file and --vault-id LABEL@FILE take a readable file",
        ) from None


def _run_script(path: Path, vault_id: str) -> bytes:
    """stdout of an executable password file (a `-client` script is told the vault ID)."""
    command = [str(path)]
    client = os.path.splitext(path.name)[0].endswith("-client")
    if client:
        command += ["--vault-id", vault_id]
    try:
        done = subprocess.run(command, capture_output=True, check=False)
    except OSError as err:
        raise VaultError(
            f"cannot run vault password script {path}: {err.strerror}",
            hint="a password file with the executable bit is run; remove the bit if it is plain",
        ) from None
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if client and done.returncode == CLIENT_UNKNOWN_ID_RC:
        raise VaultError(f"vault password client {path} has no secret for vault ID {vault_id!r}")
    if done.returncode != 0:
        raise VaultError(
            f"vault password script {path} exited {done.returncode}"
            + (f": {stderr}" if stderr else "")
        )
    return done.stdout
