"""virtualization_type/role and virtualization_tech_guest/host, as ansible-core 2.19's
LinuxVirtual decides them: containers first (/proc/1/cgroup, PID 1's environment,
/run/systemd/container, /.dockerenv), then xen, DMI vendors, cpuinfo, kernel modules
and /dev/kvm. The first match sets type and role; every match adds to the tech sets.
"""

from __future__ import annotations

import re
from typing import Any

from fleetkit.executor.facts.dump import Dump

Facts = dict[str, Any]
DMI = "/sys/devices/virtual/dmi/id"
KVM_SYS_VENDORS = ("QEMU", "Amazon EC2", "DigitalOcean", "Google", "Scaleway", "Nutanix")


class _Virtual:
    def __init__(self) -> None:
        self.facts: Facts = {}
        self.found = False
        self.guest: set[str] = set()
        self.host: set[str] = set()

    def guess(self, tech: str, kind: str, role: str | None = "guest") -> None:
        """tech seen as a guest: type (and role) unless an earlier match decided."""
        self.guest.add(tech)
        if not self.found:
            self.facts["virtualization_type"] = kind
            if role is not None:
                self.facts["virtualization_role"] = role
            self.found = True


def virtual_facts(dump: Dump) -> Facts:
    v = _Virtual()
    for line in dump.file_lines("/proc/1/cgroup"):
        if re.search(r"/docker(/|-[0-9a-f]+\.scope)", line):
            v.guess("docker", "docker")
        if re.search("/lxc/", line) or re.search("/machine.slice/machine-lxc", line):
            v.guess("lxc", "lxc")
        if re.search("/system.slice/containerd.service", line):
            v.guess("containerd", "containerd")
    environ = dump.output("environ1")
    if dump.exists("/proc/1/environ"):
        for line in environ.lines if environ.ok else ():
            if re.search("container=lxc", line):
                v.guess("lxc", "lxc")
            if re.search("container=podman", line):
                v.guess("podman", "podman")
            if re.search("^container=.", line):
                v.guess("container", "container")
    if dump.exists("/proc/vz") and not dump.exists("/proc/lve"):
        v.facts["virtualization_type"] = "openvz"
        if dump.exists("/proc/bc"):
            v.host.add("openvz")
            if not v.found:
                v.facts["virtualization_role"] = "host"
        else:
            v.guest.add("openvz")
            if not v.found:
                v.facts["virtualization_role"] = "guest"
        v.found = True
    systemd_container = dump.content("/run/systemd/container")
    if systemd_container:
        v.guess(systemd_container, systemd_container)
    if dump.exists("/.dockerenv") or dump.exists("/.dockerinit"):
        v.guess("docker", "docker")
    if v.guest & {"docker", "lxc", "podman", "openvz", "containerd"} or systemd_container:
        v.guest.add("container")
    if dump.exists("/proc/xen"):
        if any("control_d" in line for line in dump.file_lines("/proc/xen/capabilities")):
            v.host.add("xen")
            if not v.found:
                v.facts.update(virtualization_type="xen", virtualization_role="host")
        elif not v.found:
            v.facts.update(virtualization_type="xen", virtualization_role="guest")
        v.found = True
    if not v.found:
        v.facts["virtualization_role"] = "guest"
    _dmi(dump, v)
    if not v.found:
        del v.facts["virtualization_role"]
    for line in dump.file_lines("/proc/self/status"):
        if re.match(r"^VxID:\s+\d+", line):
            if not v.found:
                v.facts["virtualization_type"] = "linux_vserver"
            if re.match(r"^VxID:\s+0", line):
                v.host.add("linux_vserver")
                if not v.found:
                    v.facts["virtualization_role"] = "host"
            else:
                v.guest.add("linux_vserver")
                if not v.found:
                    v.facts["virtualization_role"] = "guest"
            v.found = True
    _cpuinfo(dump, v)
    _modules(dump, v)
    product = dump.output("dmi:system-product-name")
    if dump.binary("dmidecode") and product.ok:
        name = "".join(line.strip() for line in product.lines if not line.startswith("#"))
        if name.startswith("VMware"):
            v.guess("VMware", "VMware")
        if "BHYVE" in product.text:
            v.guess("bhyve", "bhyve")
    if dump.exists("/dev/kvm"):
        v.host.add("kvm")
        if not v.found:
            v.facts.update(virtualization_type="kvm", virtualization_role="host")
            v.found = True
    if not v.found:
        v.facts.update(virtualization_type="NA", virtualization_role="NA")
    v.facts["virtualization_tech_guest"] = sorted(v.guest)
    v.facts["virtualization_tech_host"] = sorted(v.host)
    return v.facts


