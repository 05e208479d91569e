"""Host key checking: verify against known_hosts by default, or accept-new.

Paramiko's own policies either accept everything silently (AutoAddPolicy, Fabric's
default) or reject with a bare message. These say what happened and how to fix
it, and accept-new appends to the known_hosts file under a lock shared by the
run, so parallel first connections do not overwrite each other's entries.

As OpenSSH does, every UserKnownHostsFile and GlobalKnownHostsFile is read (see
`known_hosts_files`): a key any of them holds for a host is what that host must
present, and accept-new records a host only when none of them knows it, in the
first user file (global files are never written).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import paramiko

from fleetkit.errors import HostKeyError


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style 'ssh-ed25519 SHA256:...' fingerprint of a key."""
    return f"{key.get_name()} {key.fingerprint}"


def known_hosts_name(address: str, port: int) -> str:
    """The name a host is filed under in known_hosts ('[addr]:port' off port 22)."""
    return address if port == 22 else f"[{address}]:{port}"


DEFAULT_USER_KNOWN_HOSTS = "~/.ssh/known_hosts ~/.ssh/known_hosts2"
DEFAULT_GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"


def _paths(value: str) -> tuple[Path, ...]:
    """ssh_config's whitespace-separated file list; 'none' is no file at all."""
    names = value.split()
    if names == ["none"]:
        return ()
    return tuple(Path(name).expanduser() for name in names)


def known_hosts_files(
    ssh_config: Mapping[str, Any], override: str | None
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(user files, global files) one host's keys are checked against, as OpenSSH reads them.

    `override` (the inventory's known_hosts) replaces the user files, as
    `-o UserKnownHostsFile=` does; the global files still apply.
    """
    if override:
        user: tuple[Path, ...] = (Path(override).expanduser(),)
    else:
        user = _paths(str(ssh_config.get("userknownhostsfile", DEFAULT_USER_KNOWN_HOSTS)))
    glob = _paths(str(ssh_config.get("globalknownhostsfile", DEFAULT_GLOBAL_KNOWN_HOSTS)))
    return user, glob


def _keyscan_target(hostname: str) -> str:
    """'[a]:2222' -> '-p 2222 a'; 'a' -> 'a' (ssh-keyscan's arguments for that entry)."""
    if hostname.startswith("[") and "]:" in hostname:
        address, port = hostname[1:].split("]:", 1)
        return f"-p {port} {address}"
    return hostname


def _load(keys: paramiko.HostKeys, path: Path) -> None:
    """keys.load, minus the lines paramiko cannot read: `@cert-authority`/`@revoked`
    marker lines and damaged lines are skipped (paramiko raises on them)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith(("#", "@")):
                continue
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
            except (paramiko.SSHException, paramiko.hostkeys.InvalidHostKey):
                continue
            if entry is not None and entry.key is not None:
                for name in entry.hostnames:
                    keys.add(name, entry.key.get_name(), entry.key)


class KnownHostsStore:
    """One known_hosts file shared by all connections of a run.

    The file is parsed once per run (not once per host: with N hosts that would
    be N*N key parses) and each connection gets just its host's entries;
    appends (accept-new) are locked.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: paramiko.HostKeys | None = None

    def _parsed(self) -> paramiko.HostKeys:
        with self._lock:
            if self._keys is None:
                keys = paramiko.HostKeys()
                try:
                    _load(keys, self.path)
                except FileNotFoundError:
                    pass  # a missing file knows no host (OpenSSH skips it too)
                except OSError as err:
                    raise HostKeyError(
                        f"cannot read known_hosts file {self.path}: {err.strerror or err}"
                    ) from None
                self._keys = keys
            return self._keys

    def install(self, client: paramiko.SSHClient, hostname: str) -> None:
        """Give client the known keys of hostname (as known_hosts files it: '[a]:p').

        A key type the client already has a key for (from a file read earlier) is
        kept: the first file that knows a key type decides it.
        """
        entry = self._parsed().lookup(hostname)
        if entry is None:
            return
        mine = client.get_host_keys()
        have = mine.lookup(hostname)
        known: set[str] = set(have.keys()) if have is not None else set()
        for keytype, key in entry.items():
            if keytype not in known:
                mine.add(hostname, keytype, key)

    def append(self, hostname: str, key: paramiko.PKey) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a") as fh:
                fh.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
            if self._keys is not None:
                # A store outliving one run (the connection keeper) must know what it
                # recorded: its next connection to the host would append it again.
                self._keys.add(hostname, key.get_name(), key)


class KnownHostsFiles:
    """The run's known_hosts files, each parsed once and shared by every connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stores: dict[Path, KnownHostsStore] = {}

    def store(self, path: Path) -> KnownHostsStore:
        with self._lock:
            store = self._stores.get(path)
            if store is None:
                store = self._stores[path] = KnownHostsStore(path)
            return store

    def guard(
        self,
        client: paramiko.SSHClient,
        *,
        name: str,
        hostname: str,
        files: tuple[Sequence[Path], Sequence[Path]],
        policy: str,
    ) -> None:
        """Give client every key the files hold for hostname and fleetkit's policy for the rest.

        paramiko then refuses a key that differs from a known one of its type, or of
        another type when the host is known only by other types (BadHostKeyException);
        the policy sees only hosts no file knows.
        """
        user, glob = files
        stores = [self.store(path) for path in (*user, *glob)]
        for store in stores:
            store.install(client, hostname)
        first = user[0] if user else None
        if policy == "accept-new":
            record = self.store(first) if first is not None else None
            client.set_missing_host_key_policy(AcceptNewPolicy(record, name=name))
        else:
            client.set_missing_host_key_policy(
                VerifyPolicy(
                    name, first or Path("~/.ssh/known_hosts").expanduser(), searched=(*user, *glob)
                )
            )


class VerifyPolicy(paramiko.MissingHostKeyPolicy):
    """Refuse an unknown host key with a message that says how to accept it."""

    def __init__(self, host: str, known_hosts: Path, *, searched: Sequence[Path] = ()) -> None:
        self.host = host
        self.known_hosts = known_hosts  # where the hint says to add the key
        self.searched = tuple(searched) or (known_hosts,)

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise HostKeyError(
            f"{self.host}: unknown host key for {hostname} ({fingerprint(key)}),"
            f" not in {', '.join(map(str, self.searched))}",
            hint=(
                "check the fingerprint with the host's owner, then add it "
                f"(ssh-keyscan {_keyscan_target(hostname)} >> {self.known_hosts}) "
                "or set host_key_policy: accept-new for this host in the inventory"
            ),
        )


class AcceptNewPolicy(paramiko.MissingHostKeyPolicy):
    """Accept and record a host key never seen before (a changed key is still refused).

    Called only for a host no known_hosts file knows (see KnownHostsFiles.guard);
    with no user file to record it in (UserKnownHostsFile none) it refuses.
    """

    def __init__(self, store: KnownHostsStore | None, *, name: str = "") -> None:
        self.store = store
        self.name = name

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        if self.store is None:
            raise HostKeyError(
                f"{self.name}: unknown host key for {hostname} ({fingerprint(key)}) and no"
                " user known_hosts file to record it in (UserKnownHostsFile none)",
                hint="name a known_hosts file (fleetkit_known_hosts) or add the key yourself",
            )
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.store.append(hostname, key)
