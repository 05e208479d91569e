"""interfaces, per-interface facts, default_ipv4/6, all_ipv4/6_addresses and
locally_reachable_ips, as ansible-core 2.19's LinuxNetwork reads them.

The default interfaces come from `ip -4 route get 8.8.8.8` (a routing-table
lookup: nothing is sent), addresses from `ip addr show primary|secondary`
(one call each for all interfaces, split per interface here), the rest from
/sys/class/net, walked in the directory's own order as Ansible's glob does.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from fleetkit.executor.facts.dump import Dump, Output

Facts = dict[str, Any]
INTERFACE_TYPE = {
    "1": "ether",
    "32": "infiniband",
    "512": "ppp",
    "772": "loopback",
    "65534": "tunnel",
}
V4_PROBE, V6_PROBE = "8.8.8.8", "2404:6800:400a:800::1012"
HEADER = re.compile(r"^\d+: ([^:@\s]+)(?:@\S*)?: ")


def default_interfaces(dump: Dump, collected: Mapping[str, Any]) -> tuple[Facts, Facts]:
    found: dict[str, Facts] = {"v4": {}, "v6": {}}
    for v, name, probe in (("v4", "route4", V4_PROBE), ("v6", "route6", V6_PROBE)):
        if v == "v6" and (
            (
                collected.get("os_family") == "RedHat"
                and str(collected.get("distribution_version", "")).startswith("4.")
            )
            or dump.python.get("has_ipv6") is False
        ):
            continue
        out = dump.output(name)
        if not out.lines:
            continue
        words = out.lines[0].split()
        if words and words[0] == probe:
            for i in range(len(words) - 1):
                if words[i] == "dev":
                    found[v]["interface"] = words[i + 1]
                elif words[i] == "src":
                    found[v]["address"] = words[i + 1]
                elif words[i] == "via" and words[i + 1] != probe:
                    found[v]["gateway"] = words[i + 1]
    return found["v4"], found["v6"]


def _per_device(out: Output) -> dict[str, list[str]]:
    """`ip addr show` for all interfaces, as each interface's own output would be."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.lines:
        header = HEADER.match(line)
        if header:
            current = blocks.setdefault(header.group(1), [])
        if current is not None:
            current.append(line)
    return blocks


def _ipv4(address: str, prefix: str, broadcast: str) -> dict[str, str]:
    net = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    return {
        "address": address,
        "broadcast": broadcast,
        "netmask": str(net.netmask),
        "network": str(net.network_address),
        "prefix": prefix,
    }


def network_facts(dump: Dump, collected: Mapping[str, Any]) -> Facts:
    if not dump.binary("ip"):
        return {}
    default_ipv4, default_ipv6 = default_interfaces(dump, collected)
    interfaces: dict[str, dict[str, Any]] = {}
    all_v4: list[str] = []
    all_v6: list[str] = []
    primary = dump.output("addr_primary")
    secondary = dump.output("addr_secondary")
    primary_blocks = _per_device(primary)
    secondary_blocks = _per_device(secondary) if secondary.ok else {}
    macaddress = ""
    for device in dump.listdir("/sys/class/net") or ():
        path = f"/sys/class/net/{device}"
        if not dump.isdir(path):
            continue
        iface: dict[str, Any] = {"device": device}
        interfaces[device] = iface
        if dump.exists(f"{path}/address"):
            macaddress = dump.content(f"{path}/address", "")
            if macaddress and macaddress != "00:00:00:00:00:00":
                iface["macaddress"] = macaddress
        if dump.exists(f"{path}/mtu"):
            iface["mtu"] = int(dump.content(f"{path}/mtu"))
        if dump.exists(f"{path}/operstate"):
            iface["active"] = dump.content(f"{path}/operstate") != "down"
        if dump.exists(f"{path}/device/driver/module"):
            iface["module"] = posixpath.basename(dump.realpath(f"{path}/device/driver/module"))
        if dump.exists(f"{path}/type"):
            iface["type"] = INTERFACE_TYPE.get(dump.content(f"{path}/type"), "unknown")
        if dump.exists(f"{path}/bridge"):
            iface["type"] = "bridge"
            iface["interfaces"] = list(dump.listdir(f"{path}/brif") or ())
            if dump.exists(f"{path}/bridge/bridge_id"):
                iface["id"] = dump.content(f"{path}/bridge/bridge_id", "")
            if dump.exists(f"{path}/bridge/stp_state"):
                iface["stp"] = dump.content(f"{path}/bridge/stp_state") == "1"
        if dump.exists(f"{path}/bonding"):
            iface["type"] = "bonding"
            iface["slaves"] = (dump.content(f"{path}/bonding/slaves", "") or "").split()
            for key in ("mode", "miimon", "lacp_rate"):
                words = (dump.content(f"{path}/bonding/{key}", "") or "").split()
                iface[key] = words[0] if words else ""
            bond_primary = dump.content(f"{path}/bonding/primary")
            if bond_primary:
                iface["primary"] = bond_primary
                if dump.exists(f"{path}/bonding/all_slaves_active"):
                    iface["all_slaves_active"] = (
                        dump.content(f"{path}/bonding/all_slaves_active") == "1"
                    )
        if dump.exists(f"{path}/bonding_slave"):
            iface["perm_macaddress"] = dump.content(f"{path}/bonding_slave/perm_hwaddr", "")
        if dump.exists(f"{path}/device"):
            target = dump.readlink(f"{path}/device")
            if target is not None:
                iface["pciid"] = posixpath.basename(target)
        if dump.exists(f"{path}/speed"):
            speed = dump.content(f"{path}/speed")
            if speed is not None:
                iface["speed"] = int(speed)
        if dump.exists(f"{path}/flags"):
            iface["promisc"] = int(dump.content(f"{path}/flags"), 16) & 0x0100 > 0
        lines = primary_blocks.get(device, [])
        if not primary.ok:
            lines = _per_device(dump.output("addr_all")).get(device, [])
        state = _Parse(device, interfaces, default_ipv4, default_ipv6, all_v4, all_v6, macaddress)
        state.parse(lines)
        if secondary.ok:
            state.parse(secondary_blocks.get(device, []), secondary=True)
        iface.update(_ethtool(dump, device))
    facts: Facts = {"interfaces": [name.replace(":", "_") for name in interfaces]}
    for name, iface in interfaces.items():
        facts[name.replace(":", "_")] = iface
    facts.update(
        default_ipv4=default_ipv4,
        default_ipv6=default_ipv6,
        all_ipv4_addresses=all_v4,
        all_ipv6_addresses=all_v6,
        locally_reachable_ips=_locally_reachable(dump),
    )
    return facts


