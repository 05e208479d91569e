"""archive: reproducible tar/zip/compressed output, rewritten only when content differs."""

from __future__ import annotations

import gzip
import tarfile
import zipfile
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "a.conf").write_text("a=1\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    return root


def test_directory_tar_gz_then_ok(run_local: RunModule, app: Path, tmp_path: Path) -> None:
    dest = tmp_path / "app.tgz"
    args = {"path": str(app), "dest": str(dest)}
    first = run_local("community.general.archive", args)
    assert first.changed and first.data["state"] == "archive", first.msg
    with tarfile.open(dest) as tar:
        assert sorted(tar.getnames()) == ["app", "app/conf", "app/conf/a.conf", "app/run.sh"]
    before = dest.stat().st_mtime_ns
    second = run_local("archive", args)
    assert not second.changed and not second.failed, second.msg
    assert dest.stat().st_mtime_ns == before


def test_changed_source_rewrites_and_check_mode_predicts(
    run_local: RunModule, app: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "app.tar"
    args = {"path": str(app), "dest": str(dest), "format": "tar"}
    run_local("archive", args)
    (app / "run.sh").write_text("#!/bin/sh\necho new\n")
    old = dest.read_bytes()
    assert run_local("archive", args, check=True).changed
    assert dest.read_bytes() == old
    assert run_local("archive", args).changed
    assert dest.read_bytes() != old


def test_single_file_is_compressed_not_tarred(run_local: RunModule, app: Path) -> None:
    res = run_local("archive", {"path": str(app / "run.sh")})
    assert res.changed and res.data["state"] == "compress"
    assert gzip.decompress((app / "run.sh.gz").read_bytes()) == b"#!/bin/sh\n"
    assert not run_local("archive", {"path": str(app / "run.sh")}).changed


def test_zip_with_glob_and_missing_paths(run_local: RunModule, app: Path, tmp_path: Path) -> None:
    dest = tmp_path / "confs.zip"
    args = {
        "path": [str(app / "conf" / "*.conf"), str(tmp_path / "nope")],
        "dest": str(dest),
        "format": "zip",
    }
    res = run_local("archive", args)
    assert res.changed and res.data["state"] == "incomplete"
    assert res.data["missing"] == [str(tmp_path / "nope")]
    assert zipfile.ZipFile(dest).namelist() == ["a.conf"]
    assert not run_local("archive", args).changed


def test_remove_deletes_the_sources(run_local: RunModule, app: Path, tmp_path: Path) -> None:
    res = run_local("archive", {"path": str(app), "dest": str(tmp_path / "a.tgz"), "remove": True})
    assert res.changed and not app.exists()


def test_nothing_found_fails_and_dest_needed_for_several() -> None:
    mod = lookup("archive")
    assert mod is not None
    assert "dest is required" in prepare(mod, {"path": ["/a", "/b"]})[1][0]


def test_no_source_found_is_a_failure(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("archive", {"path": str(tmp_path / "none"), "dest": str(tmp_path / "x.tgz")})
    assert res.failed and "no source paths" in res.msg
