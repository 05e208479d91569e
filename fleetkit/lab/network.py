"""The lab network: bridge fkbr0, one netns + veth per host, and nothing beyond.

All links are made with `ip -batch` (one process for the whole fleet). IPv6 is
disabled on lab links so no autoconfiguration traffic appears; there is no route,
NAT or masquerade anywhere: lab traffic stays between the machine and its hosts.
"""

from __future__ import annotations

import contextlib
import shlex
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from fleetkit.errors import LabError
from fleetkit.lab import mounts
from fleetkit.lab.checks import Tools
from fleetkit.lab.layout import (
    BRIDGE,
    BRIDGE_ADDRESS,
    IPTABLES_COMMENT,
    LAB_NETWORK,
    NETNS_DIR,
    NETNS_PREFIX,
    VETH_PREFIX,
    HostSpec,
)

SYS_NET = Path("/sys/class/net")


def ip_batch(tools: Tools, lines: Sequence[str], *, force: bool = False) -> None:
    """Run `ip -batch -` with lines; LabError with ip's message on failure."""
    if not lines:
        return
    args = [tools.ip, *(["-force"] if force else []), "-batch", "-"]
    proc = subprocess.run(
        args,
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 and not force:
        raise LabError(f"ip -batch failed: {proc.stderr.strip() or proc.stdout.strip()}")


def disable_ipv6(interface: str) -> None:
    """No IPv6 on a lab link in this netns (no link-local autoconfiguration traffic)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/sys/net/ipv6/conf/{interface}/disable_ipv6").write_text("1\n")


def create_bridge(tools: Tools) -> None:
    """Create fkbr0 owning 198.18.0.1/15 (no STP, forwarding at once)."""
    if (SYS_NET / BRIDGE).exists():
        raise LabError(f"bridge {BRIDGE} already exists (run `fleetkit lab down` first)")
    ip_batch(tools, [f"link add {BRIDGE} type bridge forward_delay 0 stp_state 0"])
    disable_ipv6(BRIDGE)
    ip_batch(
        tools,
        [
            f"addr add {BRIDGE_ADDRESS}/{LAB_NETWORK.prefixlen} dev {BRIDGE}",
            f"link set {BRIDGE} up",
        ],
    )


def create_host_links(tools: Tools, specs: Sequence[HostSpec]) -> None:
    """For each host: a netns and a veth pair, eth0 inside, the other end on the bridge."""
    ip_batch(
        tools,
        [
            line
            for s in specs
            for line in (
                f"netns add {s.netns}",
                f"link add {s.veth} type veth peer name eth0 netns {s.netns}",
            )
        ],
    )
    for s in specs:
        disable_ipv6(s.veth)
    ip_batch(tools, [f"link set {s.veth} master {BRIDGE} up" for s in specs])


def host_side_ip_batch(spec: HostSpec) -> str:
    """`ip -batch` lines run inside a host's netns: its address, eth0 and lo up."""
    return (
        f"addr add {spec.address}/{LAB_NETWORK.prefixlen} dev eth0\n"
        "link set eth0 up\n"
        "link set lo up\n"
    )


def lab_netns_names() -> list[str]:
    """Lab network namespaces present now (found by name prefix)."""
    try:
        return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(NETNS_PREFIX))
    except OSError:
        return []


def lab_links() -> list[str]:
    """Lab veths and the bridge present now (found by name)."""
    try:
        names = [p.name for p in SYS_NET.iterdir()]
    except OSError:
        return []
    return sorted(n for n in names if n.startswith(VETH_PREFIX) or n == BRIDGE)


def delete_network(tools: Tools, netns_names: Iterable[str]) -> None:
    """Delete lab netns, veths and the bridge (whatever of them exists); safe twice."""
    names = sorted(set(netns_names) | set(lab_netns_names()))
    ip_batch(tools, [f"netns del {n}" for n in names if (NETNS_DIR / n).exists()], force=True)
    # A netns file left unmounted (after a reboot /run/netns may survive on disk).
    for n in names:
        path = NETNS_DIR / n
        if path.exists() and not mounts.is_mountpoint(path):
            with contextlib.suppress(OSError):
                path.unlink()
    links = lab_links()
    # The bridge last: veths first leave it.
    ordered = [n for n in links if n != BRIDGE] + [n for n in links if n == BRIDGE]
    ip_batch(tools, [f"link del {n}" for n in ordered], force=True)
    _drop_empty_netns_dir()


def _drop_empty_netns_dir() -> None:
    """Remove /run/netns when no namespace is left in it (ip made it for the lab)."""
    try:
        if any(NETNS_DIR.iterdir()):
            return
    except OSError:
        return
    with contextlib.suppress(OSError):
        if mounts.is_mountpoint(NETNS_DIR):
            mounts.umount(NETNS_DIR, detach=True)
        NETNS_DIR.rmdir()


# --- iptables: only an allowance for the bridge, never NAT or routes -------------------


def _rule(chain: str) -> tuple[str, ...]:
    return (
        chain, "-i", BRIDGE, "-o", BRIDGE,
        "-m", "comment", "--comment", IPTABLES_COMMENT, "-j", "ACCEPT",
    )  # fmt: skip


def _iptables(tools: Tools, *args: str) -> subprocess.CompletedProcess[str]:
    assert tools.iptables is not None
    return subprocess.run(
        [tools.iptables, "-w", "5", *args], capture_output=True, text=True, check=False
    )


def allow_bridge_forwarding(tools: Tools) -> tuple[tuple[str, ...], ...]:
    """Let bridged lab traffic pass when a dockerd on the machine set FORWARD to DROP.

    Adds one ACCEPT rule in DOCKER-USER if that chain exists (else in FORWARD if its
    policy is DROP) and returns the rules added, for `lab down` to remove.
    """
    if tools.iptables is None:
        return ()
    if _iptables(tools, "-n", "-L", "DOCKER-USER").returncode == 0:
        chain = "DOCKER-USER"
    else:
        listing = _iptables(tools, "-S", "FORWARD")
        if listing.returncode != 0 or "-P FORWARD DROP" not in listing.stdout:
            return ()
        chain = "FORWARD"
    rule = _rule(chain)
    if _iptables(tools, "-C", *rule).returncode == 0:
        return ()
    proc = _iptables(tools, "-I", *rule)
    if proc.returncode != 0:
        raise LabError(f"iptables -I {' '.join(rule)} failed: {proc.stderr.strip()}")
    return (rule,)


def remove_iptables_rules(tools: Tools, rules: Iterable[Sequence[str]]) -> None:
    """Delete the recorded rules and any other rule tagged with the lab's comment."""
    if tools.iptables is None:
        return
    for rule in rules:
        while _iptables(tools, "-D", *rule).returncode == 0:
            pass
    listing = _iptables(tools, "-S")
    if listing.returncode != 0:
        return
    for line in listing.stdout.splitlines():
        if IPTABLES_COMMENT in line and line.startswith("-A "):
            args = shlex.split(line)[1:]
            _iptables(tools, "-D", *args)
