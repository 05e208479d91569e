"""The keeper's control socket: a 0700 directory the user owns, a 0600 socket in it,
and a peer-credential check on every connection (SO_PEERCRED: other uids refused).

The directory check refuses a path someone else made or can write (a symlink, a
foreign owner, group/other bits), so another user cannot plant a socket there.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
from pathlib import Path

from fleetkit.errors import ConnectionError as HostConnectionError

UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class UnsafeSocketDir(HostConnectionError):
    """The keeper's directory exists but is not private to this user."""


def private_dir(path: Path) -> Path:
    """Make (or check) path as a directory owned by this uid with mode 0700."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeSocketDir(f"{path} is not a directory (a symlink?): not using the keeper")
    if st.st_uid != os.getuid():
        raise UnsafeSocketDir(f"{path} belongs to uid {st.st_uid}: not using the keeper")
    if st.st_mode & 0o077:
        raise UnsafeSocketDir(
            f"{path} is open to other users (mode {stat.S_IMODE(st.st_mode):o}):"
            " not using the keeper",
            hint=f"chmod 700 {path}",
        )
    return path


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a unix socket (Linux SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, UCRED.size)
    _pid, uid, _gid = UCRED.unpack(raw)
    return int(uid)


def listen(path: Path, backlog: int = 512) -> socket.socket:
    """A listening unix socket at path, mode 0600 from the start (umask), stale file removed."""
    private_dir(path.parent)
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(backlog)
    return sock


def connect(path: Path, timeout: float | None = 5.0) -> socket.socket:
    """A client socket to the keeper at path; OSError when none listens there.

    The keeper's own uid is checked too: a socket served by another user is refused.
    """
    private_dir(path.parent)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        if peer_uid(sock) != os.getuid():
            raise UnsafeSocketDir(f"{path} is served by another user: not using the keeper")
    except BaseException:
        sock.close()
        raise
    sock.settimeout(None)
    return sock
