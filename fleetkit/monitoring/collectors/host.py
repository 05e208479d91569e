"""Parsers for a Linux host's /proc files, df output and os-release.

Each parser takes text as the host printed it and returns plain values; lines it
cannot read are skipped and described in `warnings` (when given), so a host that
prints garbage still yields whatever could be read, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fleetkit.monitoring.snapshot import CPU_MODES, Filesystem, NetDevice

USER_HZ = 100  # /proc/stat ticks per second on every mainstream Linux (as node_exporter)

# Pseudo and read-only image filesystems that never fill (node_exporter's default list).
IGNORED_FSTYPES: frozenset[str] = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "fusectl",
        "hugetlbfs",
        "iso9660",
        "mqueue",
        "nsfs",
        "proc",
        "procfs",
        "pstore",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "squashfs",
        "erofs",
        "sysfs",
        "tracefs",
    }
)
# Mount points of the kernel's and of container runtimes' internals.
IGNORED_MOUNTS = re.compile(
    r"^/(dev|proc|sys|run/credentials/.+|run/docker/.+|run/containerd/.+|run/k3s/.+"
    r"|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/.+)($|/)"
)
# Interfaces whose counters are noise or churn (container veth ends come and go).
IGNORED_NET_DEVICES = re.compile(r"^(lo|veth.*)$")

_OCTAL = re.compile(r"\\([0-7]{3})")


def _warn(warnings: list[str] | None, message: str) -> None:
    if warnings is not None:
        warnings.append(message)


def parse_loadavg(text: str) -> tuple[float, float, float]:
    """/proc/loadavg -> (load1, load5, load15). ValueError when unreadable."""
    fields = text.split()
    if len(fields) < 3:
        raise ValueError(f"loadavg: expected 3 numbers, got {text.strip()[:60]!r}")
    return float(fields[0]), float(fields[1]), float(fields[2])


def parse_uptime(text: str) -> float:
    """/proc/uptime -> seconds since boot. ValueError when unreadable."""
    fields = text.split()
    if not fields:
        raise ValueError("uptime: empty")
    return float(fields[0])


@dataclass(frozen=True)
class CpuStat:
    """What /proc/stat tells: aggregate CPU seconds per mode, CPU count, boot time."""

    seconds: Mapping[str, float]
    cpus: int | None
    boot_time: float | None


def parse_stat(text: str, warnings: list[str] | None = None) -> CpuStat:
    """/proc/stat -> CpuStat; per-CPU lines (when present) give the CPU count."""
    seconds: dict[str, float] = {}
    cpus = 0
    boot_time: float | None = None
    for line in text.splitlines():
        if line.startswith("cpu "):
            values = line.split()[1:]
            try:
                for mode, ticks in zip(CPU_MODES, values, strict=False):
                    seconds[mode] = int(ticks) / USER_HZ
            except ValueError:
                _warn(warnings, f"stat: unreadable cpu line {line[:60]!r}")
                seconds.clear()
        elif line.startswith("cpu") and line[3:4].isdigit():
            cpus += 1
        elif line.startswith("btime"):
            try:
                boot_time = float(line.split()[1])
            except (IndexError, ValueError):
                _warn(warnings, f"stat: unreadable btime line {line[:60]!r}")
    return CpuStat(seconds=seconds, cpus=cpus or None, boot_time=boot_time)


def parse_cpu_list(text: str) -> int:
    """A kernel CPU list ('0-3,5,7-9', as in /sys/devices/system/cpu/online) -> count."""
    count = 0
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        count += (int(hi) - int(lo) + 1) if hi else 1
    if count <= 0:
        raise ValueError(f"cpu list: nothing in {text.strip()[:60]!r}")
    return count


def parse_meminfo(text: str, warnings: list[str] | None = None) -> dict[str, int]:
    """/proc/meminfo -> {field: bytes} (kB values converted; counts kept as they are)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep:
            if line.strip():
                _warn(warnings, f"meminfo: unreadable line {line[:60]!r}")
            continue
        fields = rest.split()
        try:
            value = int(fields[0])
        except (IndexError, ValueError):
            _warn(warnings, f"meminfo: unreadable line {line[:60]!r}")
            continue
        out[name.strip()] = value * 1024 if fields[1:2] == ["kB"] else value
    return out


