"""A small, cheap fact set per host, gathered in ONE round trip.

hostname, fqdn, os (id, version, name, family, codename), kernel, arch, cpus,
memory (bytes), addresses (global IPs), user. Playbooks read them as `facts.*`
(`facts.os.id`, `facts.memory.total_bytes`...).
"""

from __future__ import annotations

import shlex
from typing import Any

from fleetkit.connection.base import CommandResult, Connection

FACTS_SCRIPT = r"""
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
echo "fqdn=$(hostname -f 2>/dev/null)"
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null)"
echo "user=$(id -un)"
sed -n -e 's/^MemTotal: *\([0-9]*\) kB/mem_total_kb=\1/p' \
  -e 's/^MemAvailable: *\([0-9]*\) kB/mem_available_kb=\1/p' /proc/meminfo
[ -r /etc/os-release ] && sed -n 's/^\([A-Z_]*\)=/os_\1=/p' /etc/os-release
if command -v ip >/dev/null 2>&1; then
  ip -o addr show scope global 2>/dev/null | awk '{print "addr=" $2 " " $4}'
else
  for a in $(hostname -I 2>/dev/null); do echo "addr=- $a"; done
fi
true
"""


def parse_facts(stdout: str) -> dict[str, Any]:
    """The facts mapping from FACTS_SCRIPT's key=value lines."""
    raw: dict[str, str] = {}
    os_info: dict[str, str] = {}
    interfaces: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        key, eq, value = line.partition("=")
        if not eq:
            continue
        if key == "addr":
            device, _, cidr = value.partition(" ")
            interfaces.setdefault(device, []).append(cidr.strip())
        elif key.startswith("os_"):
            try:
                words = shlex.split(value)
            except ValueError:
                words = [value]
            os_info[key[3:].lower()] = words[0] if words else ""
        else:
            raw[key] = value.strip()
    addresses = [cidr.split("/")[0] for cidrs in interfaces.values() for cidr in cidrs]
    ipv4 = [a for a in addresses if "." in a and ":" not in a]
    total_kb = _int(raw.get("mem_total_kb"))
    avail_kb = _int(raw.get("mem_available_kb"))
    return {
        "hostname": raw.get("hostname", ""),
        "fqdn": raw.get("fqdn") or raw.get("hostname", ""),
        "kernel": raw.get("kernel", ""),
        "arch": raw.get("arch", ""),
        "cpus": _int(raw.get("cpus")),
        "user": raw.get("user", ""),
        "memory": {
            "total_bytes": total_kb * 1024,
            "available_bytes": avail_kb * 1024,
            "total_mb": total_kb // 1024,
        },
        "os": {
            "id": os_info.get("id", ""),
            "version": os_info.get("version_id", ""),
            "name": os_info.get("name", ""),
            "pretty_name": os_info.get("pretty_name", ""),
            "family": (os_info.get("id_like") or os_info.get("id", "")).split()[0]
            if (os_info.get("id_like") or os_info.get("id"))
            else "",
            "codename": os_info.get("version_codename", ""),
        },
        "addresses": addresses,
        "default_ipv4": ipv4[0] if ipv4 else "",
        "interfaces": interfaces,
    }


def _int(text: str | None) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


def gather_facts(
    conn: Connection, *, timeout: float | None = 30.0
) -> tuple[dict[str, Any], CommandResult]:
    """Run the fact script once on conn; (facts, the command's result)."""
    res = conn.run(FACTS_SCRIPT, timeout=timeout)
    facts = parse_facts(res.stdout) if res.ok else {}
    return facts, res
