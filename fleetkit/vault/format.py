"""The Ansible Vault 1.1/1.2 format (AES256): encrypt and decrypt bytes, as ansible-vault does.

    $ANSIBLE_VAULT;1.1;AES256            (1.2: $ANSIBLE_VAULT;1.2;AES256;<vault id>)
    <hex of: hex(salt) \\n hex(hmac) \\n hex(ciphertext)>, in lines of 80 characters

PBKDF2-HMAC-SHA256 (10,000 iterations, 32-byte random salt) derives 80 bytes from
the password: an AES-256 key, an HMAC-SHA256 key and the 16-byte CTR counter
block. The plaintext is PKCS7-padded and AES-256-CTR encrypted; the HMAC covers
the ciphertext and is checked (in constant time) before anything is decrypted.
`cryptography` is imported only when something is encrypted or decrypted.
"""

from __future__ import annotations

import binascii
import os
from dataclasses import dataclass

HEADER = "$ANSIBLE_VAULT"
CIPHER = "AES256"
VERSIONS = ("1.1", "1.2")
DEFAULT_ID = "default"
LINE_WIDTH = 80
ITERATIONS = 10000
SALT_BYTES = 32


class VaultFormatError(Exception):
    """Vault text that is not well-formed: a bad header, non-hex body, wrong structure."""


class VaultPasswordError(Exception):
    """The HMAC does not match: a wrong password (or ciphertext changed after encryption)."""


@dataclass(frozen=True)
class Envelope:
    """A parsed vault text: header fields and the raw (doubly hexlified) body."""

    version: str
    cipher: str
    vault_id: str | None
    body: bytes


def is_vault(data: str | bytes) -> bool:
    """Whether data starts with the vault header (as ansible-vault checks it)."""
    prefix = HEADER + ";"
    if isinstance(data, bytes):
        return data.startswith(prefix.encode())
    return data.startswith(prefix)


def parse(text: str | bytes) -> Envelope:
    """Split vault text into its header fields and body; VaultFormatError if malformed."""
    raw = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    lines = raw.strip().splitlines()
    if not lines:
        raise VaultFormatError("empty vault data")
    fields = [f.strip() for f in lines[0].strip().split(";")]
    if fields[0] != HEADER or len(fields) < 3:
        raise VaultFormatError(f"the first line is not a vault header ({HEADER};1.1;AES256)")
    version, cipher = fields[1], fields[2]
    if version not in VERSIONS:
        raise VaultFormatError(f"unsupported vault format version {version!r} (1.1 and 1.2 are)")
    if cipher != CIPHER:
        raise VaultFormatError(f"unsupported vault cipher {cipher!r} (only AES256 is)")
    vault_id = fields[3] if len(fields) > 3 and fields[3] else None
    if version == "1.2" and vault_id is None:
        raise VaultFormatError("a format 1.2 header must name its vault ID")
    body = "".join(line.strip() for line in lines[1:])
    if not body:
        raise VaultFormatError("no encrypted data after the header")
    try:
        return Envelope(version, cipher, vault_id, body.encode("ascii"))
    except UnicodeEncodeError:
        raise VaultFormatError("the encrypted data is not hexadecimal") from None


def encrypt(
    plaintext: bytes, password: bytes, vault_id: str | None = None, *, salt: bytes | None = None
) -> str:
    """Vault text (with a trailing newline) of plaintext: 1.1, or 1.2 for a vault ID."""
    if not password:
        raise ValueError("an empty vault password cannot encrypt")
    from cryptography.hazmat.primitives import hashes, hmac, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    b_salt = salt if salt is not None else os.urandom(SALT_BYTES)
    key1, key2, iv = _derive(password, b_salt)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key1), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.HMAC(key2, hashes.SHA256())
    mac.update(ciphertext)
    inner = b"\n".join(
        [binascii.hexlify(b_salt), binascii.hexlify(mac.finalize()), binascii.hexlify(ciphertext)]
    )
    body = binascii.hexlify(inner).decode("ascii")
    if vault_id and vault_id != DEFAULT_ID:
        header = f"{HEADER};1.2;{CIPHER};{vault_id}"
    else:
        header = f"{HEADER};1.1;{CIPHER}"
    lines = [body[i : i + LINE_WIDTH] for i in range(0, len(body), LINE_WIDTH)]
    return "\n".join([header, *lines]) + "\n"


def decrypt(envelope: Envelope, password: bytes) -> bytes:
    """The plaintext of envelope; VaultPasswordError for a wrong password, else format errors."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, hmac, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    salt, expected_mac, ciphertext = _split_body(envelope.body)
    key1, key2, iv = _derive(password, salt)
    mac = hmac.HMAC(key2, hashes.SHA256())
    mac.update(ciphertext)
    try:
        mac.verify(expected_mac)
    except InvalidSignature:
        raise VaultPasswordError("HMAC mismatch") from None
    decryptor = Cipher(algorithms.AES(key1), modes.CTR(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise VaultFormatError("bad padding after decryption") from None


def _split_body(body: bytes) -> tuple[bytes, bytes, bytes]:
    try:
        inner = binascii.unhexlify(body)
    except (binascii.Error, ValueError):
        raise VaultFormatError("the encrypted data is not hexadecimal") from None
    parts = inner.split(b"\n", 2)
    if len(parts) != 3:
        raise VaultFormatError("the encrypted data lacks its salt, HMAC and ciphertext parts")
    try:
        salt, mac, ciphertext = (binascii.unhexlify(p) for p in parts)
    except (binascii.Error, ValueError):
        raise VaultFormatError("the salt, HMAC or ciphertext is not hexadecimal") from None
    if not salt or len(mac) != 32:
        raise VaultFormatError("the salt or HMAC has the wrong length")
    return salt, mac, ciphertext


def _derive(password: bytes, salt: bytes) -> tuple[bytes, bytes, bytes]:
    """(AES key, HMAC key, CTR counter block) from password and salt (PBKDF2-SHA256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=80, salt=salt, iterations=ITERATIONS)
    key = kdf.derive(password)
    return key[:32], key[32:64], key[64:80]
