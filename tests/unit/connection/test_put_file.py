"""put_file: the local copy is atomic and streamed, the fake records, the default uses put."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from fleetkit.connection.local import LocalConnection
from fleetkit.connection.sftp import install_script, temp_name
from fleetkit.errors import TaskError
from fleetkit.testing.fake_connection import FakeConnection, FakeFile

pytestmark = pytest.mark.unit


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src.bin"
    path.write_bytes(os.urandom(3 * (1 << 20) + 17))  # more than one 1 MiB chunk
    return path


def test_local_put_file_copies_with_mode_and_leaves_no_temp(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "app.bin"
    target.write_bytes(b"old")
    LocalConnection("localhost").put_file(src, str(target), mode=0o640)
    assert target.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in out.iterdir()] == ["app.bin"]


def test_local_put_file_without_mode_is_private_like_put(src: Path, tmp_path: Path) -> None:
    target = tmp_path / "secret"
    LocalConnection("localhost").put_file(src, str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_local_put_file_replaces_by_rename_so_an_open_reader_keeps_the_old_file(
    src: Path, tmp_path: Path
) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old content")
    with open(target, "rb") as reader:
        LocalConnection("localhost").put_file(src, str(target))
        assert reader.read() == b"old content"  # same inode: never truncated in place
    assert target.read_bytes() == src.read_bytes()


def test_local_put_file_into_a_missing_folder_is_a_task_error(src: Path, tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="cannot write"):
        LocalConnection("localhost").put_file(src, str(tmp_path / "nope" / "f"))
    with pytest.raises(TaskError, match="no such file"):
        LocalConnection("localhost").put_file(tmp_path / "missing", str(tmp_path / "f"))


def test_fake_put_file_records_path_mode_become_and_bytes(src: Path) -> None:
    conn = FakeConnection("lab1")
    conn.put_file(src, "/opt/app.bin", mode=0o755, become=True)
    assert conn.files == [FakeFile("lab1", "/opt/app.bin", 0o755, True, src.read_bytes())]
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert conn.file("/opt/app.bin") is not None
    assert conn.remote_sha256("/opt/app.bin") == digest
    assert conn.calls == []  # no command ran


def test_remote_sha256_reads_sha256sum_and_is_none_when_missing() -> None:
    digest = "ab" * 32
    conn = FakeConnection(
        "lab1",
        lambda call: (
            (0, f"{digest}  /etc/x\n", "")
            if call.command.endswith("/etc/x")
            else (1, "", "No such file")
        ),
    )
    assert conn.remote_sha256("/etc/x") == digest
    assert conn.remote_sha256("/etc/y") is None
    assert conn.commands == ["sha256sum -- /etc/x", "sha256sum -- /etc/y"]


def test_temp_names_are_hidden_unique_and_beside_the_target() -> None:
    a, b = temp_name("/etc/app/conf.yml"), temp_name("/etc/app/conf.yml")
    assert a != b
    assert a.startswith("/etc/app/.conf.yml.fleetkit-")


def test_the_sudo_install_step_renames_into_place_and_drops_the_staged_file() -> None:
    script = install_script("/tmp/fleetkit-put.X", "/etc/my app", 0o644)
    assert script.startswith("umask 077 && cat /tmp/fleetkit-put.X > '/etc/.my app.fleetkit-")
    assert "&& chmod 644 " in script
    assert "&& mv -f '/etc/.my app.fleetkit-" in script
    assert "rm -f /tmp/fleetkit-put.X;" in script
    kept = install_script("/home/me/src", "/etc/f", None, keep_source=True)
    assert "chmod" not in kept
    assert "rm -f /home/me/src" not in kept
