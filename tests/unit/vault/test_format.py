"""The vault format: vectors from ansible-vault, round trips, wrong passwords, damaged data."""

from __future__ import annotations

import binascii
from dataclasses import replace

import pytest

from fleetkit.vault import format as vf

pytestmark = pytest.mark.unit

# written by `ansible-vault encrypt --vault-id prod@FILE` (ansible-core 2.19), password vector-pw
ANSIBLE_12 = """$ANSIBLE_VAULT;1.2;AES256;prod
34323064373062643263633661623961656231316262343835636630316237666263666430323533
6233363735653866343165393666313938633965653133650a643034633137666262383938356564
38303964393162313434636262343863613037663637653531636231363764346666623839383365
3438643836656364390a663734633738626534373339626132353866636563643838663631623436
38616361303830646330326632346338313238656463306461356463623536383631
"""
# ansible's VaultAES256.encrypt(b"fixed plaintext\n", password vector-pw, salt=SALT)
SALT = b"0123456789abcdef0123456789abcdef"
ANSIBLE_FIXED_SALT_BODY = (
    "33303331333233333334333533363337333833393631363236333634363536363330333133323333"
    "3334333533363337333833393631363236333634363536360a303839313061366636343261303534"
    "62303532323235623834373530306464633562356665323139616536306131333461623336376438"
    "3632353431626330320a313231313935373965663130373635373062313865623136363064656135"
    "62633366353462326430383432633363623430643465333166366339633164666230"
)


def test_decrypts_what_ansible_vault_wrote_with_a_vault_id() -> None:
    envelope = vf.parse(ANSIBLE_12)
    assert (envelope.version, envelope.cipher, envelope.vault_id) == ("1.2", "AES256", "prod")
    assert vf.decrypt(envelope, b"vector-pw") == b"db_password: from-ansible\n"


def test_encryption_with_a_fixed_salt_is_byte_for_byte_ansibles() -> None:
    text = vf.encrypt(b"fixed plaintext\n", b"vector-pw", salt=SALT)
    lines = text.splitlines()
    assert lines[0] == "$ANSIBLE_VAULT;1.1;AES256"
    assert "".join(lines[1:]) == ANSIBLE_FIXED_SALT_BODY
    assert all(len(line) == 80 for line in lines[1:-1]) and len(lines[-1]) <= 80
    assert text.endswith("\n")


@pytest.mark.parametrize(
    ("vault_id", "header"),
    [
        (None, "$ANSIBLE_VAULT;1.1;AES256"),
        ("default", "$ANSIBLE_VAULT;1.1;AES256"),
        ("prod", "$ANSIBLE_VAULT;1.2;AES256;prod"),
    ],
)
def test_round_trip_in_both_formats(vault_id: str | None, header: str) -> None:
    plain = "ünïcode\nand lines\n".encode()
    text = vf.encrypt(plain, b"pw", vault_id)
    assert text.splitlines()[0] == header
    assert vf.is_vault(text) and vf.is_vault(text.encode())
    assert vf.decrypt(vf.parse(text), b"pw") == plain


def test_empty_plaintext_round_trips_and_salts_differ() -> None:
    one, two = vf.encrypt(b"", b"pw"), vf.encrypt(b"", b"pw")
    assert one != two
    assert vf.decrypt(vf.parse(one), b"pw") == b""


def test_a_wrong_password_fails_the_hmac_check() -> None:
    with pytest.raises(vf.VaultPasswordError):
        vf.decrypt(vf.parse(ANSIBLE_12), b"not-it")


def test_a_changed_ciphertext_byte_fails_the_hmac_check() -> None:
    envelope = vf.parse(vf.encrypt(b"secret value", b"pw"))
    salt, mac, ciphertext = binascii.unhexlify(envelope.body).split(b"\n")
    flipped = ciphertext[:-1] + (b"0" if ciphertext[-1:] != b"0" else b"1")
    body = binascii.hexlify(b"\n".join([salt, mac, flipped]))
    with pytest.raises(vf.VaultPasswordError):
        vf.decrypt(replace(envelope, body=body), b"pw")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("$ANSIBLE_VAULT;1.1\n3031", "not a vault header"),
        ("$ANSIBLE_VAULT;1.0;AES\n3031", "version '1.0'"),
        ("$ANSIBLE_VAULT;1.1;AES128\n3031", "cipher 'AES128'"),
        ("$ANSIBLE_VAULT;1.2;AES256\n3031", "must name its vault ID"),
        ("$ANSIBLE_VAULT;1.1;AES256\n", "no encrypted data"),
    ],
)
def test_damaged_headers_are_format_errors(text: str, problem: str) -> None:
    with pytest.raises(vf.VaultFormatError, match=problem):
        vf.parse(text)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("zz", "not hexadecimal"),
        ("303132", "salt, HMAC and ciphertext"),
        ("30310a30320a7a7a", "not hexadecimal"),
        ("30310a30320a3031", "wrong length"),
    ],
)
def test_damaged_bodies_are_format_errors(body: str, problem: str) -> None:
    envelope = vf.parse("$ANSIBLE_VAULT;1.1;AES256\n" + body)
    with pytest.raises(vf.VaultFormatError, match=problem):
        vf.decrypt(envelope, b"pw")


def test_a_truncated_file_is_damaged_or_fails_its_hmac() -> None:
    text = vf.encrypt(b"x" * 100, b"pw")
    cut = text[: len(text) // 2]
    with pytest.raises((vf.VaultFormatError, vf.VaultPasswordError)):
        vf.decrypt(vf.parse(cut), b"pw")


def test_an_empty_password_cannot_encrypt() -> None:
    with pytest.raises(ValueError, match="empty"):
        vf.encrypt(b"x", b"")
