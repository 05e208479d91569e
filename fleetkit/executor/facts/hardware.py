"""Hardware facts: memory, processors, DMI, uptime and LVM, as ansible-core 2.19's
LinuxHardware reads them (block devices and mounts are in storage.py)."""

from __future__ import annotations

import re
from typing import Any

from fleetkit.executor.facts.dump import Dump

Facts = dict[str, Any]

ORIGINAL_MEMORY = ("MemTotal", "SwapTotal", "MemFree", "SwapFree")
MEMORY = (*ORIGINAL_MEMORY, "Buffers", "Cached", "SwapCached")
DMI = "/sys/devices/virtual/dmi/id"
DMI_FILES = {
    "bios_date": "bios_date",
    "bios_vendor": "bios_vendor",
    "bios_version": "bios_version",
    "board_asset_tag": "board_asset_tag",
    "board_name": "board_name",
    "board_serial": "board_serial",
    "board_vendor": "board_vendor",
    "board_version": "board_version",
    "chassis_asset_tag": "chassis_asset_tag",
    "chassis_serial": "chassis_serial",
    "chassis_vendor": "chassis_vendor",
    "chassis_version": "chassis_version",
    "form_factor": "chassis_type",
    "product_name": "product_name",
    "product_serial": "product_serial",
    "product_uuid": "product_uuid",
    "product_version": "product_version",
    "system_vendor": "sys_vendor",
}
DMIDECODE = {
    "bios_date": "bios-release-date",
    "bios_vendor": "bios-vendor",
    "bios_version": "bios-version",
    "board_asset_tag": "baseboard-asset-tag",
    "board_name": "baseboard-product-name",
    "board_serial": "baseboard-serial-number",
    "board_vendor": "baseboard-manufacturer",
    "board_version": "baseboard-version",
    "chassis_asset_tag": "chassis-asset-tag",
    "chassis_serial": "chassis-serial-number",
    "chassis_vendor": "chassis-manufacturer",
    "chassis_version": "chassis-version",
    "form_factor": "chassis-type",
    "product_name": "system-product-name",
    "product_serial": "system-serial-number",
    "product_uuid": "system-uuid",
    "product_version": "system-version",
    "system_vendor": "system-manufacturer",
}
FORM_FACTOR = (
    "Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower",
    "Tower", "Portable", "Laptop", "Notebook", "Hand Held", "Docking Station", "All In One",
    "Sub Notebook", "Space-saving", "Lunch Box", "Main Server Chassis", "Expansion Chassis",
    "Sub Chassis", "Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis",
    "Rack Mount Chassis", "Sealed-case PC", "Multi-system", "CompactPCI", "AdvancedTCA",
    "Blade", "Blade Enclosure", "Tablet", "Convertible", "Detachable", "IoT Gateway",
    "Embedded PC", "Mini PC", "Stick PC",
)  # fmt: skip


def memory_facts(dump: Dump) -> Facts:
    facts: Facts = {}
    if not dump.readable("/proc/meminfo"):
        return facts
    stats: dict[str, int] = {}
    for line in dump.file_lines("/proc/meminfo"):
        key, _, rest = line.partition(":")
        if key in MEMORY:
            value = int(rest.strip().split(" ")[0]) // 1024
            stats[key.lower()] = value
            if key in ORIGINAL_MEMORY:
                facts[f"{key.lower()}_mb"] = value

    def diff(a: str, b: str) -> int | None:
        return stats[a] - stats[b] if a in stats and b in stats else None

    nocache_free = (
        stats["cached"] + stats["memfree"] + stats["buffers"]
        if all(k in stats for k in ("cached", "memfree", "buffers"))
        else None
    )
    total = stats.get("memtotal")
    facts["memory_mb"] = {
        "real": {"total": total, "used": diff("memtotal", "memfree"), "free": stats.get("memfree")},
        "nocache": {
            "free": nocache_free,
            "used": total - nocache_free
            if total is not None and nocache_free is not None
            else None,
        },
        "swap": {
            "total": stats.get("swaptotal"),
            "free": stats.get("swapfree"),
            "used": diff("swaptotal", "swapfree"),
            "cached": stats.get("swapcached"),
        },
    }
    return facts


