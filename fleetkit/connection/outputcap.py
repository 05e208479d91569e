"""The output cap: how many bytes of each stream of a command a connection keeps.

`Capture` keeps at most `cap` bytes of one stream and counts the rest, so a host
that floods stdout costs the controller at most the cap while it is drained.
No paramiko here: the connection factory reads the cap for every run, also one
whose hosts are all held by the keeper (which never loads paramiko).
"""

from __future__ import annotations

from collections.abc import Mapping

from fleetkit.errors import UsageError

DEFAULT_MAX_OUTPUT = 32 << 20  # bytes kept per stream per command; the rest is drained
MAX_OUTPUT_ENV = "FLEETKIT_MAX_OUTPUT"
SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


class Capture:
    """One stream's bytes up to cap; beyond it bytes are counted and dropped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.total = 0
        self._kept = 0
        self._chunks: list[bytes] = []

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - self._kept
        if room <= 0:
            return
        part = data if len(data) <= room else data[:room]
        self._chunks.append(part)
        self._kept += len(part)

    @property
    def truncated(self) -> bool:
        return self.total > self._kept

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", errors="replace")


def size_text(n: int) -> str:
    """A byte count as people read it (binary units): 4 MiB, 1.5 KiB, 12 bytes."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:g} {unit}" if unit != "bytes" else f"{n} bytes"
        value /= 1024
    return f"{n} bytes"


def parse_size(raw: str, what: str = MAX_OUTPUT_ENV) -> int:
    """Bytes above 0, as a number or with a K/M/G suffix (KiB, MiB, GiB: 4M, 512KiB)."""
    text = raw.strip().lower().removesuffix("ib").removesuffix("b")
    unit = text[-1:] if text[-1:] in SIZE_UNITS else ""
    digits = text[: len(text) - len(unit)].strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 15 or int(digits) == 0:
        raise UsageError(f"{what}={raw!r}: expected a number of bytes above 0 (or with K, M, G)")
    return int(digits) * SIZE_UNITS[unit]


def max_output_from_env(env: Mapping[str, str]) -> int:
    """The output cap per stream: FLEETKIT_MAX_OUTPUT when set, else DEFAULT_MAX_OUTPUT."""
    raw = env.get(MAX_OUTPUT_ENV)
    return DEFAULT_MAX_OUTPUT if raw is None or not raw.strip() else parse_size(raw)
