"""unarchive: controller and remote_src archives, compared before extracting; idempotent."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


def make_tgz(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


def test_controller_tgz_unpacked_once(run_local: RunModule, tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    make_tgz(tmp_path / "files" / "app.tgz", {"app/a.txt": b"a\n", "app/b.txt": b"b\n"})
    dest = tmp_path / "dest"
    dest.mkdir()
    args = {"src": "app.tgz", "dest": str(dest), "list_files": True}
    first = run_local("ansible.builtin.unarchive", args)
    assert first.changed and not first.failed, first.msg
    assert first.data["files"] == ["app/a.txt", "app/b.txt"]
    assert first.data["handler"] == "TgzArchive"
    assert first.data["state"] == "directory" and first.data["uid"] == os.getuid()
    assert (dest / "app" / "a.txt").read_bytes() == b"a\n"
    second = run_local("unarchive", args)
    assert not second.changed and not second.failed, second.msg
    assert not list(Path("/tmp").glob("fleetkit-unarchive.*"))


def test_changed_member_is_extracted_again(run_local: RunModule, tmp_path: Path) -> None:
    archive = tmp_path / "app.tgz"
    make_tgz(archive, {"a.txt": b"a\n"})
    dest = tmp_path / "dest"
    dest.mkdir()
    args = {"src": str(archive), "dest": str(dest), "remote_src": True}
    run_local("unarchive", args)
    (dest / "a.txt").write_bytes(b"edited\n")
    assert run_local("unarchive", args, check=True).changed
    assert (dest / "a.txt").read_bytes() == b"edited\n"
    assert run_local("unarchive", args).changed
    assert (dest / "a.txt").read_bytes() == b"a\n"


def test_zip_with_mode_applied_to_members(run_local: RunModule, tmp_path: Path) -> None:
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("site/index.html", "<h1>hi</h1>\n")
    dest = tmp_path / "www"
    dest.mkdir()
    args = {"src": str(archive), "dest": str(dest), "remote_src": True, "mode": "0640"}
    first = run_local("unarchive", args)
    assert first.changed and first.data["handler"] == "ZipArchive", first.msg
    page = dest / "site" / "index.html"
    assert page.read_text() == "<h1>hi</h1>\n"
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert not run_local("unarchive", args).changed


def test_creates_skips_and_missing_dest_fails(run_local: RunModule, tmp_path: Path) -> None:
    archive = tmp_path / "x.tgz"
    make_tgz(archive, {"x": b"x"})
    res = run_local(
        "unarchive",
        {"src": str(archive), "dest": str(tmp_path), "remote_src": True, "creates": str(archive)},
    )
    assert res.skipped and not res.changed
    res = run_local(
        "unarchive", {"src": str(archive), "dest": str(tmp_path / "no"), "remote_src": True}
    )
    assert res.failed and "existing" in res.msg


def test_not_an_archive_fails(run_local: RunModule, tmp_path: Path) -> None:
    bogus = tmp_path / "x.tgz"
    bogus.write_text("plain")
    os.utime(bogus)
    res = run_local("unarchive", {"src": str(bogus), "dest": str(tmp_path), "remote_src": True})
    assert res.failed and "Failed to find handler" in res.msg


def test_url_src_is_an_argument_error() -> None:
    mod = lookup("unarchive")
    assert mod is not None
    errors = prepare(mod, {"src": "https://example.invalid/a.tgz", "dest": "/srv"})[1]
    assert errors and "get_url" in errors[0]
