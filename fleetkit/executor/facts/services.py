"""service_mgr, pkg_mgr and systemd: what manages services and packages on the host.

As ansible-core 2.19 decides: PID 1's name first (mapped, `init` and shells
distrusted), then systemd's boot canaries, upstart, openrc, /sbin/init, sysvinit;
the package manager from the last binary found in Ansible's list, with the family's
default where several are installed.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from fleetkit.executor.facts.dump import Dump

Facts = dict[str, Any]

PROC_1_MAP = {
    "procd": "openwrt_init",
    "runit-init": "runit",
    "svscan": "svc",
    "openrc-init": "openrc",
}
PKG_MGRS: tuple[tuple[str, str], ...] = (
    ("/usr/bin/rpm-ostree", "atomic_container"),
    ("/usr/bin/yum", "dnf"),
    ("/usr/bin/dnf-3", "dnf"),
    ("/usr/bin/dnf5", "dnf5"),
    ("/usr/bin/apt-get", "apt"),
    ("/usr/bin/zypper", "zypper"),
    ("/usr/sbin/urpmi", "urpmi"),
    ("/usr/bin/pacman", "pacman"),
    ("/bin/opkg", "opkg"),
    ("/usr/pkg/bin/pkgin", "pkgin"),
    ("/opt/local/bin/pkgin", "pkgin"),
    ("/opt/tools/bin/pkgin", "pkgin"),
    ("/opt/local/bin/port", "macports"),
    ("/usr/local/bin/brew", "homebrew"),
    ("/opt/homebrew/bin/brew", "homebrew"),
    ("/sbin/apk", "apk"),
    ("/usr/sbin/pkg", "pkgng"),
    ("/usr/sbin/swlist", "swdepot"),
    ("/usr/bin/emerge", "portage"),
    ("/usr/sbin/pkgadd", "svr4pkg"),
    ("/usr/bin/pkg", "pkg5"),
    ("/usr/bin/xbps-install", "xbps"),
    ("/usr/local/sbin/pkg", "pkgng"),
    ("/usr/bin/swupd", "swupd"),
    ("/usr/sbin/sorcery", "sorcery"),
    ("/usr/bin/installp", "installp"),
)
SYSTEMD_CANARIES = ("/run/systemd/system/", "/dev/.run/systemd/", "/dev/.systemd/")


def systemd_managed(dump: Dump) -> bool:
    return bool(dump.binary("systemctl")) and any(dump.exists(c) for c in SYSTEMD_CANARIES)


def _systemd_offline(dump: Dump) -> bool:
    target = dump.readlink("/sbin/init")
    return (
        bool(dump.binary("systemctl"))
        and target is not None
        and (posixpath.basename(target) == "systemd")
    )


def service_mgr_facts(dump: Dump, collected: Facts) -> Facts:
    proc_1: str | None = dump.content("/proc/1/comm")
    if proc_1 is None:
        out = dump.output("ps1")
        text = out.text
        proc_1 = None if (not out.ok or not text.strip() or re.match(r" *[0-9]+ ", text)) else text
        if proc_1 == "COMMAND\n":
            proc_1 = None
    if proc_1 is None and dump.islink("/sbin/init"):
        proc_1 = dump.readlink("/sbin/init")
    if proc_1 is not None:
        proc_1 = posixpath.basename(proc_1).strip()
        if proc_1 == "init" or proc_1.endswith("sh"):
            proc_1 = None
    name: str | None = None
    system = collected.get("system", "")
    distribution = collected.get("distribution", "")
    if proc_1 is not None:
        name = PROC_1_MAP.get(proc_1, proc_1)
    elif distribution == "MacOSX":
        name = "launchd"
    elif "BSD" in system or system in ("Bitrig", "DragonFly"):
        name = "bsdinit"
    elif system == "AIX":
        name = "src"
    elif system == "SunOS":
        name = "smf"
    elif distribution == "OpenWrt":
        name = "openwrt_init"
    elif distribution == "SMGL":
        name = "simpleinit_msb"
    elif system == "Linux":
        if systemd_managed(dump):
            name = "systemd"
        elif dump.value("have_initctl") and dump.exists("/etc/init/"):
            name = "upstart"
        elif dump.exists("/sbin/openrc"):
            name = "openrc"
        elif _systemd_offline(dump):
            name = "systemd"
        elif dump.exists("/etc/init.d/"):
            name = "sysvinit"
        elif dump.exists("/etc/dinit.d/"):
            name = "dinit"
    return {"service_mgr": name or "service"}


def pkg_mgr_facts(dump: Dump, collected: Facts) -> Facts:
    family = collected.get("os_family")
    name = "unknown"
    for path, mgr in PKG_MGRS:
        if family == "Altlinux" and path == "/usr/bin/pkg":
            continue
        if dump.exists(path):
            name = mgr
    if family == "RedHat":
        name = _rh_default(dump)
    elif family == "Debian" and name != "apt":
        name = "apt"
    elif family == "Altlinux" and name == "apt":
        name = "apt_rpm"
    if name == "apt" and dump.exists("/usr/bin/rpm"):
        name = "apt_rpm" if dump.value("rpm_apt") == "0" else "apt"
    return {"pkg_mgr": name}


def _rh_default(dump: Dump) -> str:
    if dump.exists("/run/ostree-booted"):
        return "atomic_container"
    for path in ("/usr/bin/dnf", "/usr/bin/microdnf"):
        if dump.exists(path):
            return "dnf5" if dump.realpath(path) == "/usr/bin/dnf5" else "dnf"
    return "unknown"


def systemd_facts(dump: Dump) -> Facts:
    out = dump.output("systemd")
    if not (dump.binary("systemctl") and systemd_managed(dump)) or not out.ok:
        return {}
    text = out.text
    try:
        return {
            "systemd": {
                "features": str(text.split("\n")[1]),
                "version": int(text.split(" ")[1]),
            }
        }
    except (IndexError, ValueError):
        return {}
