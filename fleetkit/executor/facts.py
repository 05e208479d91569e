"""A small, cheap fact set per host, gathered in ONE round trip.

hostname, fqdn, os (id, version, name, family, codename), kernel, arch, cpus,
memory (bytes), addresses (global IPs), user. Playbooks read them as `facts.*`
(`facts.os.id`, `facts.memory.total_bytes`...). The same script's output also
feeds the `setup` module's Ansible-named facts (executor/ansible_facts.py), so
there is one gatherer and one round trip for both views.
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
echo "nodename=$(uname -n)"
echo "kernel_version=$(uname -v)"
echo "system=$(uname -s)"
echo "ids=$(id -u) $(id -g)"
getent passwd "$(id -un)" 2>/dev/null | sed 's/^/passwd=/'
echo "date=$(date '+%s %z %Z %N')"
[ -r /etc/debian_version ] && echo "debian_version=$(cat /etc/debian_version)"
sed -n -e 's/^SwapTotal: *\([0-9]*\) kB/swap_total_kb=\1/p' \
  -e 's/^SwapFree: *\([0-9]*\) kB/swap_free_kb=\1/p' \
  -e 's/^MemFree: *\([0-9]*\) kB/mem_free_kb=\1/p' \
  /proc/meminfo
awk -F': *' '/^physical id/{p[$2]=1} /^cpu cores/{c=$2} /^model name/{m=$2}
  END{n=0; for (k in p) n++; print "cpuinfo=" n " " (c?c:0) " " m}' /proc/cpuinfo 2>/dev/null
echo "uptime=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)"
echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
[ -d /run/systemd/system ] && echo "run_systemd=yes"
for m in apt-get dnf yum apk zypper pacman; do
  command -v "$m" >/dev/null 2>&1 && { echo "pkg=$m"; break; }
done
py=$(command -v python3 || command -v python)
[ -n "$py" ] && "$py" -c 'import sys; v=sys.version_info; print("python=%s %d %d %d %s %d %s" %
  (sys.executable, v[0], v[1], v[2], v[3], v[4], sys.implementation.name))' 2>/dev/null
if command -v ip >/dev/null 2>&1; then
  ip -4 route show default 2>/dev/null | head -n1 | sed 's/^/route4=/'
  ip -6 route show default 2>/dev/null | head -n1 | sed 's/^/route6=/'
  ip -o addr show 2>/dev/null | awk '{print "ifaddr=" $2 " " $3 " " $4 " " $5 " " $6}'
fi
for d in /sys/class/net/*; do
  [ -e "$d" ] || continue
  echo "link=${d##*/} $(cat "$d/address" "$d/mtu" "$d/flags" "$d/type" 2>/dev/null | tr '\n' ' ')"
done
sed -n -e 's/^nameserver[ \t]*/dns_ns=/p' -e 's/^search[ \t]*/dns_search=/p' \
  /etc/resolv.conf 2>/dev/null
[ -d /sys/kernel/security/apparmor ] && echo "apparmor=enabled"
[ -f /.dockerenv ] && echo "virt=docker"
echo "machine_id=$(cat /etc/machine-id 2>/dev/null)"
echo "cmdline=$(cat /proc/cmdline 2>/dev/null)"
echo "env=$(env -0 2>/dev/null | base64 | tr -d '\n')"
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
