"""One redaction point: secret values (vaulted data, tokens) masked in every output.

A Redactor holds the plaintexts a run must never show. The CLI makes one per
command (a context variable, so worker threads started with the command's context
share it); whatever decrypts or receives a secret registers it, and the reporters,
`inventory` output and error messages pass their text through `redact`.
Values shorter than MIN_LENGTH are not masked: masking every `on` or `22` would
make output unreadable, and such values are no secret worth the name.
Credentials in URLs (`https://user:pass@host`) are masked everywhere, registered
or not: `mask_userinfo`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from fleetkit.results import StepResult

MASK = "********"
MIN_LENGTH = 4
USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@]*@)+")
"""scheme://userinfo@ (the last '@' before the host: a password may hold one unencoded)."""


def _userinfo(match: re.Match[str]) -> str:
    info = match.group(0)[len(match.group(1)) : -1]
    user, colon, _ = info.partition(":")
    if colon:
        return f"{match.group(1)}{user}:{MASK}@"
    if match.group(1).lower().rstrip(":/") in ("http", "https", "ftp", "ftps"):
        return f"{match.group(1)}{MASK}@"  # a bare token as the user name
    return match.group(0)  # ssh://git@host: a login name, not a credential


def mask_userinfo(text: str) -> str:
    """text with the password of every URL's userinfo masked (user:********@)."""
    return USERINFO.sub(_userinfo, text) if "://" in text else text


class Redactor:
    """The secret plaintexts of one command, and their masking in text and data."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        """Mask value from now on (and each of its lines, for multi-line secrets)."""
        found = {value, *(line.strip() for line in value.splitlines())}
        found |= {json.dumps(v, ensure_ascii=a)[1:-1] for v in set(found) for a in (True, False)}
        found = {str(v) for v in found if len(v) >= MIN_LENGTH}  # JSON-escaped forms too
        with self._lock:
            if found <= self._values:
                return
            self._values |= found
            ordered = sorted(self._values, key=len, reverse=True)  # longest match first
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact(self, text: str) -> str:
        pattern = self._pattern
        text = pattern.sub(MASK, text) if pattern is not None and text else text
        return mask_userinfo(text)

    def redact_data(self, obj: Any) -> Any:
        """A copy of obj (JSON-like data) with every string redacted, keys included."""
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, dict):
            return {self.redact_data(k): self.redact_data(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.redact_data(v) for v in obj]
        return obj


_ACTIVE: ContextVar[Redactor | None] = ContextVar("fleetkit_redactor", default=None)


def active_redactor() -> Redactor | None:
    """The current command's redactor, if one is set."""
    return _ACTIVE.get()


@contextmanager
def redacting() -> Iterator[Redactor]:
    """Run a block with a redactor: the enclosing one if set, else a new one."""
    current = _ACTIVE.get()
    if current is not None:
        yield current
        return
    redactor = Redactor()
    token = _ACTIVE.set(redactor)
    try:
        yield redactor
    finally:
        _ACTIVE.reset(token)


def register_secret(value: str) -> None:
    """Mask value in all further output of this command (no-op outside a command)."""
    redactor = _ACTIVE.get()
    if redactor is not None:
        redactor.add(value)


def redact(text: str) -> str:
    """text with every registered secret replaced by the mask."""
    redactor = _ACTIVE.get()
    return redactor.redact(text) if redactor else mask_userinfo(text)


def redact_data(obj: Any) -> Any:
    """JSON-like data with every registered secret masked in its strings."""
    return (_ACTIVE.get() or Redactor()).redact_data(obj)


def redact_result(result: StepResult) -> StepResult:
    """result with its shown texts (task, msg, stdout, stderr, diff) redacted."""
    redactor = _ACTIVE.get() or Redactor()
    shown = (result.task, result.msg, result.stdout, result.stderr, result.diff)
    task, msg, stdout, stderr, diff = (redactor.redact(text) for text in shown)
    if (task, msg, stdout, stderr, diff) == shown:
        return result
    return replace(result, task=task, msg=msg, stdout=stdout, stderr=stderr, diff=diff)