def cpu_facts(dump: Dump, collected: Facts) -> Facts:
    facts: Facts = {}
    xen = dump.exists("/proc/xen") or (dump.file_lines("/sys/hypervisor/type")[:1] == ["xen"])
    xen_paravirt = False
    out = dump.output("cpuinfo")
    if not dump.readable("/proc/cpuinfo") and not out.ok:
        return facts
    facts["processor"] = []
    i = vendor_ids = model_names = processors = 0
    physid: Any = 0
    coreid: Any = 0
    sockets: dict[Any, int] = {}
    cores: dict[Any, int] = {}
    zp = zmt = 0
    for line in out.lines:
        key, _, rest = line.partition(":")
        key, val = key.strip(), rest.strip()
        if xen and key == "flags" and "vme" not in val:
            xen_paravirt = True
        if key == "flags":
            facts["flags"] = val.split()
        if key in ("model name", "Processor", "vendor_id", "cpu", "Vendor", "processor"):
            facts["processor"].append(val)
            vendor_ids += key == "vendor_id"
            model_names += key == "model name"
            processors += key == "processor"
            i += 1
        elif key == "physical id":
            physid = val
            sockets.setdefault(physid, 1)
        elif key == "core id":
            coreid = val
            if coreid not in sockets:
                cores[coreid] = 1
        elif key == "cpu cores":
            sockets[physid] = int(val)
        elif key == "siblings":
            cores[coreid] = int(val)
        elif key == "# processors":
            zp = int(val)
        elif key == "max thread id":
            zmt = int(val) + 1
        elif key == "ncpus active":
            i = int(val)
    if vendor_ids > 0 and vendor_ids == model_names:
        i = vendor_ids
    arch = str(collected.get("architecture", ""))
    if arch.startswith(("armv", "aarch", "ppc")):
        i = processors
    if arch == "s390x":
        facts.update(
            processor_count=1,
            processor_cores=round(zp / zmt) if zmt else 0,
            processor_threads_per_core=zmt,
            processor_vcpus=zp,
            processor_nproc=zp,
        )
    elif xen_paravirt:
        facts.update(
            processor_count=i,
            processor_cores=i,
            processor_threads_per_core=1,
            processor_vcpus=i,
            processor_nproc=i,
        )
    else:
        facts["processor_count"] = len(sockets) if sockets else i
        first_socket = next(iter(sockets.values()), 0)
        facts["processor_cores"] = first_socket or 1
        first_core = next(iter(cores.values()), None)
        facts["processor_threads_per_core"] = round(
            (first_core if first_core is not None else 1) / facts["processor_cores"]
        )
        facts["processor_vcpus"] = (
            facts["processor_threads_per_core"]
            * facts["processor_count"]
            * facts["processor_cores"]
        )
        facts["processor_nproc"] = processors
    nproc = dump.python.get("nproc")
    if nproc is None and dump.value("nproc").isdigit():
        nproc = int(dump.value("nproc"))
    if nproc is not None:
        facts["processor_nproc"] = int(nproc)
    return facts


def dmi_facts(dump: Dump) -> Facts:
    facts: Facts = {}
    if dump.exists(f"{DMI}/product_name"):
        for key, name in DMI_FILES.items():
            data = dump.content(f"{DMI}/{name}")
            if data is None:
                facts[key] = "NA"
            elif key == "form_factor":
                try:
                    facts[key] = FORM_FACTOR[int(data)]
                except IndexError:
                    facts[key] = f"unknown ({data})"
            else:
                facts[key] = data
        return facts
    if not dump.binary("dmidecode"):
        return dict.fromkeys(DMIDECODE, "NA")
    for key, name in DMIDECODE.items():
        out = dump.output(f"dmi:{name}")
        if out.ok:
            facts[key] = "".join(line for line in out.lines if not line.startswith("#"))
        else:
            facts[key] = "NA"
    return facts


def sysinfo_facts(dump: Dump) -> Facts:
    """/proc/sysinfo (IBM Z): vendor, type and serial."""
    if not dump.exists("/proc/sysinfo"):
        return {}
    facts: Facts = dict.fromkeys(
        ("system_vendor", "product_version", "product_serial", "product_name", "product_uuid"),
        "NA",
    )
    pattern = re.compile(
        r"^(?:Manufacturer:\s+(?P<system_vendor>.+))|(?:Type:\s+(?P<product_name>.+))"
        r"|(?:Sequence\ Code:\s+0+(?P<product_serial>.+))$",
        re.MULTILINE,
    )
    for match in pattern.finditer(dump.content("/proc/sysinfo", "") or ""):
        facts.update({k: v for k, v in match.groupdict().items() if v is not None})
    return facts


def uptime_facts(dump: Dump) -> Facts:
    text = dump.content("/proc/uptime")
    if not text:
        return {}
    return {"uptime_seconds": int(float(text.split(" ")[0]))}


def real_uid(dump: Dump) -> int | None:
    """os.getuid() on the host, from the probe or `id -u`."""
    ids = dump.python.get("ids")
    if isinstance(ids, list) and ids:
        return int(ids[0])
    words = dump.value("ids").split()
    return int(words[0]) if words and words[0].isdigit() else None


def lvm_facts(dump: Dump) -> Facts:
    if not dump.binary("vgs") or real_uid(dump) != 0:
        return {"lvm": "N/A"}
    vgs: dict[str, Any] = {}
    for line in dump.output("vgs").lines:
        items = line.strip().split(",")
        if len(items) >= 4:
            vgs[items[0]] = {
                "size_g": items[-2],
                "free_g": items[-1],
                "num_lvs": items[2],
                "num_pvs": items[1],
            }
    lvs: dict[str, Any] = {}
    for line in dump.output("lvs").lines:
        items = line.strip().split(",")
        if len(items) >= 4:
            lvs[items[0]] = {"size_g": items[3], "vg": items[1]}
    pvs: dict[str, Any] = {}
    for line in dump.output("pvs").lines:
        items = line.strip().split(",")
        if len(items) >= 6:
            device = items[0]
            mapped = dump.output(f"dmsetup:{device}")
            if device.startswith("/dev/dm-") and mapped.ok:
                device = "/dev/mapper/" + mapped.text.rstrip()
            pvs[device] = {"size_g": items[4], "free_g": items[5], "vg": items[1]}
    return {"lvm": {"lvs": lvs, "vgs": vgs, "pvs": pvs}}
