"""apt_key with the machine's real gpg on a local shell, /etc/apt under tmp_path: a key
already trusted is ok, a new one is added once (binary, trusted.gpg.d or keyring), check
mode writes nothing, an unreachable url is a clear error, absent removes only that key."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support import free_loopback_port
from tests.unit.modules.helpers import make_ctx
from tests.unit.modules.intercept import InterceptingConnection

from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(shutil.which("gpg") is None, reason="apt_key reads keys with gpg"),
]


class Keys:
    """Two throw-away public keys: armored text, binary bytes and fingerprints."""

    def __init__(self, home: Path) -> None:
        self.home = home
        env = {**os.environ, "GNUPGHOME": str(home)}
        self.armored: dict[str, str] = {}
        self.binary: dict[str, bytes] = {}
        self.fpr: dict[str, str] = {}
        for name in ("a", "b"):
            uid = f"Fleetkit Test {name} <{name}@example.invalid>"
            subprocess.run(
                ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519",
                 "sign", "never"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            out = subprocess.run(
                ["gpg", "--with-colons", "--list-keys", uid], env=env, check=True,
                capture_output=True, text=True,
            ).stdout  # fmt: skip
            self.fpr[name] = next(ln.split(":")[9] for ln in out.splitlines() if ln[:3] == "fpr")
            export = ["gpg", "--export", self.fpr[name]]
            self.binary[name] = subprocess.run(
                export, env=env, check=True, capture_output=True
            ).stdout
            self.armored[name] = subprocess.run(
                ["gpg", "--armor", "--export", self.fpr[name]], env=env, check=True,
                capture_output=True, text=True,
            ).stdout  # fmt: skip


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    made = Keys(home)
    yield made
    subprocess.run(
        ["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)},
        check=False, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def apt(tmp_path: Path) -> Path:
    root = tmp_path / "apt"
    (root / "trusted.gpg.d").mkdir(parents=True)
    return root


def run(apt: Path, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.builtin.apt_key")
    assert mod is not None
    conn = InterceptingConnection({}, paths={"/etc/apt/": f"{apt}/"})
    return mod.run(make_ctx("apt_key", args, conn, check=check))


def test_a_new_key_is_added_once_as_a_binary_keyring(apt: Path, keys: Keys) -> None:
    first = run(apt, data=keys.armored["a"])
    assert first.changed and not first.failed, first.msg
    written = apt / "trusted.gpg.d" / f"fleetkit-{keys.fpr['a'][-8:].lower()}.gpg"
    assert written.read_bytes() == keys.binary["a"]
    assert oct(written.stat().st_mode & 0o777) == "0o644"
    second = run(apt, data=keys.armored["a"])
    assert not second.changed and second.msg == "key present"


def test_a_key_already_trusted_in_an_asc_file_is_ok_by_id(apt: Path, keys: Keys) -> None:
    (apt / "trusted.gpg.d" / "vendor.asc").write_text(keys.armored["b"])
    by_long_id = run(apt, id=keys.fpr["b"][-16:])
    assert not by_long_id.changed and not by_long_id.failed, by_long_id.msg
    assert not run(apt, id=keys.fpr["b"], data=keys.armored["b"]).changed
    missing = run(apt, id=keys.fpr["a"])
    assert missing.failed and "no data, file or url" in missing.msg


def test_check_mode_writes_nothing(apt: Path, keys: Keys) -> None:
    result = run(apt, check=True, data=keys.armored["a"])
    assert result.changed and list((apt / "trusted.gpg.d").iterdir()) == []


def test_a_key_file_on_the_host_goes_into_the_named_keyring(
    apt: Path, keys: Keys, tmp_path: Path
) -> None:
    ring = tmp_path / "keyrings" / "vendor.gpg"
    ring.parent.mkdir()
    ring.write_bytes(keys.binary["b"])
    src = tmp_path / "a.asc"
    src.write_text(keys.armored["a"])
    assert run(apt, file=str(src), keyring=str(ring)).changed
    assert ring.read_bytes() == keys.binary["b"] + keys.binary["a"]
    assert not run(apt, file=str(src), keyring=str(ring)).changed


def test_an_id_the_material_does_not_hold_fails(apt: Path, keys: Keys) -> None:
    result = run(apt, id=keys.fpr["b"][-8:], data=keys.armored["a"])
    assert result.failed and "does not hold key" in result.msg


def test_a_url_that_cannot_be_fetched_is_a_clear_offline_error(apt: Path) -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}/key.asc"  # nothing listens there
    result = run(apt, url=url)
    assert result.failed and "offline" in result.msg and "data:" in result.msg


def test_absent_removes_a_single_key_file_and_only_that_key_from_a_keyring(
    apt: Path, keys: Keys
) -> None:
    alone = apt / "trusted.gpg.d" / "a.gpg"
    alone.write_bytes(keys.binary["a"])
    both = apt / "trusted.gpg"
    both.write_bytes(keys.binary["a"] + keys.binary["b"])
    result = run(apt, id=keys.fpr["a"], state="absent")
    assert result.changed and not result.failed, result.msg
    assert not alone.exists()
    left = subprocess.run(
        ["gpg", "--show-keys", "--with-colons", str(both)], capture_output=True, text=True,
        check=True, env={**os.environ, "GNUPGHOME": str(keys.home)},
    ).stdout  # fmt: skip
    assert keys.fpr["b"] in left and keys.fpr["a"] not in left
    assert not run(apt, id=keys.fpr["a"], state="absent").changed


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"state": "absent"}, "state=absent needs id"),
        ({"id": "xyz"}, "not a key ID"),
        ({"id": "0xDEADBEEF", "keyserver": "keyserver.ubuntu.com"}, "keyserver lookups"),
        ({}, "needs data, file, url or id"),
    ],
)
def test_bad_arguments_are_refused_before_any_host(args: dict[str, Any], fragment: str) -> None:
    mod = lookup("apt_key")
    assert mod is not None
    errors = prepare(mod, args)[1]
    assert errors and fragment in errors[0]
