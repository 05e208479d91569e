"""SSH keys of the lab, made in-process (no ssh-keygen per host): fast for 200 hosts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    """An ed25519 key pair in OpenSSH formats."""

    private_openssh: bytes  # "-----BEGIN OPENSSH PRIVATE KEY-----" PEM
    public_openssh: str  # "ssh-ed25519 AAAA..." (no comment)


def generate_ed25519() -> KeyPair:
    """A fresh ed25519 key pair."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.OpenSSH,
        encryption_algorithm=serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        encoding=serialization.Encoding.OpenSSH,
        format=serialization.PublicFormat.OpenSSH,
    )
    return KeyPair(private_openssh=private, public_openssh=public.decode("ascii"))


def write_private_key(path: Path, pair: KeyPair, *, comment: str) -> None:
    """Write pair as path (0600) and path.pub (0644), replacing older files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_name(path.name + ".pub")):
        p.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pair.private_openssh)
    pub = path.with_name(path.name + ".pub")
    pub.write_text(f"{pair.public_openssh} {comment}\n", encoding="ascii")
    pub.chmod(0o644)


def known_hosts_text(entries: Iterable[tuple[str, str]]) -> str:
    """known_hosts lines, plain (not hashed), one per (address, public key)."""
    return "".join(f"{address} {public}\n" for address, public in entries)
