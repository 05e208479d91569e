"""stat: Ansible's `stat` keys for files, directories, links and missing paths."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


def test_stat_of_a_file_has_ansibles_keys(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "app.conf"
    path.write_text("port=80\n")
    path.chmod(0o640)
    res = run_local("ansible.builtin.stat", {"path": str(path)})
    st = res.data["stat"]
    assert not res.changed and not res.failed
    assert st["exists"] and st["isreg"] and not st["isdir"] and not st["islnk"]
    assert st["mode"] == "0640" and st["size"] == 8
    assert st["checksum"] == hashlib.sha1(b"port=80\n").hexdigest()
    assert st["pw_name"] == "root" and st["uid"] == os.getuid()
    assert st["rusr"] and st["wusr"] and st["rgrp"] and not st["wgrp"] and not st["roth"]
    assert st["mtime"] == pytest.approx(path.stat().st_mtime, abs=1)
    assert st["mimetype"] == "text/plain"


def test_stat_of_a_missing_path_says_exists_false(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("stat", {"path": str(tmp_path / "nothing")})
    assert res.data["stat"] == {"exists": False}
    assert not res.failed


def test_stat_of_a_link_follows_only_when_asked(run_local: RunModule, tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    link = tmp_path / "current"
    link.symlink_to(tmp_path / "target")
    plain = run_local("stat", {"path": str(link)}).data["stat"]
    assert plain["islnk"] and not plain["isdir"]
    assert plain["lnk_target"] == str(tmp_path / "target")
    followed = run_local("stat", {"path": str(link), "follow": True}).data["stat"]
    assert followed["isdir"] and not followed["islnk"]


def test_stat_checksum_algorithm_and_opt_out(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    st = run_local("stat", {"path": str(path), "checksum_algorithm": "sha256"}).data["stat"]
    assert st["checksum"] == hashlib.sha256(b"abc").hexdigest()
    st = run_local("stat", {"path": str(path), "get_checksum": False}).data["stat"]
    assert "checksum" not in st


def test_stat_rejects_an_unknown_algorithm_before_running() -> None:
    mod = lookup("stat")
    assert mod is not None
    _, errors = prepare(mod, {"path": "/etc/hosts", "checksum_algorithm": "sha255"})
    assert errors and "sha256" in errors[0]
