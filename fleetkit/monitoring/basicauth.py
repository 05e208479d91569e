"""HTTP basic auth against bcrypt hashes, as exporter-toolkit does it.

bcrypt is slow on purpose (~70 ms at cost 10), so: every check, good or bad,
is remembered in a bounded LRU keyed by a SHA-256 of (user, hash, password);
checks that do need bcrypt run one at a time (a flood of guesses costs at most
one core); an unknown user is checked against a dummy hash of the highest
configured cost, so a wrong name and a wrong password take the same time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping

import bcrypt

CACHE_SIZE = 1024


def parse_basic(header: str | None) -> tuple[str, bytes] | None:
    """(user, password) from an `Authorization: Basic ...` header (scheme in any case)."""
    if not header or len(header) < 6 or header[:6].lower() != "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = raw.partition(b":")
    if not sep:
        return None
    return user.decode("utf-8", "surrogateescape"), password


def _cost(hashed: str) -> int:
    return int(hashed.split("$")[2])


class BasicAuth:
    """allows(header) -> whether the header names a user with that bcrypt password."""

    def __init__(self, users: Mapping[str, str], *, cache_size: int = CACHE_SIZE) -> None:
        self._users = dict(users)
        cost = max((_cost(h) for h in self._users.values()), default=4)
        self._dummy = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._bcrypt_lock = threading.Lock()
        self.bcrypt_runs = 0  # how many checks needed bcrypt (for tests and debugging)

    def allows(self, header: str | None) -> bool:
        parsed = parse_basic(header)
        if parsed is None:
            return False
        user, password = parsed
        known = self._users.get(user)
        hashed = known.encode() if known is not None else self._dummy
        key = hashlib.sha256(
            b"\0".join((user.encode("utf-8", "surrogateescape"), hashed, password))
        ).digest()
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is None:
            cached = self._check(password, hashed)
            with self._cache_lock:
                self._cache[key] = cached
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return cached and known is not None

    def _check(self, password: bytes, hashed: bytes) -> bool:
        with self._bcrypt_lock:
            self.bcrypt_runs += 1
            try:
                return bcrypt.checkpw(password, hashed)
            except ValueError:  # e.g. a password over bcrypt's 72 bytes
                return False
