"""How to reach a host: fleetkit's connection variables, Ansible names accepted.

Inventory vars (merged, extra vars on top) become a frozen ConnectionSpec, each
value checked before any host is touched: a port is 1..65535, connect_timeout a
finite number above 0, jump `[user@]host[:port]`. The Ansible aliases let an
existing inventory work unchanged; when both names are set, fleetkit's own name
wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetkit.errors import InventoryError

# fleetkit name -> accepted aliases (first match wins after the fleetkit name)
ALIASES: dict[str, tuple[str, ...]] = {
    "address": ("ansible_host", "ansible_ssh_host"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "ssh_key": ("ansible_ssh_private_key_file", "ansible_private_key_file"),
    "ssh_known_hosts": (),
    "host_key_policy": (),
    "jump": (),
    "become": ("ansible_become",),
    "become_user": ("ansible_become_user",),
    "connect_timeout": ("ansible_ssh_timeout", "ansible_timeout"),
    "connection": ("ansible_connection",),
    "ssh_common_args": ("ansible_ssh_common_args",),
}

HOST_KEY_POLICIES = ("verify", "accept-new")
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def with_canonical_names(layer: Mapping[str, Any]) -> dict[str, Any]:
    """One variable layer with each Ansible alias also set under fleetkit's name.

    Applied to every precedence layer before merging, so an alias set on a host
    beats fleetkit's name set on a group (the more specific level wins, whichever
    spelling it uses). Within one layer fleetkit's own name wins.
    """
    out = dict(layer)
    for name, aliases in ALIASES.items():
        if name in layer:
            continue
        for alias in aliases:
            if layer.get(alias) is not None:
                out[name] = layer[alias]
                break
    return out


def lookup(hostvars: Mapping[str, Any], name: str) -> Any:
    """The value of a connection variable by fleetkit name or any alias, else None."""
    if hostvars.get(name) is not None:
        return hostvars[name]
    for alias in ALIASES.get(name, ()):
        if hostvars.get(alias) is not None:
            return hostvars[alias]
    return None


def parse_jump(jump: str, host: str | None = None) -> tuple[str | None, str, int | None]:
    """'user@host:port' -> (user, host, port); user and port optional.

    Malformed values (no host, a port that is not 1..65535, text after `[addr]`)
    are InventoryErrors naming the variable and, when given, the host.
    """
    where = f"host {host}: " if host else ""

    def bad(why: str) -> InventoryError:
        return InventoryError(
            f"{where}jump {jump!r}: {why}", hint="jump is a bastion: [user@]host[:port]"
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
    return user, host_part, None if port_s is None else _port(port_s, f"{where}jump {jump!r}")


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
    """connect_timeout in seconds: a finite number above 0 (0, -1 or NaN would mean none)."""
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InventoryError(
            f"host {host}: connect_timeout must be a number of seconds above 0, got {raw!r}"
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

        Extra vars are a precedence layer of their own: an Ansible alias given
        with -e (`-e ansible_user=root`) beats fleetkit's name from the inventory.
        """
        merged = {**hostvars, **with_canonical_names(extra)} if extra else hostvars
        return cls.from_vars(name, merged)

    @classmethod
    def from_vars(cls, name: str, hostvars: Mapping[str, Any]) -> ConnectionSpec:
        """Build a spec from a host's merged variables; bad values are InventoryErrors."""
        address = str(lookup(hostvars, "address") or name)
        port_raw = lookup(hostvars, "port")
        port = _port(port_raw, f"host {name}") if port_raw is not None else None
        policy = str(lookup(hostvars, "host_key_policy") or "verify")
        if policy not in HOST_KEY_POLICIES:
            raise InventoryError(
                f"host {name}: host_key_policy must be one of {', '.join(HOST_KEY_POLICIES)},"
                f" got {policy!r}",
                hint="fleetkit never accepts every host key silently",
            )
        timeout_raw = lookup(hostvars, "connect_timeout")
        timeout = _timeout(timeout_raw, name) if timeout_raw is not None else 10.0
        connection = str(lookup(hostvars, "connection") or "ssh")
        if connection not in ("ssh", "local", "paramiko", "smart"):
            raise InventoryError(
                f"host {name}: connection {connection!r} is not supported (ssh or local)"
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
