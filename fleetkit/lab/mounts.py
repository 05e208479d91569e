"""mount(2)/umount2(2) through libc and a /proc/self/mountinfo reader.

In-process calls: `lab down` unmounts hundreds of namespace files, and one
`umount` process each would cost more than the rest of the teardown.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from pathlib import Path

MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(rc: int, what: str, path: Path) -> None:
    if rc != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what} {path}: {os.strerror(errno)}", str(path))


def bind_private(path: Path) -> None:
    """Make path a bind mount of itself with private propagation (for namespace files)."""
    if not is_mountpoint(path):
        rc = _libc().mount(str(path).encode(), str(path).encode(), None, MS_BIND, None)
        _check(rc, "bind mount", path)
    rc = _libc().mount(b"none", str(path).encode(), None, MS_PRIVATE, None)
    _check(rc, "make private", path)


def bind(source: Path, target: Path) -> None:
    """Bind-mount source on target (a namespace file from /proc onto a file, say)."""
    rc = _libc().mount(str(source).encode(), str(target).encode(), None, MS_BIND, None)
    _check(rc, "bind mount", target)


def mount_tmpfs(target: Path, options: str) -> None:
    """Mount a new tmpfs on target with options (`mode=0700,size=1m`)."""
    rc = _libc().mount(b"tmpfs", str(target).encode(), b"tmpfs", 0, options.encode())
    _check(rc, "mount tmpfs on", target)


def umount(path: Path, *, detach: bool = False) -> None:
    """Unmount path (lazily with detach=True). Raises OSError."""
    rc = _libc().umount2(str(path).encode(), MNT_DETACH if detach else 0)
    _check(rc, "umount", path)


def _unescape(field: str) -> str:
    """Undo mountinfo's octal escapes (\\040 for a space ...)."""
    if "\\" not in field:
        return field
    out = bytearray()
    i = 0
    raw = field.encode()
    while i < len(raw):
        if raw[i] == 0x5C and i + 3 < len(raw) and raw[i + 1 : i + 4].isdigit():
            out.append(int(raw[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return out.decode(errors="surrogateescape")


def mount_points(mountinfo: Path = Path("/proc/self/mountinfo")) -> list[Path]:
    """Every mount point in this mount namespace, in mount order."""
    out = []
    for line in mountinfo.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            out.append(Path(_unescape(fields[4])))
    return out


def mount_points_under(root: Path) -> list[Path]:
    """Mount points at or below root, deepest (and latest) first: the order to unmount."""
    found = [p for p in mount_points() if p == root or root in p.parents]
    order = sorted(enumerate(found), key=lambda t: (len(t[1].parts), t[0]), reverse=True)
    return [p for _, p in order]


def is_mountpoint(path: Path) -> bool:
    """True when path is a mount point in this mount namespace."""
    return path in set(mount_points())
