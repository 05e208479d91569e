"""Bounded reads of users' files: regular files only, up to a size cap.

Every file a user names (inventory, group_vars/host_vars, playbooks, vars files,
`-e @FILE`, `-l @FILE`, templates) is read here, so a FIFO cannot block a run, a
link to /dev/zero cannot eat the machine's memory, and a too-large file is a clear
error naming the path instead of a hang. The file is opened non-blocking and checked
with fstat on the open descriptor, so a file swapped for a FIFO after a check cannot
block either. See docs/reliability.md, "Input limits".
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fleetkit.errors import FleetkitError, Position

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Default cap for one input file: far above any real inventory, playbook or template."""

LIMIT_ENV = "FLEETKIT_MAX_INPUT_MIB"
"""Environment variable that raises (or lowers) the cap, in MiB, for unusual inputs."""


def max_file_bytes() -> int:
    """The size cap in force: FLEETKIT_MAX_INPUT_MIB if set to a positive number, else 16 MiB."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if raw:
        try:
            mib = float(raw)
        except ValueError:
            mib = 0.0
        if 0 < mib < 1024 * 1024:
            return int(mib * 1024 * 1024)
    return MAX_FILE_BYTES


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for the message; None for a regular file."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def read_bytes(
    path: Path, error_cls: type[FleetkitError], *, what: str = "file", limit: int | None = None
) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (default: max_file_bytes()).

    A missing or unreadable file, a FIFO, device, socket or directory, or a file
    over the cap raises error_cls at path ("cannot read <what>: why").
    """
    cap = max_file_bytes() if limit is None else limit
    where = Position(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as err:
        raise error_cls(f"cannot read {what}: {err.strerror}", position=where) from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise error_cls(
                f"cannot read {what}: it is {kind}, not a regular file",
                position=where,
                hint="fleetkit reads only regular files (a FIFO or device could block"
                " or never end)",
            )
        if info.st_size > cap:
            raise _too_big(path, what, cap, error_cls)
        chunks: list[bytes] = []
        total = 0
        while True:  # st_size may lie (/proc, a file still growing): count what comes
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                raise _too_big(path, what, cap, error_cls)
        return b"".join(chunks)
    except OSError as err:
        raise error_cls(f"cannot read {what}: {err.strerror}", position=where) from None
    finally:
        os.close(fd)


def read_text(
    path: Path, error_cls: type[FleetkitError], *, what: str = "file", limit: int | None = None
) -> str:
    """A bounded regular file (see read_bytes) decoded as UTF-8 (a BOM allowed).

    Text that is not UTF-8 is error_cls at the line of the first bad byte.
    """
    data = read_bytes(path, error_cls, what=what, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise error_cls(
            f"not UTF-8 text ({err.reason} at byte {err.start})", position=Position(path, line)
        ) from None


def _too_big(path: Path, what: str, cap: int, error_cls: type[FleetkitError]) -> FleetkitError:
    return error_cls(
        f"cannot read {what}: larger than the {_size(cap)} input limit",
        position=Position(path),
        hint=f"split the file, or set {LIMIT_ENV} (MiB) to raise the limit",
    )


def _size(n: int) -> str:
    mib = n / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{n} bytes"
