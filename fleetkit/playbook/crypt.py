"""SHA-crypt ($5$, $6$) and MD5-crypt ($1$) in pure Python, for the password_hash filter.

Python's crypt module is deprecated (removed in 3.13) and passlib is not a
dependency; these follow the published algorithms (Drepper's SHA-crypt,
Kamp's MD5-crypt), so a given salt gives the hash /etc/shadow and Ansible give.
"""

from __future__ import annotations

import hashlib
import secrets

from fleetkit.errors import TemplateError

ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
Order = list[tuple[int | None, int | None, int]]
SHA_ORDER: dict[str, Order] = {
    "sha256": [(0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14), (15, 25, 5),
               (6, 16, 26), (27, 7, 17), (18, 28, 8), (9, 19, 29), (None, 31, 30)],
    "sha512": [(0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26),
               (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32),
               (12, 33, 54), (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16),
               (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41), (None, None, 63)],
}  # fmt: skip
MD5_ORDER: Order = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5), (None, None, 11)]
DEFAULT_ROUNDS = 5000


def _b64(digest: bytes, order: Order) -> str:
    out = []
    for a, b, c in order:
        value = (
            (digest[a] << 16 if a is not None else 0)
            | (digest[b] << 8 if b is not None else 0)
            | digest[c]
        )
        chars = 4 if a is not None else (3 if b is not None else 2)
        for _ in range(chars):
            out.append(ALPHABET[value & 0x3F])
            value >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // len(digest) + 1))[:length]


def sha_crypt(password: bytes, salt: bytes, rounds: int, algorithm: str) -> str:
    new = hashlib.sha512 if algorithm == "sha512" else hashlib.sha256
    b = new(password + salt + password).digest()
    a = new(password + salt + _repeat(b, len(password)))
    n = len(password)
    while n:
        a.update(b if n & 1 else password)
        n >>= 1
    a_digest = a.digest()
    p = _repeat(new(password * len(password)).digest(), len(password))
    s = _repeat(new(salt * (16 + a_digest[0])).digest(), len(salt))
    c = a_digest
    for i in range(rounds):
        h = new(p if i & 1 else c)
        if i % 3:
            h.update(s)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()
    ident = "6" if algorithm == "sha512" else "5"
    shown = "" if rounds == DEFAULT_ROUNDS else f"rounds={rounds}$"
    return f"${ident}${shown}{salt.decode()}${_b64(c, SHA_ORDER[algorithm])}"


def md5_crypt(password: bytes, salt: bytes) -> str:
    magic = b"$1$"
    final = hashlib.md5(password + salt + password).digest()
    ctx = hashlib.md5(password + magic + salt + _repeat(final, len(password)))
    n = len(password)
    while n:
        ctx.update(b"\0" if n & 1 else password[:1])
        n >>= 1
    digest = ctx.digest()
    for i in range(1000):
        h = hashlib.md5(password if i & 1 else digest)
        if i % 3:
            h.update(salt)
        if i % 7:
            h.update(password)
        h.update(digest if i & 1 else password)
        digest = h.digest()
    return f"$1${salt.decode()}${_b64(digest, MD5_ORDER)}"


def crypt_hash(
    password: str,
    hashtype: str,
    salt: str | None = None,
    salt_size: int | None = None,
    rounds: int | None = None,
) -> str:
    """The crypt(3) string for password; a random salt of salt_size when none is given."""
    kind = {"sha512_crypt": "sha512", "sha256_crypt": "sha256", "md5_crypt": "md5"}.get(
        hashtype, hashtype
    )
    if kind not in ("sha512", "sha256", "md5"):
        raise TemplateError(
            f"password_hash: {hashtype} is not supported (supported: sha512, sha256, md5)"
        )
    if salt is None:
        size = salt_size or (8 if kind == "md5" else 16)
        salt = "".join(secrets.choice(ALPHABET) for _ in range(size))
    if any(ch not in ALPHABET for ch in salt):
        raise TemplateError("password_hash: the salt may hold only [./0-9A-Za-z]")
    raw, salt_raw = password.encode(), salt.encode()
    if kind == "md5":
        return md5_crypt(raw, salt_raw[:8])
    count = DEFAULT_ROUNDS if rounds is None else max(1000, min(int(rounds), 999_999_999))
    return sha_crypt(raw, salt_raw[:16], count, kind)
