"""Retry files: the hosts that failed or were unreachable, one per line, for `-l @FILE`.

Written to .fleetkit/retry/<playbook>.retry under the directory fleetkit runs in,
atomically (temp file + rename), so a rerun with `--limit @that-file` reaches
exactly the hosts that did not finish.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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


def record_retry(result: RunResult, name: str, cwd: Path, *, what: str = "") -> RunResult:
    """result naming its retry file, written when hosts failed or were unreachable.

    name is the file's stem (the playbook's, or `exec`); the path is shown
    relative to cwd when it is below it.
    """
    bad_set = set(result.failed_hosts) | set(result.unreachable_hosts)
    bad = [h for h in result.hosts if h in bad_set]
    if not bad:
        return result
    path = write_retry(cwd / RETRY_DIR / f"{name}.retry", bad, playbook=what)
    try:
        shown = str(path.relative_to(cwd))
    except ValueError:
        shown = str(path)
    return replace(result, retry_file=shown)
