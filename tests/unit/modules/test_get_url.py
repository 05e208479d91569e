"""get_url: download on the host (file:// URLs here, no network), checksum, idempotence."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from tests.unit.modules.helpers import RunModule, make_ctx

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

DATA = b"release 1.2.3\n" * 50


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "release.tar"
    path.write_bytes(DATA)
    return path


def test_download_then_ok_and_replaced_when_upstream_changes(
    run_local: RunModule, source: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out.tar"
    args = {"url": source.as_uri(), "dest": str(dest), "mode": "0640"}
    first = run_local("ansible.builtin.get_url", args)
    assert first.changed and not first.failed, first.msg
    assert dest.read_bytes() == DATA
    assert first.data["checksum_src"] == hashlib.sha1(DATA).hexdigest()
    assert first.data["md5sum"] == hashlib.md5(DATA).hexdigest()
    assert first.data["size"] == len(DATA) and first.data["status_code"] == 200
    assert oct(dest.stat().st_mode & 0o777) == "0o640"
    second = run_local("get_url", args)
    assert not second.changed and not second.failed, second.msg
    source.write_bytes(b"new upstream\n")
    third = run_local("get_url", args)
    assert third.changed and dest.read_bytes() == b"new upstream\n"
    assert oct(dest.stat().st_mode & 0o777) == "0o640"


def test_not_modified_keeps_dest_without_writing() -> None:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if "curl" in call.command:
            assert "-z /srv/a.bin" in call.command
            return 0, "C:304\nR:0\nT:/srv/.fleetkit-get_url.x\n", ""
        if call.command.startswith("p="):
            return 0, "T:file\nS:644 0 0 root root 3\nH:abc\n", ""
        return 0, "", ""

    conn = FakeConnection("h1", handle)
    mod = lookup("get_url")
    assert mod is not None
    res = mod.run(
        make_ctx("get_url", {"url": "http://198.18.0.1:5000/a.bin", "dest": "/srv/a.bin"}, conn)
    )
    assert not res.changed and res.msg == "Not Modified"
    assert conn.commands[-1] == "rm -f -- /srv/.fleetkit-get_url.x"


def test_checksum_mismatch_on_dest_downloads_and_verifies(
    run_local: RunModule, source: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out.tar"
    dest.write_bytes(b"stale\n")
    good = f"sha256:{hashlib.sha256(DATA).hexdigest()}"
    res = run_local("get_url", {"url": source.as_uri(), "dest": str(dest), "checksum": good})
    assert res.changed and dest.read_bytes() == DATA
    again = run_local("get_url", {"url": source.as_uri(), "dest": str(dest), "checksum": good})
    assert not again.changed
    bad = "sha256:" + "0" * 64
    failed = run_local(
        "get_url", {"url": source.as_uri(), "dest": str(dest), "checksum": bad, "force": True}
    )
    assert failed.failed and "did not match" in failed.msg
    assert dest.read_bytes() == DATA
    assert not list(tmp_path.glob(".fleetkit-get_url.*"))


def test_force_replaces_only_when_content_differs(
    run_local: RunModule, source: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out.tar"
    args = {"url": source.as_uri(), "dest": str(dest), "force": True}
    assert run_local("get_url", args).changed
    assert not run_local("get_url", args).changed
    source.write_bytes(b"v2\n")
    assert run_local("get_url", args).changed and dest.read_bytes() == b"v2\n"


def test_dest_directory_takes_the_url_basename(
    run_local: RunModule, source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dl"
    out.mkdir()
    res = run_local("get_url", {"url": source.as_uri(), "dest": str(out)})
    assert res.data["dest"] == str(out / "release.tar")
    assert (out / "release.tar").read_bytes() == DATA


def test_check_mode_predicts_exactly_and_writes_nothing(
    run_local: RunModule, source: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out.tar"
    res = run_local("get_url", {"url": source.as_uri(), "dest": str(dest)}, check=True)
    assert res.changed and not dest.exists()
    dest.write_bytes(DATA)
    res = run_local(
        "get_url", {"url": source.as_uri(), "dest": str(dest), "force": True}, check=True
    )
    assert not res.changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tar", "release.tar"]


def test_http_error_is_a_failure_with_the_status_code() -> None:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if "curl" in call.command:
            assert b"secret" in (call.stdin or b"") and "secret" not in call.command
            return 0, "C:404\nR:22\nT:/tmp/x\nX:curl: (22) The requested URL returned 404\n", ""
        return 0, "T:missing\n", ""

    conn = FakeConnection("h1", handle)
    mod = lookup("get_url")
    assert mod is not None
    args: dict[str, Any] = {
        "url": "http://198.18.0.1:5000/nope",
        "dest": "/tmp/x",
        "url_username": "u",
        "url_password": "secret",
    }
    res = mod.run(make_ctx("get_url", args, conn))
    assert res.failed and res.data["status_code"] == 404 and "404" in res.msg


def test_bad_checksum_and_scheme_are_argument_errors() -> None:
    mod = lookup("get_url")
    assert mod is not None
    assert (
        "sha256:<hex digest>"
        in prepare(mod, {"url": "http://x/a", "dest": "/a", "checksum": "abc"})[1][0]
    )
    assert (
        "not supported"
        in prepare(mod, {"url": "http://x/a", "dest": "/a", "checksum": "sha256:http://x/SUMS"})[1][
            0
        ]
    )
    assert "http(s)" in prepare(mod, {"url": "gopher://x/a", "dest": "/a"})[1][0]