class _Parse:
    """Ansible's parse_ip_output for one device (it updates the shared dicts)."""

    def __init__(
        self,
        device: str,
        interfaces: dict[str, dict[str, Any]],
        default_ipv4: Facts,
        default_ipv6: Facts,
        all_v4: list[str],
        all_v6: list[str],
        macaddress: str,
    ) -> None:
        self.device = device
        self.interfaces = interfaces
        self.default_ipv4 = default_ipv4
        self.default_ipv6 = default_ipv6
        self.all_v4 = all_v4
        self.all_v6 = all_v6
        self.macaddress = macaddress

    def parse(self, lines: list[str], *, secondary: bool = False) -> None:
        for line in lines:
            words = line.split()
            if not words:
                continue
            if words[0] == "inet":
                self._inet(words, secondary)
            elif words[0] == "inet6":
                self._inet6(words)

    def _inet(self, words: list[str], secondary: bool) -> None:
        broadcast = ""
        if "/" in words[1]:
            address, prefix = words[1].split("/")
            if len(words) > 3 and words[2] == "brd":
                broadcast = words[3]
        else:
            address, prefix = words[1], "32"
        entry = _ipv4(address, prefix, broadcast)
        iface = words[-1]
        device = self.interfaces[self.device]
        if iface != self.device:
            self.interfaces[iface] = {}
        target = self.interfaces[iface]
        if not secondary and "ipv4" not in target:
            target["ipv4"] = entry
        else:
            target.setdefault("ipv4_secondaries", []).append(dict(entry))
        if secondary:
            device.setdefault("ipv4_secondaries", [])
            if self.device != iface:
                device["ipv4_secondaries"].append(dict(entry))
        if self.default_ipv4.get("address") == address:
            self.default_ipv4.update(
                broadcast=broadcast,
                netmask=entry["netmask"],
                network=entry["network"],
                prefix=prefix,
                macaddress=self.macaddress,
                mtu=device["mtu"],
                type=device.get("type", "unknown"),
                alias=words[-1],
            )
        if not address.startswith("127."):
            self.all_v4.append(address)

    def _inet6(self, words: list[str]) -> None:
        if words[2] == "peer":
            address = words[1]
            prefix = words[3].split("/")[1]
            scope = words[5]
        else:
            address, prefix = words[1].split("/")
            scope = words[3]
        device = self.interfaces[self.device]
        device.setdefault("ipv6", []).append({"address": address, "prefix": prefix, "scope": scope})
        if self.default_ipv6.get("address") == address:
            self.default_ipv6.update(
                prefix=prefix,
                scope=scope,
                macaddress=self.macaddress,
                mtu=device["mtu"],
                type=device.get("type", "unknown"),
            )
        if address != "::1":
            self.all_v6.append(address)


def _ethtool(dump: Dump, device: str) -> Facts:
    data: Facts = {}
    if not dump.binary("ethtool"):
        return data
    features_out = dump.output(f"ethtool-k:{device}")
    if features_out.ok:
        features: dict[str, str] = {}
        for line in features_out.text.strip().splitlines():
            if not line or line.endswith(":"):
                continue
            parts = line.split(": ")
            if len(parts) != 2 or not parts[1]:
                continue
            features[parts[0].strip().replace("-", "_")] = parts[1].strip()
        data["features"] = features
    stamps = dump.output(f"ethtool-T:{device}")
    if stamps.ok:
        text = stamps.text
        data["timestamping"] = [m.lower() for m in re.findall(r"SOF_TIMESTAMPING_(\w+)", text)]
        data["hw_timestamp_filters"] = [
            m.lower() for m in re.findall(r"HWTSTAMP_FILTER_(\w+)", text)
        ]
        found = re.search(r"PTP Hardware Clock: (\d+)", text)
        if found:
            data["phc_index"] = int(found.group(1))
    return data


def _locally_reachable(dump: Dump) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"ipv4": [], "ipv6": []}
    for name in ("local4", "local6"):
        out = dump.output(name)
        if not out.ok:
            continue
        for line in out.lines:
            words = line.split()
            if not words or words[0] != "local":
                continue
            family = "ipv6" if ":" in words[1] else "ipv4"
            if words[1] not in found[family]:
                found[family].append(words[1])
    return found
