"""Vault test helpers: vaulted files and inline values written with fleetkit's own format."""

from __future__ import annotations

from pathlib import Path

from fleetkit.cli.vault import format_inline
from fleetkit.vault.format import encrypt


def vaulted(plain: str, password: str = "pw-main", vault_id: str | None = None) -> str:
    """Whole-file vault text of plain."""
    return encrypt(plain.encode(), password.encode(), vault_id)


def inline(name: str, plain: str, password: str = "pw-main", vault_id: str | None = None) -> str:
    """`name: !vault |` YAML lines for plain."""
    return format_inline(encrypt(plain.encode(), password.encode(), vault_id), name) + "\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
