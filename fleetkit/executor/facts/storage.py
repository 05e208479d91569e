"""devices, device_links and mounts, as ansible-core 2.19's LinuxHardware reads them.

Block devices come from /sys/block (sysfs attributes read by the script's shell
builtins) and the /dev/disk/by-* links; mounts from the mount table, one statfs
per measured mount, lsblk's UUIDs and findmnt's bind mounts.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from fleetkit.executor.facts.dump import Dump

Facts = dict[str, Any]
OCTAL = re.compile(r"\\[0-9]{3}")
MTAB_BIND = re.compile(r'.*bind.*"')
PCI = re.compile(r".+/([a-f0-9]{4}:[a-f0-9]{2}:[0|1][a-f0-9]\.[0-7])/")
SIZE_RANGES = (
    ("Y", 1 << 80),
    ("Z", 1 << 70),
    ("E", 1 << 60),
    ("P", 1 << 50),
    ("T", 1 << 40),
    ("G", 1 << 30),
    ("M", 1 << 20),
    ("K", 1 << 10),
    ("B", 1),
)


def bytes_to_human(size: float) -> str:
    """ansible.module_utils.common.text.formatters.bytes_to_human for bytes."""
    suffix, limit = "B", 1
    for suffix, limit in SIZE_RANGES:  # noqa: B007
        if size >= limit:
            break
    return f"{size / limit:.2f} {suffix + 'B' if limit != 1 else 'Bytes'}"


def _links(dump: Dump, link_dir: str) -> dict[str, list[str]]:
    entries = dump.listdir(link_dir)
    if entries is None:
        return {}
    found: dict[str, set[str]] = {}
    for entry in entries:
        target = dump.readlink(f"{link_dir}/{entry}")
        if target is not None:
            found.setdefault(posixpath.basename(target), set()).add(entry)
    return {k: sorted(v) for k, v in found.items()}


def device_links(dump: Dump) -> dict[str, dict[str, list[str]]]:
    masters: dict[str, set[str]] = {}
    for path in dump.kinds:
        parts = path.split("/")
        if len(parts) == 6 and parts[1:3] == ["sys", "block"] and parts[4] == "slaves":
            masters.setdefault(parts[5], set()).add(parts[3])
    return {
        "ids": _links(dump, "/dev/disk/by-id"),
        "uuids": _links(dump, "/dev/disk/by-uuid"),
        "labels": _links(dump, "/dev/disk/by-label"),
        "masters": {k: sorted(v) for k, v in masters.items()},
    }


def _holders(dump: Dump, base: str) -> list[str]:
    names: list[str] = []
    for path in dump.kinds:
        head, _, folder = path.rpartition("/")
        if head == f"{base}/holders" and folder.startswith("dm-"):
            names.append(dump.content(f"{path}/dm/name") or folder)
    return names


def _partition_uuid(dump: Dump, partname: str) -> str | None:
    for uuid in dump.listdir("/dev/disk/by-uuid") or ():
        if dump.realpath(f"/dev/disk/by-uuid/{uuid}") == f"/dev/{partname}":
            return uuid
    return None


def device_facts(dump: Dump) -> Facts:
    facts: Facts = {"devices": {}}
    blocks = dump.listdir("/sys/block")
    if blocks is None:
        return facts
    pcidata = dump.output("lspci").text if dump.binary("lspci") else None
    wwn: dict[str, str] = {}
    for link in dump.listdir("/dev/disk/by-id") or ():
        target = dump.readlink(f"/dev/disk/by-id/{link}")
        if link.startswith("wwn-") and target is not None:
            wwn[posixpath.basename(target)] = link[4:]
    links = device_links(dump)
    facts["device_links"] = links
    for block in blocks:
        base = f"/sys/block/{block}"
        target = dump.readlink(base)
        virtual = 1
        if target is None:
            sysdir = base
            if any("device" in e for e in dump.listdir(base) or ()):
                virtual = 0
        else:
            sysdir = posixpath.join("/sys/block", target)
        d: dict[str, Any] = {
            "virtual": virtual,
            "links": {kind: values.get(block, []) for kind, values in links.items()},
        }
        diskname = posixpath.basename(sysdir)
        for key in ("vendor", "model", "sas_address", "sas_device_handle"):
            d[key] = dump.content(f"{base}/device/{key}")
        if dump.binary("sg_inq"):
            found = re.search(
                r"(?:Unit serial|Serial) number:\s+(\w+)", dump.output(f"sg_inq:{block}").text
            )
            if dump.output(f"sg_inq:{block}").ok and found:
                d["serial"] = found.group(1)
        else:
            serial = dump.content(f"{base}/device/serial")
            if serial:
                d["serial"] = serial
        d["removable"] = dump.content(f"{base}/removable")
        d["support_discard"] = (
            "0"
            if dump.content(f"{base}/queue/discard_max_hw_bytes") == "0"
            else dump.content(f"{base}/queue/discard_granularity")
        )
        if diskname in wwn:
            d["wwn"] = wwn[diskname]
        d["partitions"] = {}
        for folder in dump.listdir(base) or ():
            match = re.search("(" + diskname + r"[p]?\d+)", folder)
            if match:
                d["partitions"][match.group(1)] = _partition(dump, base, match.group(1), links)
        d["rotational"] = dump.content(f"{base}/queue/rotational")
        d["scheduler_mode"] = ""
        scheduler = dump.content(f"{base}/queue/scheduler")
        if scheduler is not None:
            found = re.match(r".*?(\[(.*)\])", scheduler)
            if found:
                d["scheduler_mode"] = found.group(2)
        d["sectorsize"] = dump.content(f"{base}/queue/logical_block_size") or dump.content(
            f"{base}/queue/hw_sector_size", 512
        )
        d["sectors"] = int(dump.content(f"{base}/size") or 0) * 512 // int(d["sectorsize"]) or 0
        d["size"] = bytes_to_human(float(d["sectors"]) * float(d["sectorsize"]))
        d["host"] = ""
        pci = PCI.match(sysdir)
        if pci and pcidata:
            found = re.search("^" + re.escape(pci.group(1)) + r"\s(.*)$", pcidata, re.MULTILINE)
            if found:
                d["host"] = found.group(1)
        d["holders"] = _holders(dump, base)
        facts["devices"][diskname] = d
    return facts


def _partition(
    dump: Dump, base: str, partname: str, links: dict[str, dict[str, list[str]]]
) -> dict[str, Any]:
    part_dir = f"{base}/{partname}"
    part: dict[str, Any] = {
        "links": {kind: values.get(partname, []) for kind, values in links.items()},
        "start": dump.content(f"{part_dir}/start", 0),
    }
    part["sectorsize"] = dump.content(f"{part_dir}/queue/logical_block_size") or dump.content(
        f"{part_dir}/queue/hw_sector_size", 512
    )
    part["sectors"] = int(dump.content(f"{part_dir}/size", 0)) * 512 // int(part["sectorsize"])
    part["size"] = bytes_to_human(float(part["sectors"]) * float(part["sectorsize"]))
    part["uuid"] = _partition_uuid(dump, partname)
    part["holders"] = _holders(dump, part_dir)
    return part


def _unescape(value: str) -> str:
    return OCTAL.sub(lambda m: chr(int(m.group()[1:], 8)), value)


def mount_facts(dump: Dump) -> Facts:
    bind_mounts = {line.split()[0] for line in dump.output("findmnt").lines if line.split()}
    if not dump.output("findmnt").ok:
        bind_mounts = set()
    uuids: dict[str, str] = {}
    if dump.output("lsblk").ok:
        for line in dump.output("lsblk").lines:
            fields = line.strip().rsplit(None, 1)
            if len(fields) == 2 and fields[0].strip() not in uuids:
                uuids[fields[0].strip()] = fields[1].strip()
    sizes: dict[str, dict[str, int]] = {}
    for line in dump.output("statfs").lines:
        words = line.split(" ", 6)
        if len(words) == 7 and all(w.isdigit() for w in words[:6]):
            frsize, blocks, bavail, bsize, files, favail = (int(w) for w in words[:6])
            sizes[words[6]] = {
                "size_total": frsize * blocks,
                "size_available": frsize * bavail,
                "block_size": bsize,
                "block_total": blocks,
                "block_available": bavail,
                "block_used": blocks - bavail,
                "inode_total": files,
                "inode_available": favail,
                "inode_used": files - favail,
            }
    results: dict[str, dict[str, Any]] = {}
    for line in dump.output("mtab").lines:
        fields = [_unescape(f) for f in line.split()]
        if len(fields) < 6:
            continue
        device, mount, fstype, options = fields[:4]
        if (not device.startswith(("/", "\\")) and ":/" not in device) or fstype == "none":
            continue
        info: dict[str, Any] = {
            "mount": mount,
            "device": device,
            "fstype": fstype,
            "options": options,
            "dump": int(fields[4]),
            "passno": int(fields[5]),
        }
        if mount in bind_mounts and not MTAB_BIND.match(options):
            info["options"] += ",bind"
        info.update(sizes.get(mount, {}))
        info["uuid"] = uuids.get(device) or _udev_uuid(dump, device)
        results[mount] = info
    return {"mounts": list(results.values())}


def _udev_uuid(dump: Dump, device: str) -> str:
    out = dump.output(f"udev:{device}")
    if not dump.binary("udevadm") or not out.lines:
        return "N/A"
    found = re.search("ID_FS_UUID=(.*)\n", out.text)
    return found.group(1) if found else "N/A"
