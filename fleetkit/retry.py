"""Retry files: the hosts that failed, were unreachable or did not finish an interrupted
run, one per line, for `-l @FILE`.

Written to .fleetkit/retry/<playbook>.retry under the directory fleetkit runs in,
atomically (temp file + rename), so a rerun with `--limit @that-file` reaches
exactly the hosts that did not finish. A retry file that cannot be written (a
full disk, a read-only folder) is a warning: the run's result, recap and exit
code stand.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from fleetkit.atomic import write_atomic
from fleetkit.results import RunResult

RETRY_DIR = Path(".fleetkit") / "retry"


def retry_path(playbook: Path, cwd: Path) -> Path:
    """Where the retry file of playbook goes (relative paths are under cwd)."""
    return cwd / RETRY_DIR / f"{playbook.stem}.retry"


def write_retry(path: Path, hosts: Sequence[str], *, playbook: str = "") -> Path:
    """Write hosts to path atomically, with a comment line saying when and what."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    what = " ".join(playbook.split())  # one line, whatever it was given
    header = f"# fleetkit retry file: {what} {stamp}\n" if what else ""
    text = header + "".join(f"{h}\n" for h in hosts)
    write_atomic(path, text, mode=0o600)
    return path


def read_retry(path: Path) -> list[str]:
    """The host names in a retry (or any limit) file: one per line, # comments."""
    out = []
    for line in path.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            out.append(name)
    return out


def warn_on_stderr(message: str) -> None:
    """A warning line in fleetkit's format on stderr (stdout may carry JSON lines)."""
    sys.stderr.write(f"fleetkit: warning: {message}\n")
    sys.stderr.flush()


def record_retry(
    result: RunResult,
    name: str,
    cwd: Path,
    *,
    what: str = "",
    warn: Callable[[str], None] = warn_on_stderr,
) -> RunResult:
    """result naming its retry file, written when hosts failed, were unreachable or did
    not finish (an interrupted run).

    name is the file's stem (the playbook's, or `exec`); the path is shown
    relative to cwd when it is below it. If the file cannot be written, warn says
    why and result is returned as it was (no retry file).
    """
    bad_set = set(result.failed_hosts) | set(result.unreachable_hosts) | set(result.unfinished)
    bad = [h for h in result.hosts if h in bad_set]
    if not bad:
        return result
    target = cwd / RETRY_DIR / f"{name}.retry"
    try:
        path = write_retry(target, bad, playbook=what)
    except OSError as err:
        warn(
            f"cannot write the retry file {target}: {err.strerror or err} (hosts to retry:"
            f" {' '.join(bad)})"
        )
        return result
    try:
        shown = str(path.relative_to(cwd))
    except ValueError:
        shown = str(path)
    return replace(result, retry_file=shown)
