"""Lab processes: which are alive, which live in lab namespaces, and stopping them.

A pid from the state file is trusted only while its namespaces are the lab's:
after a reboot the same number may belong to an unrelated process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Collection, Iterable
from pathlib import Path

PROC = Path("/proc")


def ns_inode(path: Path) -> int | None:
    """Inode of the namespace behind path (a /proc/*/ns link or a bind-mounted ns file).

    None when path is missing or is a plain file (a namespace file left unmounted).
    """
    try:
        st = os.stat(path)
        nsfs = os.stat("/proc/self/ns/net")
    except OSError:
        return None
    return st.st_ino if st.st_dev == nsfs.st_dev else None


def process_ns(pid: int, kind: str) -> int | None:
    """Inode of namespace `kind` (net, mnt, uts ...) of process pid, None if unknown."""
    try:
        link = os.readlink(PROC / str(pid) / "ns" / kind)
    except OSError:
        return None
    # "net:[4026531840]"
    try:
        return int(link[link.index("[") + 1 : link.index("]")])
    except ValueError:
        return None


def process_state(pid: int) -> str | None:
    """One-letter state of pid (R, S, Z ...), None if there is no such process."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2 :]
    return rest[:1] or None


def is_running(pid: int | None) -> bool:
    """True when pid exists and is not a zombie."""
    return pid is not None and process_state(pid) not in (None, "Z", "X")


def runs_in(pid: int | None, netns_inode: int | None) -> bool:
    """True when pid is running inside the network namespace with that inode."""
    if pid is None or netns_inode is None or not is_running(pid):
        return False
    return process_ns(pid, "net") == netns_inode


def is_namespace_init(pid: int) -> bool:
    """True when pid is pid 1 of a PID namespace below ours (NSpid in /proc/PID/status)."""
    try:
        text = (PROC / str(pid) / "status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("NSpid:"):
            ids = line.split()[1:]
            return len(ids) > 1 and ids[-1] == "1"
    return False


def all_pids() -> list[int]:
    """Every process id visible in /proc."""
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def pids_in_namespaces(ns_inodes: Collection[int]) -> list[int]:
    """Processes whose network or mount namespace is one of ns_inodes (like `ip netns pids`)."""
    if not ns_inodes:
        return []
    me = os.getpid()
    out = []
    for pid in all_pids():
        if pid == me:
            continue
        if process_ns(pid, "net") in ns_inodes or process_ns(pid, "mnt") in ns_inodes:
            out.append(pid)
    return out


def stop_processes(pids: Iterable[int], *, grace_s: float = 5.0) -> list[int]:
    """SIGTERM pids, SIGKILL what is left after grace_s; reap our own children.

    The init of another PID namespace (a host's tini, a container's first process)
    gets SIGKILL at once: an init may ignore SIGTERM sent from outside. Returns the
    pids that outlived grace_s.
    """
    pending = {p for p in pids if is_running(p)}
    for pid in pending:
        _signal(pid, signal.SIGKILL if is_namespace_init(pid) else signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while pending and time.monotonic() < deadline:
        _reap(pending)
        pending = {p for p in pending if is_running(p)}
        if pending:
            time.sleep(0.02)
    killed = sorted(pending)
    for pid in killed:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while pending and time.monotonic() < deadline:
        _reap(pending)
        pending = {p for p in pending if is_running(p)}
        if pending:
            time.sleep(0.02)
    _reap(set(killed))
    return killed


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _reap(pids: set[int]) -> None:
    """waitpid the ones that are our children (others are reaped by their own parent)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def rss_kib(pid: int) -> int:
    """Resident set size of pid in KiB (0 if unknown)."""
    return _status_field(pid, "VmRSS:")


def pss_kib(pid: int) -> int:
    """Proportional set size of pid in KiB (shared pages divided among sharers)."""
    try:
        text = (PROC / str(pid) / "smaps_rollup").read_text(encoding="ascii", errors="replace")
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _status_field(pid: int, name: str) -> int:
    try:
        text = (PROC / str(pid) / "status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    return 0


def parents() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc/*/stat."""
    return {pid: ppid for pid, (ppid, _) in process_table().items()}


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every process, from /proc/*/stat."""
    table: dict[int, tuple[int, int]] = {}
    for pid in all_pids():
        try:
            stat = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
            fields = stat[stat.rfind(")") + 2 :].split()  # state ppid pgrp session ...
            table[pid] = (int(fields[1]), int(fields[3]))
        except (OSError, ValueError, IndexError):
            continue
    return table


def descendants(pids: Collection[int], parent: dict[int, int]) -> set[int]:
    """pids and every descendant of theirs in the pid -> parent table."""
    seen = set(pids)
    frontier = set(pids)
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier and p not in seen}
        seen |= frontier
    return seen


def children_of(pids: Collection[int]) -> list[int]:
    """Every descendant of pids (transitively), from /proc/*/stat parent ids."""
    parent = parents()
    out: list[int] = []
    seen = set(pids)
    frontier = set(pids)
    while frontier:
        nxt = {p for p, pp in parent.items() if pp in frontier and p not in seen}
        seen |= nxt
        out.extend(sorted(nxt))
        frontier = nxt
    return out
