"""Retry files: the hosts that failed or were unreachable, one per line, for `-l @FILE`.

Written to .fleetkit/retry/<playbook>.retry under the directory fleetkit runs in,
atomically (temp file + rename), so a rerun with `--limit @that-file` reaches
exactly the hosts that did not finish.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

RETRY_DIR = Path(".fleetkit") / "retry"


def retry_path(playbook: Path, cwd: Path) -> Path:
    """Where the retry file of playbook goes (relative paths are under cwd)."""
    return cwd / RETRY_DIR / f"{playbook.stem}.retry"


def write_retry(path: Path, hosts: Sequence[str], *, playbook: str = "") -> Path:
    """Write hosts to path atomically, with a comment line saying when and what."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    header = f"# fleetkit retry file: {playbook} {stamp}\n" if playbook else ""
    text = header + "".join(f"{h}\n" for h in hosts)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_retry(path: Path) -> list[str]:
    """The host names in a retry (or any limit) file: one per line, # comments."""
    out = []
    for line in path.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            out.append(name)
    return out