def _dmi(dump: Dump, v: _Virtual) -> None:
    product = dump.content(f"{DMI}/product_name")
    vendor = dump.content(f"{DMI}/sys_vendor")
    family = dump.content(f"{DMI}/product_family")
    bios = dump.content(f"{DMI}/bios_vendor")
    checks: list[tuple[bool, str]] = [
        (product in ("KVM", "KVM Server", "Bochs", "AHV", "CloudStack KVM Hypervisor"), "kvm"),
        (vendor == "oVirt", "oVirt"),
        (vendor == "Red Hat" and family == "RHV", "RHV"),
        (vendor == "Red Hat" and family != "RHV" and product == "RHEV Hypervisor", "RHEV"),
        (bool(product) and str(product).startswith("VMware"), "VMware"),
        (product in ("OpenStack Compute", "OpenStack Nova"), "openstack"),
        (bios == "Xen", "xen"),
        (bios == "innotek GmbH", "virtualbox"),
        (bios in ("Amazon EC2", "DigitalOcean", "Hetzner", "Linode"), "kvm"),
        (vendor in KVM_SYS_VENDORS, "kvm"),
        (vendor == "KubeVirt", "KubeVirt"),
        (vendor == "Microsoft Corporation", "VirtualPC"),
        (vendor == "Parallels Software International Inc.", "parallels"),
        (vendor == "OpenStack Foundation", "openstack"),
    ]
    for matched, tech in checks:
        if matched:
            v.guess(tech, tech, role=None)


def _cpuinfo(dump: Dump, v: _Virtual) -> None:
    rules = (
        ("^model name.*QEMU Virtual CPU", "kvm"),
        ("^vendor_id.*User Mode Linux", "uml"),
        ("^model name.*UML", "uml"),
        ("^machine.*CHRP IBM pSeries .emulated by qemu.", "kvm"),
        ("^vendor_id.*PowerVM Lx86", "powervm_lx86"),
    )
    for line in dump.output("cpuinfo").lines:
        tech = next((t for pattern, t in rules if re.match(pattern, line)), None)
        if tech is None and re.match("^vendor_id.*IBM/S390", line):
            v.guest.add("PR/SM")
            if not v.found:
                v.facts["virtualization_type"] = "PR/SM"
            tech = "ibm_systemz"
            if dump.binary("lscpu"):
                for row in dump.output("lscpu").lines:
                    key, _, rest = row.partition(":")
                    if key.strip() == "Hypervisor":
                        v.guest.add(rest.strip())
                        if not v.found:
                            v.facts["virtualization_type"] = rest.strip()
            else:
                v.guest.add(tech)
                if not v.found:
                    v.facts["virtualization_type"] = tech
        elif tech is not None:
            v.guest.add(tech)
            if not v.found:
                v.facts["virtualization_type"] = tech
        else:
            continue
        if not v.found:
            role = "LPAR" if v.facts.get("virtualization_type") == "PR/SM" else "guest"
            v.facts["virtualization_role"] = role
            v.found = True


def _modules(dump: Dump, v: _Virtual) -> None:
    if not (dump.exists("/proc/modules") and dump.readable("/proc/modules")):
        return
    modules = dump.output("modules").lines
    if "kvm" in modules:
        v.host.add("kvm")
        if not v.found:
            v.facts.update(virtualization_type="kvm", virtualization_role="host")
        if dump.isdir("/rhev/") and dump.value("vdsm") == "1":
            v.host.add("RHEV")
            if not v.found:
                v.facts["virtualization_type"] = "RHEV"
        v.found = True
    if "vboxdrv" in modules:
        v.host.add("virtualbox")
        if not v.found:
            v.facts.update(virtualization_type="virtualbox", virtualization_role="host")
            v.found = True
    if "virtio" in modules:
        v.host.add("kvm")
        if not v.found:
            v.facts.update(virtualization_type="kvm", virtualization_role="guest")
            v.found = True
