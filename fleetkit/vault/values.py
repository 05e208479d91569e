"""What comes out of a vault: VaultStr values, and VaultError for what cannot be opened."""

from __future__ import annotations

from fleetkit.errors import FleetkitError

MASK = "********"


class VaultError(FleetkitError):
    """Vault data that cannot be opened: no password, a wrong one, damaged data (exit 2)."""


class VaultStr(str):
    """A string that came out of a vault: an ordinary str everywhere (templates, modules,
    command lines), whose repr() is masked, and whose text the run's redactor masks in
    every output. Operations on it (concatenation, templates) give plain str."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"VaultStr({MASK!r})"
