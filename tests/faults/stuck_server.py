"""A misbehaving SSH server on loopback, for tests of fleetkit's deadlines and caps.

`StuckServer(mode)` is a paramiko ServerInterface listening on 127.0.0.1 (a free
port) that accepts any password or key for any user, then misbehaves in one of
these ways (the `Mode` values):

- NO_EXEC_REPLY: opens session channels but never answers an exec request (the
  server's transport thread blocks in check_channel_exec_request, so it answers
  nothing else either: what a wedged sshd or a hung PAM session looks like);
- FLOOD: answers the exec request, then streams stdout (FLOOD_CHUNK, ~1 MiB of
  'y\\n' per send) as fast as the client reads, until the client closes the channel;
- STALL_AFTER_AUTH: authenticates, then never answers a channel open;
- CLOSE: accepts the TCP connection and closes it at once (no SSH banner);
- OK: answers every exec with `ok` on stdout and exit status 0 (a healthy host, for
  mixing with stuck ones).

Use it as a context manager; `.port` is where it listens and `.inventory(...)`
writes a YAML inventory pointing hosts at it (host keys accepted on first use into
a known_hosts file beside the inventory). Leaving the block stops the listener,
wakes every blocked handler and closes every transport, so a test never leaks
threads into the next one. Run `python -m tests.faults.stuck_server MODE` to keep
one up by hand (prints the port).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from enum import Enum
from pathlib import Path
from types import TracebackType

import paramiko

FLOOD_CHUNK = b"y\n" * (1 << 19)  # 1 MiB per send
# The exec handler's thread starts before paramiko sends the request's SUCCESS reply:
# it waits this long first, so its data and close never overtake the reply.
REPLY_FIRST_S = 0.05


class Mode(Enum):
    NO_EXEC_REPLY = "no-exec-reply"
    FLOOD = "flood"
    STALL_AFTER_AUTH = "stall-after-auth"
    CLOSE = "close"
    OK = "ok"
    EXIT_EARLY = "exit-early"


class _Interface(paramiko.ServerInterface):
    """Accepts everyone; what happens after that depends on the mode."""

    def __init__(self, server: StuckServer) -> None:
        self._server = server

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey,none"

    def check_auth_none(self, username: str) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_password(self, username: str, password: str) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if self._server.mode is Mode.STALL_AFTER_AUTH:
            self._server.stopping.wait()  # blocks this transport's thread: no answer at all
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        self._server.exec_requests += 1
        mode = self._server.mode
        if mode is Mode.NO_EXEC_REPLY:
            self._server.stopping.wait()
            return False
        target = {Mode.FLOOD: _flood, Mode.EXIT_EARLY: _exit_early}.get(mode, _answer_ok)
        threading.Thread(target=target, args=(channel, self._server), daemon=True).start()
        return True


def _reply(chan: paramiko.Channel, out: bytes, err: bytes, rc: int) -> None:
    """Answer an exec with out, err and exit status rc, then close, reading no stdin."""
    time.sleep(REPLY_FIRST_S)
    try:
        if out:
            chan.sendall(out)
        if err:
            chan.sendall_stderr(err)
        chan.send_exit_status(rc)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        _close(chan)


def _close(chan: paramiko.Channel) -> None:
    """Close chan; a client that already left makes paramiko's close raise (EOFError)."""
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        chan.close()


def _answer_ok(chan: paramiko.Channel, server: StuckServer) -> None:
    _reply(chan, b"ok\n", b"", 0)


def _exit_early(chan: paramiko.Channel, server: StuckServer) -> None:
    """Exit 127 with a message at once, reading none of stdin (a command that fails
    before it reads its input, as `python -` that does not exist)."""
    _reply(chan, b"", b"no such interpreter\n", 127)


def _flood(chan: paramiko.Channel, server: StuckServer) -> None:
    time.sleep(REPLY_FIRST_S)
    try:
        while not chan.closed and not server.stopping.is_set():
            chan.sendall(FLOOD_CHUNK)
            server.bytes_sent += len(FLOOD_CHUNK)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        _close(chan)


class StuckServer:
    """A loopback SSH server in one of the `Mode`s, with its threads and transports tracked."""

    def __init__(self, mode: Mode | str) -> None:
        self.mode = Mode(mode)
        self.stopping = threading.Event()
        self.exec_requests = 0
        self.bytes_sent = 0
        self._host_key = paramiko.RSAKey.generate(2048)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()
        self._accept = threading.Thread(target=self._serve, name="stuck-server", daemon=True)

    def start(self) -> StuckServer:
        self._accept.start()
        return self

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode is Mode.CLOSE:
                client.close()
                continue
            transport = paramiko.Transport(client)
            transport.add_server_key(self._host_key)
            with self._lock:
                self._transports.append(transport)
            try:
                transport.start_server(server=_Interface(self))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    def stop(self) -> None:
        """Stop accepting, wake blocked handlers, close every transport (idempotent)."""
        self.stopping.set()
        self._sock.close()
        if self._accept.is_alive():
            self._accept.join(5)
        with self._lock:
            transports = list(self._transports)
        for t in transports:
            t.close()
        for t in transports:
            t.join(5)

    def __enter__(self) -> StuckServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def host_vars(self, folder: Path) -> dict[str, object]:
        """Connection vars that reach this server: a client key made in folder (any key
        is accepted), its host key accepted on first use into folder/known_hosts."""
        known = str(folder / "known_hosts")
        return {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": "fleet",
            "ansible_ssh_private_key_file": str(client_key(folder)),
            "ansible_ssh_timeout": 5,
            # fleetkit's own names, in both spellings (issue 16 renames them fleetkit_*)
            "fleetkit_known_hosts": known,
            "fleetkit_host_key_policy": "accept-new",
            "ssh_known_hosts": known,
            "host_key_policy": "accept-new",
        }


def client_key(folder: Path) -> Path:
    """folder/id_rsa, made once (the server accepts any key; this avoids ~/.ssh)."""
    path = folder / "id_rsa"
    if not path.exists():
        paramiko.RSAKey.generate(2048).write_private_key_file(str(path))
    return path


def write_inventory(folder: Path, servers: dict[str, StuckServer], *, group: str = "all") -> Path:
    """A hosts.yml in folder with one host per name, each pointing at its server."""
    import yaml

    hosts = {name: s.host_vars(folder) for name, s in servers.items()}
    path = folder / "hosts.yml"
    path.write_text(yaml.safe_dump({group: {"hosts": hosts}}, sort_keys=True))
    return path


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else Mode.NO_EXEC_REPLY.value
    with StuckServer(mode) as server:
        print(f"{server.mode.value} on 127.0.0.1:{server.port}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
