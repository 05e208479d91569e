"""fleetkit's own small fact view (`facts.os.id`, `facts.memory.total_bytes`...).

Read from the same dump as Ansible's names, so one round trip feeds both.
"""

from __future__ import annotations

import re
from typing import Any

from fleetkit.executor.facts.distribution import parse_os_release
from fleetkit.executor.facts.dump import Dump
from fleetkit.executor.facts.system import platform_facts, uname, user_facts

INET = re.compile(r"^\s*(inet6?) (\S+) .*\bscope global\b")


def fleet_facts(dump: Dump) -> dict[str, Any]:
    """hostname, fqdn, kernel, arch, cpus, user, memory, os, addresses, interfaces."""
    _system, node, release, _version, machine = uname(dump)
    meminfo: dict[str, int] = {}
    for line in dump.file_lines("/proc/meminfo"):
        key, _, rest = line.partition(":")
        words = rest.split()
        if words and words[0].isdigit():
            meminfo[key] = int(words[0])
    osr_path = "/etc/os-release" if dump.isfile("/etc/os-release") else "/usr/lib/os-release"
    osr = parse_os_release(dump.raw(osr_path) or "")
    family = (osr.get("id_like") or osr.get("id") or "").split()
    interfaces: dict[str, list[str]] = {}
    for name in ("addr_primary", "addr_secondary"):
        device = ""
        for line in dump.output(name).lines:
            header = re.match(r"^\d+: ([^:@\s]+)", line)
            if header:
                device = header.group(1)
                continue
            found = INET.match(line)
            if found and device:
                interfaces.setdefault(device, []).append(found.group(2))
    addresses = [cidr.split("/")[0] for cidrs in interfaces.values() for cidr in cidrs]
    ipv4 = [a for a in addresses if ":" not in a]
    nproc = dump.python.get("nproc") or (
        int(dump.value("nproc")) if dump.value("nproc").isdigit() else 0
    )
    total_kb = meminfo.get("MemTotal", 0)
    return {
        "hostname": node,
        "fqdn": platform_facts(dump)["fqdn"] or node,
        "kernel": release,
        "arch": machine,
        "cpus": int(nproc),
        "user": user_facts(dump)["user_id"],
        "memory": {
            "total_bytes": total_kb * 1024,
            "available_bytes": meminfo.get("MemAvailable", 0) * 1024,
            "total_mb": total_kb // 1024,
        },
        "os": {
            "id": osr.get("id", ""),
            "version": osr.get("version_id", ""),
            "name": osr.get("name", ""),
            "pretty_name": osr.get("pretty_name", ""),
            "family": family[0] if family else "",
            "codename": osr.get("version_codename", ""),
        },
        "addresses": addresses,
        "default_ipv4": ipv4[0] if ipv4 else "",
        "interfaces": interfaces,
    }
