"""Large-file upload over SFTP on an open SSH transport: streamed, pipelined, atomic.

The file goes to a temp name in the target's folder and is renamed over the
target (posix-rename@openssh.com), so a reader sees the old file or the new one;
it is chmod-ed before any byte is written, so it is never readable by others in
between. With sudo the upload goes to a private temp file of the login user
(mktemp in /tmp, 0600) that root then copies into place and removes.
"""

from __future__ import annotations

import contextlib
import posixpath
import secrets
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # imported by its callers: a run whose hosts are all kept never loads it
    import paramiko

CHUNK = 1 << 20  # local read size; paramiko splits writes into 32 KiB SFTP requests
PRIVATE = 0o600


def temp_name(remote_path: str) -> str:
    """A unique hidden temp name beside remote_path (same filesystem: rename is atomic)."""
    folder, name = posixpath.split(remote_path)
    return posixpath.join(folder, f".{name}.fleetkit-{secrets.token_hex(4)}")


def upload(sftp: paramiko.SFTPClient, src: BinaryIO, remote_path: str, mode: int) -> int:
    """Stream src into remote_path (created or truncated) with mode; return bytes sent."""
    sent = 0
    with sftp.open(remote_path, "wb") as dst:
        dst.chmod(mode)
        dst.set_pipelined(True)
        while chunk := src.read(CHUNK):
            dst.write(chunk)
            sent += len(chunk)
    return sent


def put_atomic(sftp: paramiko.SFTPClient, local_path: Path, remote_path: str, mode: int) -> None:
    """Upload to a temp name beside remote_path, then rename it over remote_path."""
    import paramiko

    tmp = temp_name(remote_path)
    with open(local_path, "rb") as src:
        try:
            upload(sftp, src, tmp, mode)
            sftp.posix_rename(tmp, remote_path)
        except BaseException:
            with contextlib.suppress(OSError, paramiko.SSHException, EOFError):
                sftp.remove(tmp)
            raise


def install_script(
    staged: str, remote_path: str, mode: int | None, *, keep_source: bool = False
) -> str:
    """The root-side step of a sudo upload: copy staged into place atomically, drop it.

    As `Connection.put` does, the file is written by the become user through a
    temp name and renamed; without mode it is private (umask 077).
    """
    src = shlex.quote(staged)
    path = shlex.quote(remote_path)
    tmp = shlex.quote(temp_name(remote_path))
    chmod = f" && chmod {mode:o} {tmp}" if mode is not None else ""
    drop = "" if keep_source else f" rm -f {src};"
    return (
        f"umask 077 && cat {src} > {tmp}{chmod} && mv -f {tmp} {path};"
        f" rc=$?;{drop} [ $rc -eq 0 ] || rm -f {tmp}; exit $rc"
    )
