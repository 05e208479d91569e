"""The vault passwords of the running command, as a context variable.

Loaders deep in the stack (inventory, vars files, `-e @file`, playbooks) open
vaulted data through `current_secrets()`, so no signature on the way has to carry
passwords. `vault_session` sets them for a block, together with a redactor that
masks every value decrypted in it. Threads see them when started with the
command's context (HostPool does that).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from fleetkit.report.redact import Redactor, redacting
from fleetkit.vault.secrets import VaultSecrets

_SECRETS: ContextVar[VaultSecrets | None] = ContextVar("fleetkit_vault_secrets", default=None)
_NONE = VaultSecrets()


def current_secrets() -> VaultSecrets:
    """The passwords set by the enclosing vault_session (none outside one)."""
    return _SECRETS.get() or _NONE


@contextmanager
def vault_session(secrets: VaultSecrets) -> Iterator[Redactor]:
    """Run a block with these vault passwords and a redactor for what they open."""
    token = _SECRETS.set(secrets)
    try:
        with redacting() as redactor:
            yield redactor
    finally:
        _SECRETS.reset(token)
