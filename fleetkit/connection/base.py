"""The connection interface every transport implements (SSH, local, fake).

A connection is opened once per host per run and reused for every command.
`run` is the only primitive a transport must provide; file transfer is built
on it by default (stdin in, base64 out) so sudo, the fake and SSH all behave the
same. Transports override what they can do better: put_file (SSH: SFTP) and
streams to sockets on the host (SSH: channels of the one connection).
"""

from __future__ import annotations

import base64
import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import StreamRefused, TaskError


@dataclass(frozen=True)
class CommandResult:
    """What one command did: exit code (None if it was cut by a timeout), output, time.

    truncated: a stream passed the connection's output cap (max_output); what is
    kept is its first bytes, the rest was read and dropped.
    """

    rc: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out


class Stream(Protocol):
    """A byte stream to a socket on the host: what socket.socket and paramiko.Channel share."""

    def sendall(self, data: bytes) -> None: ...

    def recv(self, size: int) -> bytes: ...

    def settimeout(self, timeout: float | None) -> None: ...

    def close(self) -> None: ...


STREAM_TIMEOUT_S = 10.0


def become_wrap(command: str, user: str | None = None) -> str:
    """Wrap command so it runs through non-interactive sudo (fails rather than prompts)."""
    who = f"-u {shlex.quote(user)} " if user else ""
    return f"sudo -n -H {who}-- /bin/sh -c {shlex.quote(command)}"


class Connection(ABC):
    """A persistent connection to one inventory host."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def open(self) -> None:
        """Connect (idempotent). Raises fleetkit.errors.ConnectionError when unreachable."""

    @abstractmethod
    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        """Run command through /bin/sh on the host; never raises for a non-zero exit.

        Raises fleetkit.errors.ConnectionError if the connection is lost.
        """

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    @property
    def is_open(self) -> bool:
        return True

    def put(
        self, data: bytes, remote_path: str, *, mode: int | None = None, become: bool = False
    ) -> None:
        """Write data to remote_path atomically (temp file + rename) with optional mode."""
        path = shlex.quote(remote_path)
        tmp = shlex.quote(f"{remote_path}.fleetkit-tmp")
        chmod = f" && chmod {mode:o} {tmp}" if mode is not None else ""
        script = f"umask 077 && cat > {tmp}{chmod} && mv -f {tmp} {path}"
        result = self.run(script, become=become, stdin=data)
        if not result.ok:
            raise TaskError(f"cannot write {remote_path}: {result.stderr.strip() or result.rc}")

    def put_file(
        self,
        local_path: Path,
        remote_path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        """Copy a (possibly large) controller file to remote_path atomically.

        Without mode the file is private (0600), as with `put`. Transports with a
        file channel (SSH: SFTP on the open connection, streamed) override this;
        the default sends the bytes through `put`, the whole file in memory.
        """
        self.put(Path(local_path).read_bytes(), remote_path, mode=mode, become=become)

    def open_unix_stream(self, path: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        """A stream to the unix socket at path on the host (SSH: direct-streamlocal)."""
        raise HostConnectionError(f"{self.name}: this connection cannot open socket streams")

    def open_tcp_stream(
        self, port: int, *, host: str = "127.0.0.1", timeout: float = STREAM_TIMEOUT_S
    ) -> Stream:
        """A stream to host:port as seen from the host, its loopback by default
        (SSH: direct-tcpip), so no port needs to be open to the controller."""
        raise HostConnectionError(f"{self.name}: this connection cannot open TCP streams")

    def open_command_stream(self, command: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        """A stream that is command's stdin and stdout on the host (SSH: an exec channel),
        for tools that speak a protocol on stdio (`docker system dial-stdio`)."""
        raise StreamRefused(f"{self.name}: this connection cannot open command streams")

    def remote_sha256(self, remote_path: str, *, become: bool = False) -> str | None:
        """The hex sha256 of remote_path, or None when it does not exist or cannot be read
        (so a caller can skip a put_file whose content is already there)."""
        result = self.run(f"sha256sum -- {shlex.quote(remote_path)}", become=become)
        digest = result.stdout.split(maxsplit=1)[0] if result.ok and result.stdout else ""
        return digest if len(digest) == 64 else None

    def get(self, remote_path: str, *, become: bool = False) -> bytes:
        """Read remote_path's bytes."""
        result = self.run(f"base64 < {shlex.quote(remote_path)}", become=become)
        if result.truncated:
            raise TaskError(
                f"cannot read {remote_path}: larger than the output cap (max_output)",
                hint="raise the host's max_output variable (bytes) to read bigger files",
            )
        if not result.ok:
            raise TaskError(f"cannot read {remote_path}: {result.stderr.strip() or result.rc}")
        return base64.b64decode(result.stdout)

    def __enter__(self) -> Connection:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
