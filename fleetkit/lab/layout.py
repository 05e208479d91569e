"""Names, addresses and paths of the lab: pure functions, nothing touched.

Everything the lab creates is named here, so `lab down` can find leftovers by
name even without a state file (netns `fleetkit-*`, veths `fkv-*`, bridge fkbr0).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from fleetkit.errors import LabError

STATE_ROOT = Path("/var/lib/fleetkit")
STATE_DIR = STATE_ROOT / "lab"
NETNS_DIR = Path("/run/netns")

BRIDGE = "fkbr0"
BRIDGE_ADDRESS = ipaddress.IPv4Address("198.18.0.1")
LAB_NETWORK = ipaddress.IPv4Network("198.18.0.0/15")
NETNS_PREFIX = "fleetkit-"
VETH_PREFIX = "fkv-"
HOST_PREFIX = "lab"
LAB_USER = "fleet"
REGISTRY_PORT = 5000
IPTABLES_COMMENT = "fleetkit-lab"

# Usable host addresses per /24: .1 .. .254 (never .0 or .255 in any /24).
_PER_24 = 254
MAX_HOSTS = (LAB_NETWORK.num_addresses // 256) * _PER_24 - 1  # .1 of the first /24 is the bridge


@dataclass(frozen=True)
class LabPaths:
    """Where the lab keeps its machine-wide state (one lab per machine)."""

    state_dir: Path = STATE_DIR

    @property
    def root(self) -> Path:
        """/var/lib/fleetkit: holds the state dir and the lock file."""
        return self.state_dir.parent

    @property
    def state_file(self) -> Path:
        """The record of what `lab up` made."""
        return self.state_dir / "state.json"

    @property
    def lock_file(self) -> Path:
        """Serialises `lab up` and `lab down` (outside the state dir, which down removes)."""
        return self.root / ".lab.lock"

    @property
    def secret_dir(self) -> Path:
        """A tmpfs of its own on the machine, detached in every host's mount namespace.

        Being another filesystem, it shows as an empty folder through a host's /var
        overlay (overlayfs does not cross a lower layer's mounts), whatever a host's
        root unmounts (issue 12).
        """
        return self.state_dir / "secret"

    @property
    def key(self) -> Path:
        """The lab client's private key (0600); the .pub beside it."""
        return self.secret_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        """Host keys of every lab host by address (plain, not hashed)."""
        return self.state_dir / "known_hosts"

    @property
    def ns_dir(self) -> Path:
        """A private bind mount holding the per-host mount, UTS and PID namespace files."""
        return self.state_dir / "ns"

    @property
    def hosts_dir(self) -> Path:
        """Per-host folders: upper/work dirs, docker data, daemon logs."""
        return self.state_dir / "hosts"

    @property
    def registry_dir(self) -> Path:
        """The lab registry's config, storage and log."""
        return self.state_dir / "registry"

    def host_dir(self, name: str) -> Path:
        """One host's folder."""
        return self.hosts_dir / name

    def mnt_ns(self, name: str) -> Path:
        """The file a host's mount namespace is bound to."""
        return self.ns_dir / f"{name}.mnt"

    def uts_ns(self, name: str) -> Path:
        """The file a host's UTS namespace is bound to."""
        return self.ns_dir / f"{name}.uts"

    def pid_ns(self, name: str) -> Path:
        """The file a host's PID namespace is bound to (alive while the host's init runs)."""
        return self.ns_dir / f"{name}.pid"


@dataclass(frozen=True)
class HostSpec:
    """The fixed identity of lab host number `index` (1-based)."""

    index: int
    name: str
    address: str
    netns: str
    veth: str

    @property
    def netns_path(self) -> Path:
        """The file `ip netns add` bound the host's network namespace to."""
        return NETNS_DIR / self.netns


def host_address(index: int) -> ipaddress.IPv4Address:
    """Address of host `index` (1-based): 198.18.0.2 ... .254, then 198.18.1.1 ... ."""
    if not 1 <= index <= MAX_HOSTS:
        raise LabError(f"a lab has 1 to {MAX_HOSTS} hosts, not {index}")
    third, fourth = divmod(index, _PER_24)
    return LAB_NETWORK.network_address + third * 256 + fourth + 1


def host_spec(index: int) -> HostSpec:
    """Name, address, netns and veth name of host `index` (1-based)."""
    name = f"{HOST_PREFIX}{index}"
    veth = f"{VETH_PREFIX}{name}"
    assert len(veth) <= 15, veth  # IFNAMSIZ - 1
    return HostSpec(
        index=index,
        name=name,
        address=str(host_address(index)),
        netns=f"{NETNS_PREFIX}{name}",
        veth=veth,
    )


def host_specs(count: int) -> tuple[HostSpec, ...]:
    """Specs of hosts lab1..labN."""
    if count < 1:
        raise LabError(f"a lab needs at least one host, not {count}")
    host_address(count)  # range check with a clear message
    return tuple(host_spec(i) for i in range(1, count + 1))


def manager_count(count: int) -> int:
    """How many of the first hosts are managers: 1, or 3 from 5 hosts up."""
    return 3 if count >= 5 else 1


def registry_address() -> str:
    """The lab registry, on the bridge address (reachable from every host)."""
    return f"{BRIDGE_ADDRESS}:{REGISTRY_PORT}"
