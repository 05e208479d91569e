"""SSH transport: a Fabric Connection per host, opened once and reused.

Fabric does the connecting (ssh_config Host aliases, User, Port, IdentityFile,
ProxyJump gateways, auth). Commands run on a fresh channel of the one transport
with a small select loop instead of Invoke's runner: no extra threads per
command, stdout and stderr kept apart, and a timeout that signals the remote
process (SSH "signal" request) before closing the channel.
"""

from __future__ import annotations

import contextlib
import functools
import select
import shlex
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST

from fleetkit.connection import deadlines, sftp, streams
from fleetkit.connection.base import (
    STREAM_TIMEOUT_S,
    CommandResult,
    Connection,
    Stream,
    become_wrap,
)
from fleetkit.connection.hostkeys import (
    KnownHostsFiles,
    known_hosts_files,
    known_hosts_name,
)
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import ConnectionError, HostKeyError, StreamRefused, TaskError

READ_SIZE = 65536
STDIN_SLICE = 1 << 18
KEEPALIVE_S = 30
# How often an open connection's transport thread wakes with nothing to read (to send a
# due keepalive or start a due rekey). paramiko wakes every 0.1 s: 10 wakeups a second per
# held connection, which is what made an idle keeper of 500 connections use 20 % CPU.
IDLE_TICK_S = 10.0
KILL_AFTER_S = 5  # remote `timeout -k`: SIGKILL this long after SIGTERM
CLIENT_GRACE_S = 3.0  # client gives up this long after the remote timeout
TIMEOUT_RC = 124  # what coreutils/busybox `timeout` exits with on expiry


ADMIN_PROHIBITED = 1  # SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254 5.1)

# What `_why_unix_refused` prints on the host, and what each answer means.
UNIX_PROBE = (
    "if [ ! -e {p} ]; then echo missing; elif [ ! -S {p} ]; then echo not-socket;"
    " elif [ ! -w {p} ]; then echo no-access; else echo refused; fi"
)
UNIX_REASONS = {
    "missing": "there is no socket {path} on the host (is the service running?)",
    "not-socket": "{path} on the host is not a socket",
    "no-access": "{user} may not connect to {path} on the host (permission denied: add"
    " the user to the socket's group)",
    "refused": "{path} on the host refused the connection (nothing is listening on it, or"
    " sshd forbids stream-local forwarding: AllowStreamLocalForwarding)",
}


def _reason(err: BaseException) -> str:
    """An error in words. paramiko's NoValidConnectionsError reads "[Errno None] Unable
    to connect to port 22 on ..."; its per-address errors say what happened
    ("Connection refused")."""
    if isinstance(err, paramiko.ssh_exception.NoValidConnectionsError) and err.errors:
        seen = dict.fromkeys(getattr(e, "strerror", None) or str(e) for e in err.errors.values())
        return "; ".join(seen)
    return str(err) or type(err).__name__


def _no_delay(sock: object) -> None:
    """Turn Nagle off: each command is a few small packets each way, and waiting for
    delayed ACKs costs ~40 ms per command (measured: run("true") 47.8 ms -> 3.8 ms)."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _quiet_transport(transport: paramiko.Transport) -> None:
    """After the handshake, let the transport thread sleep in recv until data comes (or
    IDLE_TICK_S for keepalives) instead of paramiko's 0.1 s poll. close() shuts the socket
    down first (_wake), so the sleeping thread ends at once."""
    with contextlib.suppress(OSError):
        transport.sock.settimeout(IDLE_TICK_S)


def _wake(transport: paramiko.Transport | None) -> None:
    """Shut the transport's TCP socket down, so a thread blocked in its recv returns now
    (closing the descriptor alone leaves it blocked until its timeout)."""
    sock = getattr(transport, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def wait_readable(fd: int, timeout: float) -> None:
    """Wait until fd is readable or timeout passes: poll, since select() refuses a
    descriptor numbered 1024 or more (a keeper holding 500 connections has such fds)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.poll(max(0, int(timeout * 1000)))