def memory_available(meminfo: Mapping[str, int]) -> int | None:
    """MemAvailable, or the pre-3.14 kernel estimate MemFree + Buffers + Cached."""
    if "MemAvailable" in meminfo:
        return meminfo["MemAvailable"]
    parts = [meminfo.get(k) for k in ("MemFree", "Buffers", "Cached")]
    if any(p is None for p in parts):
        return None
    return sum(p for p in parts if p is not None)


def parse_net_dev(text: str, warnings: list[str] | None = None) -> tuple[NetDevice, ...]:
    """/proc/net/dev -> per-interface byte counters (loopback and veth* left out)."""
    out: list[NetDevice] = []
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep or "|" in line:
            continue  # the two header lines
        device = name.strip()
        fields = rest.split()
        try:
            rx, tx = int(fields[0]), int(fields[8])
        except (IndexError, ValueError):
            _warn(warnings, f"net/dev: unreadable line {line[:60]!r}")
            continue
        if device and not IGNORED_NET_DEVICES.match(device):
            out.append(NetDevice(device, rx, tx))
    return tuple(out)


def unescape_mount(field: str) -> str:
    r"""A /proc/mounts field with its octal escapes (\040 space, \011 tab ...) decoded."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


@dataclass(frozen=True)
class Mount:
    """One line of /proc/mounts, decoded."""

    device: str
    mountpoint: str
    fstype: str
    options: str


def parse_mounts(text: str, warnings: list[str] | None = None) -> tuple[Mount, ...]:
    """/proc/mounts -> mounts in mount order, escapes decoded."""
    out: list[Mount] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            if line.strip():
                _warn(warnings, f"mounts: unreadable line {line[:60]!r}")
            continue
        device, mountpoint, fstype, options = (unescape_mount(f) for f in fields[:4])
        out.append(Mount(device, mountpoint, fstype, options))
    return tuple(out)


_DF_LINE = re.compile(
    r"^(?P<dev>.*?)\s+(?P<size>\d+)\s+\d+\s+(?P<avail>\d+)\s+(?:\d+%|-)\s(?P<mp>.*)$"
)


def parse_df(text: str, warnings: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """`df -P -B1` output -> {mountpoint: (size bytes, available bytes)}.

    The mount point is everything after the capacity column, so spaces in it
    are kept; the header and unreadable lines are skipped.
    """
    out: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("Filesystem"):
            continue
        m = _DF_LINE.match(line)
        if m is None:
            _warn(warnings, f"df: unreadable line {line[:80]!r}")
            continue
        out[m.group("mp")] = (int(m.group("size")), int(m.group("avail")))
    return out


def df_quoted(path: str) -> str:
    """path as GNU df prints it: control characters (a tab, a newline) shown as '?'."""
    return "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in path)


def is_real_mount(mount: Mount) -> bool:
    """True for filesystems worth watching (not pseudo, not a container runtime's)."""
    return mount.fstype not in IGNORED_FSTYPES and not IGNORED_MOUNTS.match(mount.mountpoint)


def filesystems(
    mounts: Iterable[Mount], sizes: Mapping[str, tuple[int, int]]
) -> tuple[Filesystem, ...]:
    """Real mounts joined with their df sizes; a mount point mounted twice counts once
    (the last mount, which is the one visible), sorted by mount point."""
    seen: dict[str, Filesystem] = {}
    for mount in mounts:
        size = sizes.get(mount.mountpoint) or sizes.get(df_quoted(mount.mountpoint))
        if size is None or size[0] <= 0 or not is_real_mount(mount):
            continue
        seen[mount.mountpoint] = Filesystem(
            mountpoint=mount.mountpoint,
            fstype=mount.fstype,
            device=mount.device,
            size_bytes=size[0],
            avail_bytes=size[1],
        )
    return tuple(seen[k] for k in sorted(seen))


def parse_os_release(text: str) -> str:
    """/etc/os-release -> a human OS name (PRETTY_NAME, else NAME VERSION_ID), or ''."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    if values.get("PRETTY_NAME"):
        return values["PRETTY_NAME"]
    return " ".join(v for v in (values.get("NAME"), values.get("VERSION_ID")) if v)
