"""Ansible's fact names (`ansible_os_family`, `ansible_default_ipv4`...) from FACTS_SCRIPT.

The `setup` module's view of the one fact gathering in executor/facts.py: the
same command output, keyed and shaped as Ansible's setup module returns it
(strings where Ansible gives strings, so templates comparing them read alike),
grouped in Ansible's subsets (min, hardware, network, virtual) for gather_subset.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import shlex
from collections.abc import Iterable, Mapping
from fnmatch import fnmatch
from typing import Any

SUBSETS = ("min", "hardware", "network", "virtual")

DISTRIBUTIONS = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "raspbian": "Debian",
    "linuxmint": "Linux Mint",
    "centos": "CentOS",
    "rhel": "RedHat",
    "fedora": "Fedora",
    "rocky": "Rocky",
    "almalinux": "AlmaLinux",
    "ol": "OracleLinux",
    "amzn": "Amazon",
    "alpine": "Alpine",
    "arch": "Archlinux",
    "sles": "SLES",
    "opensuse-leap": "openSUSE Leap",
    "opensuse-tumbleweed": "openSUSE Tumbleweed",
}
FAMILIES = {
    "Debian": ("Debian", "Ubuntu", "Linux Mint", "Kali", "Devuan", "Pop!_OS"),
    "RedHat": ("RedHat", "CentOS", "Fedora", "Rocky", "AlmaLinux", "OracleLinux", "Amazon"),
    "Suse": ("SLES", "openSUSE Leap", "openSUSE Tumbleweed", "SUSE"),
    "Alpine": ("Alpine",),
    "Archlinux": ("Archlinux", "Manjaro"),
}
PKG_MGRS = {"apt-get": "apt", "dnf": "dnf", "yum": "yum", "apk": "apk", "zypper": "zypper"}

MIN_KEYS = frozenset(
    {
        "apparmor", "cmdline", "proc_cmdline", "date_time", "distribution",
        "distribution_release", "distribution_version", "distribution_major_version",
        "distribution_minor_version", "os_family", "dns", "env", "fips", "local", "lsb",
        "pkg_mgr", "architecture", "machine", "kernel", "kernel_version", "system",
        "hostname", "nodename", "fqdn", "domain", "userspace_bits", "python",
        "python_version", "service_mgr", "user_id", "user_uid", "user_gid", "user_dir",
        "user_shell", "user_gecos", "real_user_id", "effective_user_id", "real_group_id",
        "effective_group_id", "selinux", "userspace_architecture", "machine_id",
    }
)  # fmt: skip
HARDWARE_KEYS = frozenset(
    {
        "memtotal_mb", "memfree_mb", "swaptotal_mb", "swapfree_mb", "memory_mb",
        "processor_vcpus", "processor_count", "processor_cores", "processor_nproc",
        "processor_threads_per_core", "uptime_seconds", "loadavg",
    }
)  # fmt: skip
VIRTUAL_KEYS = frozenset({"virtualization_type", "virtualization_role"})


def lines(stdout: str) -> dict[str, list[str]]:
    """FACTS_SCRIPT's key=value lines, every value of a key in order."""
    out: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        key, eq, value = line.partition("=")
        if eq and key and " " not in key:
            out.setdefault(key, []).append(value)
    return out


def _one(raw: Mapping[str, list[str]], key: str) -> str:
    values = raw.get(key)
    return values[0].strip() if values else ""


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _mb(raw: Mapping[str, list[str]], key: str) -> int:
    return _int(_one(raw, key)) // 1024


def ansible_facts(stdout: str) -> dict[str, Any]:
    """Every fact FACTS_SCRIPT's output gives, under Ansible's names (without `ansible_`)."""
    raw = lines(stdout)
    facts: dict[str, Any] = {}
    facts.update(_platform(raw))
    facts.update(_distribution(raw))
    facts.update(_user(raw))
    facts.update(_python(raw))
    facts.update(_date_time(raw))
    facts.update(_hardware(raw))
    facts.update(_network(raw))
    facts["env"] = _env(_one(raw, "env"))
    facts["dns"] = _dns(raw)
    facts["cmdline"], facts["proc_cmdline"] = _cmdline(_one(raw, "cmdline"))
    facts["pkg_mgr"] = PKG_MGRS.get(_one(raw, "pkg"), _one(raw, "pkg") or "unknown")
    facts["service_mgr"] = _service_mgr(raw)
    facts["apparmor"] = {"status": "enabled" if _one(raw, "apparmor") else "disabled"}
    facts["selinux"] = {"status": "disabled"}
    facts["fips"] = False
    facts["local"] = {}
    virt = _one(raw, "virt")
    facts["virtualization_type"] = virt or "NA"
    facts["virtualization_role"] = "guest" if virt else "NA"
    return facts