def _send_all(chan: paramiko.Channel, data: bytes) -> None:
    """chan.sendall in slices: paramiko's sendall copies the whole rest of its buffer after
    every 32 KiB packet, quadratic in the size (64 MB stdin to a lab host: 42 s; sliced: 1-2 s)."""
    view = memoryview(data)
    for start in range(0, len(view), STDIN_SLICE):
        chan.sendall(bytes(view[start : start + STDIN_SLICE]))


def send_signal(chan: paramiko.Channel, name: str) -> None:
    """Ask sshd to deliver a signal (e.g. 'TERM') to the command (RFC 4254 6.9)."""
    msg = paramiko.Message()
    msg.add_byte(cMSG_CHANNEL_REQUEST)
    msg.add_int(chan.remote_chanid)
    msg.add_string("signal")
    msg.add_boolean(False)
    msg.add_string(name)
    transport = chan.get_transport()
    transport._send_user_message(msg)  # type: ignore[attr-defined]  # no public API


def _fabric_hops(fab: Any) -> list[Any]:
    """The chain of fabric Connections Fabric built from ssh_config's ProxyJump."""
    from fabric import Connection as FabricConnection

    hops: list[Any] = []
    hop = fab.gateway
    while isinstance(hop, FabricConnection):
        hops.append(hop)
        hop = hop.gateway
    return hops


@functools.cache
def fabric_connection_class() -> Any:
    """fabric.Connection with `inline_ssh_env` declared as a real attribute.

    Fabric declares its other attributes on the class so invoke's DataProxy sets
    them on the instance; it forgets inline_ssh_env, so Connection.__init__ wrote it
    into the run's shared Config, whose re-merge empties it for a moment: a thread
    opening another host then failed with "No attribute or config key found for
    'authentication'" (about 1 run in 20-60 with many hosts).
    """
    from fabric import Connection as FabricConnection

    class FleetkitFabricConnection(FabricConnection):  # type: ignore[misc]
        inline_ssh_env = None

    return FleetkitFabricConnection


