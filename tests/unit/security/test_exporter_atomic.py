"""Finding 7: atomic writes fsync the folder, and run --metrics-textfile goes through them.

On the real file system: the directory's fsync is observed by wrapping os.fsync
(the real call still runs) and naming each fd through /proc/self/fd; the temp
file of the textfile is not at prometheus_client's predictable name, so a
symlink planted there by another local user is never followed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetkit.atomic import write_atomic
from fleetkit.report.metrics import write_textfile
from fleetkit.results import RunResult

pytestmark = pytest.mark.unit


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths that os.fsync was called on (the real fsync runs too)."""
    seen: list[str] = []
    real: Callable[[int], None] = os.fsync

    def fsync(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_write_atomic_fsyncs_the_file_and_then_its_folder(
    tmp_path: Path, fsynced: list[str]
) -> None:
    target = tmp_path / "out.prom"
    write_atomic(target, "x 1\n")
    assert target.read_text() == "x 1\n"
    assert len(fsynced) == 2
    assert Path(fsynced[0]).parent == tmp_path  # the temp file
    assert fsynced[1] == str(tmp_path)  # the folder, after the rename


def test_write_atomic_temp_names_are_unpredictable(tmp_path: Path, fsynced: list[str]) -> None:
    for _ in range(3):
        write_atomic(tmp_path / "out.prom", "x 1\n")
    temps = {Path(p).name for p in fsynced if Path(p) != tmp_path}
    assert len(temps) == 3
    assert all(t.startswith(".out.prom.") and not t.endswith(".prom") for t in temps)


def test_run_metrics_textfile_goes_through_atomic_write(tmp_path: Path, fsynced: list[str]) -> None:
    target = tmp_path / "run.prom"
    write_textfile(target, "site", RunResult(steps=(), hosts=(), duration_s=1.0), now=1000.0)
    assert "fleetkit_run_last_success_timestamp_seconds" in target.read_text()
    assert fsynced[-1] == str(tmp_path)
    assert all(".run.prom." in Path(p).name for p in fsynced[:-1])


def test_a_symlink_at_the_old_predictable_temp_name_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "run.prom"
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    # prometheus_client's write_to_textfile used f"{path}.{pid}.{thread id}"
    planted = Path(f"{target}.{os.getpid()}.{threading.current_thread().ident}")
    planted.symlink_to(victim)
    write_textfile(target, "site", RunResult(steps=(), hosts=(), duration_s=1.0), now=1000.0)
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink()
    assert "fleetkit_run_tasks_total" in target.read_text()
