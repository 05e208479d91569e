"""One redaction point: secret values (vaulted data, tokens) masked in every output.

A Redactor holds the plaintexts a run must never show. The CLI makes one per
command (a context variable, so worker threads started with the command's context
share it); whatever decrypts or receives a secret registers it, and the reporters,
`inventory` output and error messages pass their text through `redact`.
Values shorter than MIN_LENGTH are not masked: masking every `on` or `22` would
make output unreadable, and such values are no secret worth the name.
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
        return pattern.sub(MASK, text) if pattern is not None and text else text

    def redact_data(self, obj: Any) -> Any:
        """A copy of obj (JSON-like data) with every string redacted, keys included."""
        if self._pattern is None:
            return obj
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
    return redactor.redact(text) if redactor else text


def redact_data(obj: Any) -> Any:
    """JSON-like data with every registered secret masked in its strings."""
    redactor = _ACTIVE.get()
    return redactor.redact_data(obj) if redactor else obj


def redact_result(result: StepResult) -> StepResult:
    """result with its shown texts (task, msg, stdout, stderr, diff) redacted."""
    redactor = _ACTIVE.get()
    if not redactor:
        return result
    shown = (result.task, result.msg, result.stdout, result.stderr, result.diff)
    task, msg, stdout, stderr, diff = (redactor.redact(text) for text in shown)
    if (task, msg, stdout, stderr, diff) == shown:
        return result
    return replace(result, task=task, msg=msg, stdout=stdout, stderr=stderr, diff=diff)