class SSHConnection(Connection):
    """One host over SSH; thread-compatible (one run uses it from one worker at a time)."""

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        fabric_config: Any,
        known_hosts: KnownHostsFiles | None,
        gateway: Any = None,
        max_output: int = deadlines.DEFAULT_MAX_OUTPUT,
    ) -> None:
        super().__init__(spec.name)
        self.spec = spec
        self.max_output = max_output
        connect_kwargs: dict[str, Any] = {
            "banner_timeout": spec.connect_timeout,
            "auth_timeout": spec.connect_timeout,
        }
        if spec.ssh_key:
            connect_kwargs["key_filename"] = [str(Path(spec.ssh_key).expanduser())]
            connect_kwargs["look_for_keys"] = False
        self._fab = fabric_connection_class()(
            host=spec.address,
            user=spec.user,
            port=spec.port,
            config=fabric_config,
            gateway=gateway,
            connect_kwargs=connect_kwargs,
        )
        if self._fab.connect_timeout is None:
            self._fab.connect_kwargs["timeout"] = spec.connect_timeout
        # Hops Fabric made from ssh_config's ProxyJump (nearest first); a gateway passed
        # in (the inventory's jump) is an SSHConnection of its own, set up already.
        self._hops: list[Any] = [] if gateway is not None else _fabric_hops(self._fab)
        self._known_hosts_files: dict[str, tuple[Path, ...]] = {}
        self._setup_host_keys(known_hosts or KnownHostsFiles())

    def _setup_host_keys(self, files: KnownHostsFiles) -> None:
        """Every hop, the host and each ssh_config ProxyJump bastion, gets fleetkit's
        host-key policy and every known_hosts file before it connects (Fabric's own
        hops would accept any key and be offered the user's key)."""
        for fab in (self._fab, *self._hops):
            if fab is not self._fab:
                fab.connect_kwargs.setdefault("banner_timeout", self.spec.connect_timeout)
                fab.connect_kwargs.setdefault("auth_timeout", self.spec.connect_timeout)
                if fab.connect_timeout is None:
                    fab.connect_kwargs.setdefault("timeout", self.spec.connect_timeout)
            name = self.name if fab is self._fab else f"{self.name}(jump {fab.original_host})"
            hostname = known_hosts_name(fab.host, int(fab.port))
            user, glob = known_hosts_files(fab.ssh_config, self.spec.known_hosts)
            files.guard(
                fab.client,
                name=name,
                hostname=hostname,
                files=(user, glob),
                policy=self.spec.host_key_policy,
            )
            self._known_hosts_files[fab.host] = (*user, *glob)

    @property
    def fabric(self) -> Any:
        """The underlying fabric.Connection (for gateways and the Docker SDK tunnel)."""
        return self._fab

    @property
    def address(self) -> str:
        return f"{self._fab.user}@{self._fab.host}:{self._fab.port}"

    @property
    def is_open(self) -> bool:
        transport = self._fab.client.get_transport()
        return transport is not None and transport.is_active()

    def open(self) -> None:
        if self.is_open:
            return
        where = self.address
        try:
            self._fab.open()
        except HostKeyError:
            self._close_hops()
            raise
        except paramiko.BadHostKeyException as err:
            self._close_hops()
            files = self._known_hosts_files.get(err.hostname, ())
            raise HostKeyError(
                f"{self.name}: host key for {err.hostname} has CHANGED: got"
                f" {err.key.get_name()} {err.key.fingerprint}, known_hosts has"
                f" {err.expected_key.get_name()} {err.expected_key.fingerprint}"
                f" (in one of {', '.join(map(str, files))})",
                hint="if the host was rebuilt, remove its old line from known_hosts;"
                " otherwise this may be an attack",
            ) from None
        except paramiko.AuthenticationException as err:
            self._fab.client.close()
            raise ConnectionError(
                f"{self.name}: authentication failed for {where}: {err}",
                hint="check ansible_user and ansible_ssh_private_key_file in the inventory"
                " (or ~/.ssh/config)",
            ) from None
        except TimeoutError:
            self._fab.client.close()
            raise ConnectionError(
                f"{self.name}: timed out connecting to {where} after {self.spec.connect_timeout:g}s"
            ) from None
        except (paramiko.SSHException, OSError, EOFError) as err:
            self._fab.client.close()
            raise ConnectionError(
                f"{self.name}: cannot connect to {where}: {_reason(err)}"
            ) from None
        transport = self._fab.client.get_transport()
        if transport is not None:
            transport.set_keepalive(KEEPALIVE_S)
            _no_delay(transport.sock)
            _quiet_transport(transport)

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        self.open()
        full = command
        if timeout is not None:
            # The remote `timeout` kills the command's whole process group, sudo'd
            # or not; the SSH signal (below) and the client deadline are backstops.
            full = f"timeout -k {KILL_AFTER_S} {timeout:g} /bin/sh -c {shlex.quote(command)}"
        if become:
            full = become_wrap(full, self.spec.become_user)
        start = time.monotonic()
        deadline = start + timeout + CLIENT_GRACE_S if timeout is not None else None
        # Opening the channel and the exec request are answered at once by a healthy
        # sshd: both wait at most connect_timeout (and never past the command's deadline).
        handshake = self.spec.connect_timeout
        if deadline is not None:
            handshake = max(0.1, min(handshake, deadline - start))
        transport = self._fab.client.get_transport()
        try:
            chan = transport.open_session(timeout=handshake)
        except (paramiko.SSHException, OSError, EOFError) as err:
            active = transport.is_active()
            self.close()
            if active:  # paramiko's "Timeout opening channel.": the server is stuck
                raise ConnectionError(
                    f"{self.name}: the SSH server did not open a session within {handshake:g}s"
                    " (connection closed)"
                ) from None
            raise ConnectionError(
                f"{self.name}: connection lost: {err or type(err).__name__}"
            ) from None
        try:
            deadlines.exec_request(chan, full, handshake)
            self._send_stdin(chan, stdin)
        except deadlines.PeerTimeout:
            self.close()  # a server that ignores requests is stuck: drop the whole connection
            raise ConnectionError(
                f"{self.name}: the SSH server did not answer the exec request within"
                f" {handshake:g}s (connection closed)"
            ) from None
        except (paramiko.SSHException, OSError, EOFError) as err:
            chan.close()
            self.close()
            raise ConnectionError(
                f"{self.name}: connection lost: {err or type(err).__name__}"
            ) from None
        try:
            result = self._collect(chan, start, deadline)
        finally:
            chan.close()
        if timeout is not None and result.rc == TIMEOUT_RC and result.duration_s >= timeout:
            return replace(result, rc=None, timed_out=True)
        return result

    def _send_stdin(self, chan: paramiko.Channel, stdin: bytes | None) -> None:
        """stdin to the command, then EOF. A command that ended (or closed the channel)
        before reading all of it is not a lost connection: like a broken pipe, its exit
        status and output are the result (a module launcher that finds no Python exits
        127 before reading its payload)."""
        try:
            if stdin:
                _send_all(chan, stdin)
            chan.shutdown_write()
        except (OSError, EOFError):
            transport = chan.get_transport()
            ended = chan.closed or chan.eof_received or chan.exit_status_ready()
            if not (ended and transport is not None and transport.is_active()):
                raise

    def _collect(
        self, chan: paramiko.Channel, start: float, deadline: float | None
    ) -> CommandResult:
        """Read both streams until the command ends or the deadline passes, keeping at most
        max_output bytes of each (the rest is read and dropped, so the host never
        blocks on a full window and the controller's memory stays bounded)."""
        out = deadlines.Capture(self.max_output)
        err = deadlines.Capture(self.max_output)
        fd = chan.fileno()
        while True:
            busy = False
            if chan.recv_ready():
                out.add(chan.recv(READ_SIZE))
                busy = True
            if chan.recv_stderr_ready():
                err.add(chan.recv_stderr(READ_SIZE))
                busy = True
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                return self._timed_out(chan, out, err, start)
            if busy:
                continue  # the deadline is checked between reads, also while output pours in
            if chan.eof_received and not chan.recv_ready() and not chan.recv_stderr_ready():
                break
            if chan.closed or not self.is_open:
                break
            wait_readable(fd, min(wait, 1.0) if wait is not None else 1.0)
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not chan.status_event.wait(remaining):
            return self._timed_out(chan, out, err, start)
        rc = chan.exit_status
        if rc == -1 and not self.is_open:
            raise ConnectionError(f"{self.name}: connection lost while running a command")
        return CommandResult(
            rc,
            out.text(),
            err.text(),
            time.monotonic() - start,
            truncated=out.truncated or err.truncated,
        )

    def _timed_out(
        self,
        chan: paramiko.Channel,
        out: deadlines.Capture,
        err: deadlines.Capture,
        start: float,
    ) -> CommandResult:
        with contextlib.suppress(paramiko.SSHException, OSError, EOFError):
            send_signal(chan, "TERM")
        return CommandResult(
            None,
            out.text(),
            err.text(),
            time.monotonic() - start,
            timed_out=True,
            truncated=out.truncated or err.truncated,
        )

    # streams --------------------------------------------------------------------------

    def _transport(self) -> paramiko.Transport:
        self.open()
        transport = self._fab.client.get_transport()
        if transport is None or not transport.is_active():
            raise ConnectionError(f"{self.name}: SSH connection is not open")
        return transport  # type: ignore[no-any-return]

    def _channel(
        self, what: str, opener: Callable[[paramiko.Transport], paramiko.Channel]
    ) -> paramiko.Channel:
        """opener's channel on the open transport; transport failures mean the host is lost.

        The channel rides on the transport's socket, whose Nagle is off (see open).
        """
        transport = self._transport()
        try:
            return opener(transport)
        except paramiko.ChannelException:
            raise
        except (paramiko.SSHException, OSError, EOFError) as err:
            if not self.is_open:
                self.close()
            raise ConnectionError(
                f"{self.name}: cannot open a channel to {what}: {_reason(err)}"
            ) from None

    def open_unix_stream(self, path: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        try:
            return self._channel(path, lambda t: streams.open_streamlocal(t, path, timeout))
        except paramiko.ChannelException:
            raise StreamRefused(f"{self.name}: {self._why_unix_refused(path, timeout)}") from None

    def _why_unix_refused(self, path: str, timeout: float) -> str:
        """sshd says only 'open failed': ask the host what is at path (one command)."""
        probe = self.run(UNIX_PROBE.format(p=shlex.quote(path)), timeout=timeout)
        answer = probe.stdout.strip() if probe.ok else "refused"
        reason = UNIX_REASONS.get(answer, UNIX_REASONS["refused"])
        return reason.format(path=path, user=self._fab.user)

    def open_tcp_stream(
        self, port: int, *, host: str = "127.0.0.1", timeout: float = STREAM_TIMEOUT_S
    ) -> Stream:
        try:
            return self._channel(
                f"{host}:{port}", lambda t: streams.open_direct_tcpip(t, host, port, timeout)
            )
        except paramiko.ChannelException as err:
            if err.code == ADMIN_PROHIBITED:
                why = f"sshd forbids TCP forwarding to {host}:{port} (AllowTcpForwarding)"
            else:
                why = f"nothing accepts connections on {host}:{port} on the host ({err.text})"
            raise StreamRefused(f"{self.name}: {why}") from None

    def open_command_stream(self, command: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        try:
            return self._channel(command, lambda t: streams.open_exec(t, command, timeout))
        except paramiko.ChannelException as err:
            raise StreamRefused(f"{self.name}: sshd refused a session: {err.text}") from None

    # files ----------------------------------------------------------------------------

    def put_file(
        self,
        local_path: Path,
        remote_path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        """Stream local_path to remote_path over SFTP on this connection, atomically."""
        if become and self.spec.become_user not in (None, "root"):
            # Another become user cannot read the login user's private temp file.
            super().put_file(local_path, remote_path, mode=mode, become=become)
            return
        local = Path(local_path)
        if not local.is_file():
            raise TaskError(f"cannot copy {local}: no such file on the controller")
        if not become:
            wanted = mode if mode is not None else sftp.PRIVATE
            self._sftp(remote_path, lambda c: sftp.put_atomic(c, local, remote_path, wanted))
            return
        made = self.run("umask 077 && mktemp /tmp/fleetkit-put.XXXXXXXX")
        staged = made.stdout.strip()
        if not made.ok or not staged:
            raise TaskError(f"cannot write {remote_path}: mktemp: {made.stderr.strip()}")
        try:
            with open(local, "rb") as src:
                self._sftp(remote_path, lambda c: sftp.upload(c, src, staged, sftp.PRIVATE))
        except BaseException:
            with contextlib.suppress(ConnectionError):
                self.run(f"rm -f {shlex.quote(staged)}")
            raise
        result = self.run(sftp.install_script(staged, remote_path, mode), become=True)
        if not result.ok:
            why = result.stderr.strip() or f"rc={result.rc}"
            raise TaskError(f"cannot write {remote_path}: {why}")

    def _sftp(self, remote_path: str, work: Callable[[paramiko.SFTPClient], object]) -> None:
        """Run work on an SFTP session of this connection; map its failures."""
        transport = self._transport()
        try:
            client = paramiko.SFTPClient.from_transport(transport)
            if client is None:
                raise paramiko.SSHException("sshd refused the sftp subsystem")
            with client:
                work(client)
        except (paramiko.SSHException, EOFError) as err:
            if not self.is_open:
                self.close()
                raise ConnectionError(f"{self.name}: connection lost: {_reason(err)}") from None
            raise TaskError(f"cannot write {remote_path}: sftp: {_reason(err)}") from None
        except OSError as err:
            if not self.is_open:
                self.close()
                raise ConnectionError(f"{self.name}: connection lost: {_reason(err)}") from None
            raise TaskError(f"cannot write {remote_path}: {err.strerror or _reason(err)}") from None

    def _close_hops(self) -> None:
        """Close the host's client and those of Fabric's ProxyJump hops (a refused hop's
        transport is left running by paramiko)."""
        self._fab.client.close()
        for hop in self._hops:
            hop.client.close()

    def close(self) -> None:
        _wake(self._fab.client.get_transport())
        self._fab.close()
        for hop in self._hops:
            hop.close()
