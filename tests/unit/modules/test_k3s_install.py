"""k3s_install: hash-gated transfer, verified before it replaces the binary; preflight."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.unit.modules.k3s_support import recording_shell, run

from fleetkit.modules.k3s_install import K3sInstall
from fleetkit.testing.fake_connection import FakeCall

pytestmark = pytest.mark.unit


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "controller" / "k3s"
    path.parent.mkdir()
    path.write_bytes(b"#!/bin/sh\necho not-k3s\n")
    return path


def test_installs_then_skips_when_the_host_has_the_same_hash(binary: Path, tmp_path: Path) -> None:
    conn = recording_shell()
    bin_dir = tmp_path / "host" / "bin"
    args = {"binary": str(binary), "bin_dir": str(bin_dir)}
    first = run("k3s_install", args, conn)
    assert first.changed and not first.failed, first.msg
    installed = bin_dir / "k3s"
    assert installed.read_bytes() == binary.read_bytes()
    assert installed.stat().st_mode & 0o777 == 0o755
    assert first.data["sha256"] == hashlib.sha256(binary.read_bytes()).hexdigest()
    assert [f.path for f in conn.files] == [f"{installed}.fleetkit-new"]  # one put_file
    second = run("k3s_install", args, conn)
    assert not second.changed and not second.failed
    assert len(conn.files) == 1  # nothing sent the second time


def test_a_corrupt_transfer_never_replaces_the_binary(binary: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "host" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "k3s").write_bytes(b"old")

    def corrupt(call: FakeCall) -> tuple[int, str, str]:
        from tests.unit.modules.k3s_support import shell

        if call.stdin:
            call = FakeCall(call.host, call.command, call.become, b"garbage", call.timeout)
        return shell(call)

    args = {"binary": str(binary), "bin_dir": str(bin_dir)}
    res = run("k3s_install", args, recording_shell(corrupt))
    assert res.failed and "sha256 on the host" in res.msg
    assert (bin_dir / "k3s").read_bytes() == b"old"
    assert not (bin_dir / "k3s.fleetkit-new").exists()


def test_a_pinned_checksum_must_match_the_controller_file(binary: Path, tmp_path: Path) -> None:
    args = {"binary": str(binary), "bin_dir": str(tmp_path / "b"), "sha256": "0" * 64}
    res = run("k3s_install", args, recording_shell())
    assert res.failed and "not the pinned" in res.msg


def test_check_mode_sends_nothing(binary: Path, tmp_path: Path) -> None:
    conn = recording_shell()
    args = {"binary": str(binary), "bin_dir": str(tmp_path / "b")}
    res = run("k3s_install", args, conn, check=True)
    assert res.changed and res.msg.startswith("would install")
    assert not conn.files
    assert not (tmp_path / "b").exists()


def test_preflight_names_the_missing_binary(monkeypatch: pytest.MonkeyPatch, binary: Path) -> None:
    monkeypatch.delenv("FLEETKIT_K3S_BINARY", raising=False)
    module = K3sInstall()
    none = module.preflight({}, frozenset())
    assert none and "k3s_binary" in none[0] and "FLEETKIT_K3S_BINARY" in none[0]
    gone = module.preflight({"binary": "/nowhere/k3s"}, frozenset())
    assert gone and "/nowhere/k3s not found" in gone[0]
    assert module.preflight({"binary": str(binary)}, frozenset()) == []
    monkeypatch.setenv("FLEETKIT_K3S_BINARY", str(binary))
    assert module.preflight({}, frozenset()) == []
    assert module.preflight({"url": "https://example.invalid/k3s"}, frozenset()) == []
    assert module.preflight({}, frozenset({"binary"})) == []  # known only at run time


def test_url_mode_downloads_on_the_host_and_verifies_the_pinned_sha256(
    binary: Path, tmp_path: Path
) -> None:
    from tests.unit.modules.k3s_support import shell

    def offline_curl(call: FakeCall) -> tuple[int, str, str]:
        if "curl -fsSL" in call.command:  # stand in for the download: the file arrives
            target = call.command.split(" -o ", 1)[1].split()[0]
            call = FakeCall(call.host, f"cp {binary} {target} && chmod 0755 {target}",
                            call.become, None, call.timeout)  # fmt: skip
        return shell(call)

    want = hashlib.sha256(binary.read_bytes()).hexdigest()
    bin_dir = tmp_path / "host" / "bin"
    bin_dir.mkdir(parents=True)
    url = "https://downloads.example.invalid/k3s"
    conn = recording_shell(offline_curl)
    res = run("k3s_install", {"url": url, "sha256": want, "bin_dir": str(bin_dir)}, conn)
    assert res.changed and not res.failed, res.msg
    assert (bin_dir / "k3s").read_bytes() == binary.read_bytes()
    assert not conn.files  # nothing sent from the controller
    again = run("k3s_install", {"url": url, "sha256": want, "bin_dir": str(bin_dir)}, conn)
    assert not again.changed
    (bin_dir / "k3s").unlink()
    bad = run("k3s_install", {"url": url, "sha256": "1" * 64, "bin_dir": str(bin_dir)}, conn)
    assert bad.failed and "wanted 1111" in bad.msg and not (bin_dir / "k3s").exists()
