"""How to reach a host: Ansible's connection variables, and fleetkit_* for the rest.

Inventory vars (merged, extra vars on top) become a frozen ConnectionSpec, each
value checked before any host is touched: a port is 1..65535, the connect
timeout a finite number above 0, a jump host `[user@]host[:port]`.

Connection settings come only from Ansible's names (`ansible_host`,
`ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`,
`ansible_connection`, `ansible_become`, `ansible_become_user`,
`ansible_ssh_timeout`, `ansible_ssh_common_args`/`ansible_ssh_extra_args` for
`-o UserKnownHostsFile=`, `-o StrictHostKeyChecking=accept-new`, `-J`/`-o
ProxyJump=`), and fleetkit's own settings without an Ansible name from
`fleetkit_known_hosts`, `fleetkit_host_key_policy` and `fleetkit_jump`. A
variable called `address`, `port` or `user` is the user's own (a database
port, a service user) and never a connection setting: fleetkit's old short
names earn one load-time warning (legacy_warning) when no Ansible name is set.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetkit.errors import InventoryError

# setting -> the variable names that set it, first match wins
NAMES: dict[str, tuple[str, ...]] = {
    "address": ("ansible_host", "ansible_ssh_host"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "ssh_key": ("ansible_ssh_private_key_file", "ansible_private_key_file"),
    "ssh_known_hosts": ("fleetkit_known_hosts",),
    "host_key_policy": ("fleetkit_host_key_policy",),
    "jump": ("fleetkit_jump",),
    "become": ("ansible_become",),
    "become_user": ("ansible_become_user",),
    "connect_timeout": ("ansible_ssh_timeout", "ansible_timeout"),
    "connection": ("ansible_connection",),
    "ssh_common_args": ("ansible_ssh_common_args",),
}
SSH_ARGS = ("ansible_ssh_common_args", "ansible_ssh_extra_args")
# ssh -o options that carry a setting fleetkit honours
_SSH_OPTIONS = {
    "userknownhostsfile": "ssh_known_hosts",
    "stricthostkeychecking": "host_key_policy",
    "proxyjump": "jump",
}
# fleetkit's names before 2026-12 (issue 16); now plain user variables
LEGACY_NAMES: dict[str, str] = {
    "address": "ansible_host",
    "port": "ansible_port",
    "user": "ansible_user",
    "ssh_key": "ansible_ssh_private_key_file",
    "ssh_known_hosts": "fleetkit_known_hosts",
    "host_key_policy": "fleetkit_host_key_policy",
    "jump": "fleetkit_jump",
    "connect_timeout": "ansible_ssh_timeout",
    "become_user": "ansible_become_user",
    "become": "ansible_become",
    "connection": "ansible_connection",
}

HOST_KEY_POLICIES = ("verify", "accept-new")
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def lookup(hostvars: Mapping[str, Any], name: str) -> Any:
    """The value of a connection setting from its Ansible (or fleetkit_) names, else None.

    The known_hosts file, host key policy and jump host may also come from
    `-o` options in ansible_ssh_common_args / ansible_ssh_extra_args.
    """
    for var in NAMES.get(name, ()):
        if hostvars.get(var) is not None:
            return hostvars[var]
    if name in _SSH_OPTIONS.values():
        return _from_ssh_args(hostvars, name)
    return None


def _from_ssh_args(hostvars: Mapping[str, Any], name: str) -> Any:
    for var in SSH_ARGS:
        raw = hostvars.get(var)
        if not isinstance(raw, str) or not raw.strip():
            continue
        try:
            words = shlex.split(raw)
        except ValueError:
            continue
        for index, word in enumerate(words):
            value = None
            if word == "-J" and name == "jump" and index + 1 < len(words):
                value = words[index + 1]
            elif word.startswith("-o") and "=" in word:
                option = word[2:] or ""
                key, _, value = option.partition("=")
                if _SSH_OPTIONS.get(key.strip().lower()) != name:
                    value = None
            elif word == "-o" and index + 1 < len(words) and "=" in words[index + 1]:
                key, _, value = words[index + 1].partition("=")
                if _SSH_OPTIONS.get(key.strip().lower()) != name:
                    value = None
            if value:
                if name == "host_key_policy":
                    return "accept-new" if value.lower() == "accept-new" else "verify"
                return value
    return None


def legacy_warning(hosts: Mapping[str, Mapping[str, Any]]) -> str | None:
    """One warning naming fleetkit's old short names an inventory sets, or None.

    A host counts when it sets an old name and not the setting's Ansible (or
    fleetkit_) name: those values are plain variables now, and a user of
    fleetkit's old format learns the rename once instead of connecting wrongly.
    """
    seen: dict[str, int] = {}
    for hostvars in hosts.values():
        for old in LEGACY_NAMES:
            if old in hostvars and lookup(hostvars, old) is None:
                seen[old] = seen.get(old, 0) + 1
    if not seen:
        return None
    renames = ", ".join(f"{old} -> {LEGACY_NAMES[old]}" for old in seen)
    return (
        f"inventory sets {', '.join(sorted(seen))} without Ansible's names: fleetkit reads"
        f" connection settings only from Ansible's names now, so these are plain variables;"
        f" if they were meant for the connection, rename them ({renames})"
    )


def parse_jump(jump: str, host: str | None = None) -> tuple[str | None, str, int | None]:
    """'user@host:port' -> (user, host, port); user and port optional.

    Malformed values (no host, a port that is not 1..65535, text after `[addr]`)
    are InventoryErrors naming the variable and, when given, the host.
    """
    where = f"host {host}: " if host else ""

    def bad(why: str) -> InventoryError:
        return InventoryError(
            f"{where}fleetkit_jump {jump!r}: {why}",
            hint="fleetkit_jump is a bastion: [user@]host[:port]",
        )

    user: str | None = None
    rest = jump.strip()
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
        if not user:
            raise bad("empty user before '@'")
    port_s: str | None = None
    if rest.startswith("["):
        host_part, closed, tail = rest[1:].partition("]")
        if not closed or (tail and not tail.startswith(":")):
            raise bad("expected [address]:port")
        port_s = tail[1:] if tail else None
    elif rest.count(":") == 1:
        host_part, port_s = rest.split(":")
    else:
        host_part = rest
    if not host_part or any(c.isspace() for c in host_part):
        raise bad("expected user@host:port")
    return (
        user,
        host_part,
        None if port_s is None else _port(port_s, f"{where}fleetkit_jump {jump!r}"),
    )


def _port(raw: Any, what: str) -> int:
    """A TCP port, 1..65535; anything else (99999 would wrap, -1 means nothing) is refused."""
    text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
    if isinstance(raw, bool) or not (text.isascii() and text.isdigit()) or len(text) > 5:
        raise InventoryError(f"{what}: port must be a number from 1 to 65535, got {raw!r}")
    port = int(text)
    if not 0 < port < 65536:
        raise InventoryError(f"{what}: port must be a number from 1 to 65535, got {raw!r}")
    return port


def _timeout(raw: Any, host: str) -> float:
    """ansible_ssh_timeout in seconds: a finite number above 0 (0, -1 or NaN would mean none)."""
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InventoryError(
            f"host {host}: ansible_ssh_timeout must be a number of seconds above 0, got {raw!r}"
        )
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "yes", "true", "on", "y")


@dataclass(frozen=True)
class ConnectionSpec:
    """Everything needed to open one host's connection (no secrets printed in repr)."""

    name: str
    address: str
    port: int | None = None
    user: str | None = None
    ssh_key: str | None = None
    known_hosts: str | None = None
    host_key_policy: str = "verify"
    jump: str | None = None
    become: bool = False
    become_user: str | None = None
    connect_timeout: float = 10.0
    local: bool = False

    @classmethod
    def for_host(
        cls, name: str, hostvars: Mapping[str, Any], extra: Mapping[str, Any] | None = None
    ) -> ConnectionSpec:
        """A host's spec from its merged inventory vars with extra vars (-e) on top.

        Extra vars are the highest layer: `-e ansible_user=root` beats the inventory.
        """
        merged = {**hostvars, **extra} if extra else hostvars
        return cls.from_vars(name, merged)

    @classmethod
    def from_vars(cls, name: str, hostvars: Mapping[str, Any]) -> ConnectionSpec:
        """Build a spec from a host's merged variables; bad values are InventoryErrors."""
        address = str(lookup(hostvars, "address") or name)
        port_raw = lookup(hostvars, "port")
        port = _port(port_raw, f"host {name}: ansible_port") if port_raw is not None else None
        policy = str(lookup(hostvars, "host_key_policy") or "verify")
        if policy not in HOST_KEY_POLICIES:
            raise InventoryError(
                f"host {name}: fleetkit_host_key_policy must be one of"
                f" {', '.join(HOST_KEY_POLICIES)},"
                f" got {policy!r}",
                hint="fleetkit never accepts every host key silently",
            )
        timeout_raw = lookup(hostvars, "connect_timeout")
        timeout = _timeout(timeout_raw, name) if timeout_raw is not None else 10.0
        connection = str(lookup(hostvars, "connection") or "ssh")
        if connection not in ("ssh", "local", "paramiko", "smart"):
            raise InventoryError(
                f"host {name}: ansible_connection {connection!r} is not supported (ssh or local)"
            )
        key = lookup(hostvars, "ssh_key")
        known = lookup(hostvars, "ssh_known_hosts")
        jump = lookup(hostvars, "jump")
        if jump is not None:
            parse_jump(str(jump), name)  # malformed: an error now, not at connect time
        user = lookup(hostvars, "user")
        become_user = lookup(hostvars, "become_user")
        return cls(
            name=name,
            address=address,
            port=port,
            user=str(user) if user is not None else None,
            ssh_key=str(key) if key is not None else None,
            known_hosts=str(known) if known is not None else None,
            host_key_policy=policy,
            jump=str(jump) if jump is not None else None,
            become=_bool(lookup(hostvars, "become") or False),
            become_user=str(become_user) if become_user is not None else None,
            connect_timeout=timeout,
            local=connection == "local",
        )