def _platform(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    node = _one(raw, "nodename") or _one(raw, "hostname")
    fqdn = _one(raw, "fqdn") or node
    arch = _one(raw, "arch")
    return {
        "system": _one(raw, "system") or "Linux",
        "kernel": _one(raw, "kernel"),
        "kernel_version": _one(raw, "kernel_version"),
        "machine": arch,
        "architecture": arch,
        "userspace_architecture": arch,
        "machine_id": _one(raw, "machine_id"),
        "userspace_bits": "64" if arch.endswith("64") or arch == "s390x" else "32",
        "nodename": node,
        "hostname": node.split(".")[0],
        "fqdn": fqdn,
        "domain": fqdn.partition(".")[2],
    }


def _os_release(raw: Mapping[str, list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, values in raw.items():
        if key.startswith("os_"):
            try:
                words = shlex.split(values[0])
            except ValueError:
                words = [values[0]]
            out[key[3:].lower()] = words[0] if words else ""
    return out


def _distribution(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    osr = _os_release(raw)
    dist_id = osr.get("id", "")
    dist = DISTRIBUTIONS.get(dist_id) or osr.get("name", "") or "NA"
    version = osr.get("version_id", "")
    debian = _one(raw, "debian_version")
    if dist == "Debian" and debian[:1].isdigit():
        version = debian  # Ansible reads /etc/debian_version for the point release
    major, _, rest = version.partition(".")
    family = next((f for f, members in FAMILIES.items() if dist in members), "")
    if not family:
        like = (osr.get("id_like") or "").split()
        family = DISTRIBUTIONS.get(like[0], like[0].capitalize()) if like else dist
        family = next((f for f, members in FAMILIES.items() if family in members), family)
    lsb = {
        "codename": osr.get("version_codename", ""),
        "description": osr.get("pretty_name", ""),
        "id": dist,
        "major_release": major,
        "release": osr.get("version_id", ""),
    }
    return {
        "distribution": dist,
        "distribution_version": version or "NA",
        "distribution_major_version": major or "NA",
        "distribution_minor_version": rest.partition(".")[0] or "NA",
        "distribution_release": osr.get("version_codename", "") or "NA",
        "os_family": family,
        "lsb": lsb,
    }


def _user(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    uid_s, _, gid_s = _one(raw, "ids").partition(" ")
    uid, gid = _int(uid_s, -1), _int(gid_s, -1)
    fields = (_one(raw, "passwd").split(":") + [""] * 7)[:7]
    return {
        "user_id": _one(raw, "user") or fields[0],
        "user_uid": uid,
        "user_gid": gid,
        "user_gecos": fields[4].split(",")[0],
        "user_dir": fields[5],
        "user_shell": fields[6],
        "real_user_id": uid,
        "effective_user_id": uid,
        "real_group_id": gid,
        "effective_group_id": gid,
    }


def _python(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    parts = _one(raw, "python").split()
    if len(parts) < 7:
        return {}
    exe, major, minor, micro, level, serial, kind = parts[:7]
    info = [int(major), int(minor), int(micro), level, int(serial)]
    return {
        "python_version": f"{major}.{minor}.{micro}",
        "python": {
            "executable": exe,
            "has_sslcontext": True,
            "type": kind,
            "version": {
                "major": info[0],
                "minor": info[1],
                "micro": info[2],
                "releaselevel": level,
                "serial": info[4],
            },
            "version_info": info,
        },
    }


def _date_time(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    parts = _one(raw, "date").split()
    if len(parts) < 4:
        return {}
    epoch, offset, tz, nanos = parts[:4]
    sign = -1 if offset.startswith("-") else 1
    delta = dt.timedelta(hours=_int(offset[1:3]), minutes=_int(offset[3:5])) * sign
    micro = _int(nanos) // 1000
    utc = dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(microsecond=micro)
    local = utc.astimezone(dt.timezone(delta))
    return {
        "date_time": {
            "year": local.strftime("%Y"),
            "month": local.strftime("%m"),
            "weekday": local.strftime("%A"),
            "weekday_number": local.strftime("%w"),
            "weeknumber": local.strftime("%W"),
            "day": local.strftime("%d"),
            "hour": local.strftime("%H"),
            "minute": local.strftime("%M"),
            "second": local.strftime("%S"),
            "epoch": epoch,
            "epoch_int": epoch,
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M:%S"),
            "iso8601_micro": utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "iso8601": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "iso8601_basic": local.strftime("%Y%m%dT%H%M%S%f"),
            "iso8601_basic_short": local.strftime("%Y%m%dT%H%M%S"),
            "tz": tz,
            "tz_dst": tz,
            "tz_offset": offset,
        }
    }


def _hardware(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    total, free = _mb(raw, "mem_total_kb"), _mb(raw, "mem_free_kb")
    avail = _mb(raw, "mem_available_kb")
    swap_total, swap_free = _mb(raw, "swap_total_kb"), _mb(raw, "swap_free_kb")
    vcpus = _int(_one(raw, "cpus"))
    cpuinfo = _one(raw, "cpuinfo").split()
    sockets = _int(cpuinfo[0]) if cpuinfo else 0
    cores = _int(cpuinfo[1]) if len(cpuinfo) > 1 else 0
    sockets = sockets or 1
    cores = cores or vcpus
    load = [float(x) for x in _one(raw, "loadavg").split()[:3] if _is_float(x)]
    out: dict[str, Any] = {
        "memtotal_mb": total,
        "memfree_mb": free,
        "swaptotal_mb": swap_total,
        "swapfree_mb": swap_free,
        "memory_mb": {
            "real": {"total": total, "used": total - free, "free": free},
            "nocache": {"free": avail, "used": total - avail},
            "swap": {
                "total": swap_total,
                "free": swap_free,
                "used": swap_total - swap_free,
                "cached": 0,
            },
        },
        "processor_vcpus": vcpus,
        "processor_nproc": vcpus,
        "processor_count": sockets,
        "processor_cores": cores,
        "processor_threads_per_core": max(1, vcpus // max(1, sockets * cores)),
        "uptime_seconds": int(float(_one(raw, "uptime") or 0)),
    }
    if len(load) == 3:
        out["loadavg"] = {"1m": load[0], "5m": load[1], "15m": load[2]}
    return out


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _network(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    ifaces: dict[str, dict[str, Any]] = {}
    for value in raw.get("link", []):
        parts = value.split()
        if not parts:
            continue
        name = parts[0]
        mac, mtu, flags, kind = [*parts[1:], "", "", "0x0", ""][:4]
        bits = _int(flags, 0) if not flags.startswith("0x") else int(flags, 16)
        ifaces[name] = {
            "device": name,
            "active": bool(bits & 0x1),
            "promisc": bool(bits & 0x100),
            "macaddress": mac,
            "mtu": _int(mtu),
            "type": "loopback" if kind == "772" else "ether",
        }
    ipv4: list[str] = []
    ipv6: list[str] = []
    for value in raw.get("ifaddr", []):
        parts = value.split()
        if len(parts) < 3:
            continue
        dev, family, cidr = parts[0], parts[1], parts[2]
        iface = ifaces.setdefault(dev, {"device": dev})
        net = ipaddress.ip_interface(cidr)
        if family == "inet":
            brd = parts[4] if len(parts) > 4 and parts[3] == "brd" else ""
            entry = _ipv4(net, brd)
            iface.setdefault("ipv4", entry)
            if not net.ip.is_loopback:
                ipv4.append(str(net.ip))
        elif family == "inet6":
            scope = parts[4] if len(parts) > 4 and parts[3] == "scope" else parts[-1]
            six = {"address": str(net.ip), "prefix": str(net.network.prefixlen), "scope": scope}
            iface.setdefault("ipv6", []).append(six)
            if not net.ip.is_loopback:
                ipv6.append(str(net.ip))
    out: dict[str, Any] = {
        "interfaces": sorted(ifaces),
        "all_ipv4_addresses": ipv4,
        "all_ipv6_addresses": ipv6,
        "default_ipv4": _default(raw, "route4", ifaces, "ipv4"),
        "default_ipv6": _default(raw, "route6", ifaces, "ipv6"),
    }
    for name, iface in ifaces.items():
        out[name.replace("-", "_").replace(".", "_").replace(":", "_")] = iface
    return out


def _ipv4(net: ipaddress.IPv4Interface | ipaddress.IPv6Interface, brd: str) -> dict[str, str]:
    return {
        "address": str(net.ip),
        "broadcast": brd,
        "netmask": str(net.netmask),
        "network": str(net.network.network_address),
        "prefix": str(net.network.prefixlen),
    }


def _default(
    raw: Mapping[str, list[str]], key: str, ifaces: Mapping[str, Mapping[str, Any]], fam: str
) -> dict[str, Any]:
    words = _one(raw, key).split()
    if not words:
        return {}
    gateway = words[words.index("via") + 1] if "via" in words[:-1] else ""
    dev = words[words.index("dev") + 1] if "dev" in words[:-1] else ""
    iface = ifaces.get(dev, {})
    addr = iface.get(fam)
    first = (addr[0] if addr else {}) if isinstance(addr, list) else (addr or {})
    out: dict[str, Any] = dict(first)
    out.update(
        interface=dev,
        gateway=gateway,
        macaddress=iface.get("macaddress", ""),
        mtu=iface.get("mtu", 0),
        type=iface.get("type", ""),
    )
    if fam == "ipv4":
        out["alias"] = dev
    return out


def _env(b64: str) -> dict[str, str]:
    try:
        data = base64.b64decode(b64).decode(errors="replace")
    except ValueError:
        return {}
    env: dict[str, str] = {}
    for item in data.split("\0"):
        key, eq, value = item.partition("=")
        if eq and key:
            env[key] = value
    return env


def _dns(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    servers = [v.strip() for v in raw.get("dns_ns", []) if v.strip()]
    if servers:
        out["nameservers"] = servers
    search = _one(raw, "dns_search").split()
    if search:
        out["search"] = search
    return out


def _cmdline(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ansible's cmdline (last value wins) and proc_cmdline (repeats become lists)."""
    last: dict[str, Any] = {}
    every: dict[str, Any] = {}
    for word in text.split():
        key, eq, value = word.partition("=")
        item: Any = value if eq else True
        last[key] = item
        if key in every:
            prev = every[key]
            every[key] = [*prev, item] if isinstance(prev, list) else [prev, item]
        else:
            every[key] = item
    return last, every


def _service_mgr(raw: Mapping[str, list[str]]) -> str:
    if _one(raw, "run_systemd"):
        return "systemd"
    comm = _one(raw, "pid1")
    if comm in ("systemd", "init") or not comm:
        return "systemd" if comm == "systemd" else "sysvinit"
    return comm


def subset_of(key: str) -> str:
    """Which of Ansible's gather subsets a fact belongs to."""
    if key in MIN_KEYS:
        return "min"
    if key in HARDWARE_KEYS:
        return "hardware"
    if key in VIRTUAL_KEYS:
        return "virtual"
    return "network"


def resolve_subsets(wanted: Iterable[str]) -> set[str]:
    """Ansible's gather_subset rules: 'all', names, '!name' exclusions; min unless '!min'."""
    words = [w.strip() for w in wanted if w.strip()] or ["all"]
    include: set[str] = set()
    exclude: set[str] = set()
    for word in words:
        if word == "!all":
            continue  # start from nothing rather than from everything
        name = word.lstrip("!")
        names = set(SUBSETS) if name == "all" else {name}
        (exclude if word.startswith("!") else include).update(names)
    if not include and "!all" not in words:
        include = set(SUBSETS)
    chosen = include - exclude
    if "!min" not in words:
        chosen.add("min")
    return chosen


def select(facts: Mapping[str, Any], subsets: set[str], patterns: Iterable[str]) -> dict[str, Any]:
    """The facts in the chosen subsets whose `ansible_` names match a filter pattern."""
    pats = [p for p in patterns if p] or ["*"]
    out: dict[str, Any] = {}
    for key, value in facts.items():
        if subset_of(key) not in subsets:
            continue
        full = f"ansible_{key}"
        if any(fnmatch(full, p) or fnmatch(key, p) for p in pats):
            out[key] = value
    return out


NETWORK_KEYS = frozenset(
    {"interfaces", "all_ipv4_addresses", "all_ipv6_addresses", "default_ipv4", "default_ipv6"}
)
INJECTED_NAMES = frozenset(
    {"ansible_facts", "module_setup", "ansible_gather_subset"}
    | {f"ansible_{k}" for k in MIN_KEYS | HARDWARE_KEYS | VIRTUAL_KEYS | NETWORK_KEYS}
)
"""The variables a setup task defines for later tasks (the static check reads them);
per-interface facts (`ansible_eth0`) are known only at run time."""


def injected(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The host variables a fact view becomes: `ansible_facts` and each `ansible_<name>`."""
    out: dict[str, Any] = {f"ansible_{k}": v for k, v in facts.items() if k != "module_setup"}
    if "module_setup" in facts:
        out["module_setup"] = facts["module_setup"]
    out["ansible_facts"] = dict(facts)
    return out
