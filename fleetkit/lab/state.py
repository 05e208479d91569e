"""The lab's machine-wide record (state.json) and the lock that serialises up/down.

The record says what was made (hosts, daemon pids, inventories written, iptables
rules added) so `lab down` can undo it from any folder; `lab down` also finds
leftovers by name when the record is missing or unreadable.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fleetkit.atomic import write_atomic
from fleetkit.errors import LabError
from fleetkit.lab.layout import LabPaths

STATE_VERSION = 1


@dataclass(frozen=True)
class HostRecord:
    """One host as made: identity and the pids of the daemons started for it."""

    name: str
    address: str
    netns: str
    sshd_pid: int | None = None
    dockerd_pid: int | None = None
    init_pid: int | None = None  # the `unshare` holding the host's init (its PID namespace)


@dataclass(frozen=True)
class StateRecord:
    """Everything `lab up` made; written before the first host and after the last."""

    hosts: tuple[HostRecord, ...]
    docker: bool
    created: float
    phase: str = "building"  # "building" until every host answers, then "up"
    inventories: tuple[tuple[str, str], ...] = ()  # (absolute path, sha256 written)
    iptables_rules: tuple[tuple[str, ...], ...] = ()  # iptables -A arguments
    registry_pid: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with the format version."""
        data = asdict(self)
        data["version"] = STATE_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StateRecord:
        """Parse to_json's output; ValueError/KeyError/TypeError when it is not one."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unknown state version {data.get('version')!r}")
        return cls(
            hosts=tuple(HostRecord(**h) for h in data["hosts"]),
            docker=bool(data["docker"]),
            created=float(data["created"]),
            phase=str(data["phase"]),
            inventories=tuple((str(p), str(h)) for p, h in data.get("inventories", ())),
            iptables_rules=tuple(tuple(str(a) for a in r) for r in data.get("iptables_rules", ())),
            registry_pid=data.get("registry_pid"),
        )


def load_record(paths: LabPaths) -> StateRecord | None:
    """The record, or None when there is none or it cannot be read (down then scans by name)."""
    try:
        with paths.state_file.open(encoding="utf-8") as fh:
            return StateRecord.from_json(json.load(fh))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_record(paths: LabPaths, record: StateRecord) -> None:
    """Write the record atomically (readers never see half a file)."""
    atomic_write(paths.state_file, json.dumps(record.to_json(), indent=1) + "\n", mode=0o644)


def atomic_write(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write text to path atomically, making its folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text, mode=mode)


@contextlib.contextmanager
def lab_lock(paths: LabPaths, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the machine-wide lab lock (one `lab up`/`lab down` at a time).

    on_wait is told once when another process holds the lock and this one waits.
    """
    while True:
        try:
            paths.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(paths.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            continue  # the previous holder removed the folder just now
        except OSError as err:
            raise LabError(f"cannot create {paths.lock_file}: {err.strerror}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait("waiting for another `fleetkit lab` command to finish")
                on_wait = None
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(paths.lock_file).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the lock file as it finished: take the new one
    try:
        yield
    finally:
        os.close(fd)


def remove_root_if_empty(paths: LabPaths) -> None:
    """Remove the lock file and /var/lib/fleetkit when nothing else is left in it."""
    with contextlib.suppress(OSError):
        if {p.name for p in paths.root.iterdir()} <= {paths.lock_file.name}:
            paths.lock_file.unlink(missing_ok=True)
            paths.root.rmdir()
