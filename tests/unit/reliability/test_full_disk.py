"""A retry file or health textfile that cannot be written keeps the recap and exit 3.

Before the fix the OSError escaped: a traceback instead of the recap, exit 1
instead of 3. The read-only and full file systems are tiny tmpfs mounts made
here (root only, skipped elsewhere); a cwd under /proc needs no mount.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.faults.stuck_server import Mode, StuckServer, write_inventory
from tests.support import fleetkit, json_events

pytestmark = pytest.mark.unit


def _mount(target: Path, options: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture()
def mounts() -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for path in reversed(made):
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture()
def closing() -> Iterator[StuckServer]:
    with StuckServer(Mode.CLOSE) as server:
        yield server


def _fill(folder: Path) -> None:
    """Write until the file system is full."""
    with (folder / "filler").open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass


def _assert_kept_exit_3_and_recap(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 3, proc.stderr
    assert "RECAP" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "fleetkit: warning: cannot write the retry file" in proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_read_only_retry_folder_keeps_exit_3_and_the_recap(
    tmp_path: Path, closing: StuckServer, mounts: list[Path]
) -> None:
    (tmp_path / "inv").mkdir()
    inv = write_inventory(tmp_path / "inv", {"gone": closing})
    work = tmp_path / "work"
    _mount(work / ".fleetkit", "ro,size=64k")
    mounts.append(work / ".fleetkit")
    proc = fleetkit("exec", "all", "-i", str(inv), "--", "true", cwd=work, timeout=60)
    _assert_kept_exit_3_and_recap(proc)
    assert "gone" in proc.stderr  # the warning names the hosts to retry


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_disk_retry_file_keeps_exit_3_and_json_summary(
    tmp_path: Path, closing: StuckServer, mounts: list[Path]
) -> None:
    (tmp_path / "inv").mkdir()
    inv = write_inventory(tmp_path / "inv", {"gone": closing})
    work = tmp_path / "work"
    _mount(work, "size=64k")
    mounts.append(work)
    (work / ".fleetkit" / "retry").mkdir(parents=True)
    _fill(work)
    proc = fleetkit("exec", "all", "-i", str(inv), "--json", "--", "true", cwd=work, timeout=60)
    assert proc.returncode == 3, proc.stderr
    summary = json_events(proc.stdout)[-1]  # stdout stays pure JSON
    assert summary["event"] == "summary" and summary["retry_file"] is None
    assert "cannot write the retry file" in proc.stderr and "Traceback" not in proc.stderr


def test_retry_folder_under_proc_keeps_exit_3_and_the_recap(
    tmp_path: Path, closing: StuckServer
) -> None:
    inv = write_inventory(tmp_path, {"gone": closing})
    proc = fleetkit("exec", "all", "-i", str(inv), "--", "true", cwd=Path("/proc/self"))
    _assert_kept_exit_3_and_recap(proc)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_disk_health_textfile_keeps_the_report_and_exit_3(
    tmp_path: Path, closing: StuckServer, mounts: list[Path]
) -> None:
    (tmp_path / "inv").mkdir()
    inv = write_inventory(tmp_path / "inv", {"gone": closing})
    prom = tmp_path / "prom"
    _mount(prom, "size=16k")
    mounts.append(prom)
    _fill(prom)
    proc = fleetkit(
        "health", "-i", str(inv), "--timeout", "3", "--textfile", str(prom / "fleet.prom"),
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "gone" in proc.stdout and "-> exit 3" in proc.stdout
    assert "cannot write the textfile" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(prom.glob(".fleet.prom.*"))  # no temp file left behind
