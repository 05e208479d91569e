"""Host key checking: verify against known_hosts by default, or accept-new.

Paramiko's own policies either accept everything silently (AutoAddPolicy, Fabric's
default) or reject with a bare message. These say what happened and how to fix
it, and accept-new appends to the known_hosts file under a lock shared by the
run, so parallel first connections do not overwrite each other's entries.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import paramiko

from fleetkit.errors import HostKeyError


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style 'ssh-ed25519 SHA256:...' fingerprint of a key."""
    return f"{key.get_name()} {key.fingerprint}"


def known_hosts_name(address: str, port: int) -> str:
    """The name a host is filed under in known_hosts ('[addr]:port' off port 22)."""
    return address if port == 22 else f"[{address}]:{port}"


def _keyscan_target(hostname: str) -> str:
    """'[a]:2222' -> '-p 2222 a'; 'a' -> 'a' (ssh-keyscan's arguments for that entry)."""
    if hostname.startswith("[") and "]:" in hostname:
        address, port = hostname[1:].split("]:", 1)
        return f"-p {port} {address}"
    return hostname


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
                if self.path.exists():
                    keys.load(str(self.path))
                self._keys = keys
            return self._keys

    def install(self, client: paramiko.SSHClient, hostname: str) -> None:
        """Give client the known keys of hostname (as known_hosts files it: '[a]:p')."""
        entry = self._parsed().lookup(hostname)
        if entry is None:
            return
        mine = client.get_host_keys()
        for keytype, key in entry.items():
            mine.add(hostname, keytype, key)

    def append(self, hostname: str, key: paramiko.PKey) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a") as fh:
                fh.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


class VerifyPolicy(paramiko.MissingHostKeyPolicy):
    """Refuse an unknown host key with a message that says how to accept it."""

    def __init__(self, host: str, known_hosts: Path) -> None:
        self.host = host
        self.known_hosts = known_hosts

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise HostKeyError(
            f"{self.host}: unknown host key for {hostname} ({fingerprint(key)}),"
            f" not in {self.known_hosts}",
            hint=(
                "check the fingerprint with the host's owner, then add it "
                f"(ssh-keyscan {_keyscan_target(hostname)} >> {self.known_hosts}) "
                "or set host_key_policy: accept-new for this host in the inventory"
            ),
        )


class AcceptNewPolicy(paramiko.MissingHostKeyPolicy):
    """Accept and record a host key never seen before (a changed key is still refused)."""

    def __init__(self, store: KnownHostsStore) -> None:
        self.store = store

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.store.append(hostname, key)
