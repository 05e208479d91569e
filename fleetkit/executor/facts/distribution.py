"""distribution*, os_family and lsb, decided as ansible-core 2.19 decides them.

Two steps, as in Ansible: a first guess from the `distro` library's sources
(os-release, `lsb_release -a`, the first /etc/*-release file, /etc/debian_version),
then Ansible's ordered list of distribution files, where the first one a
distribution's parser accepts decides the name (and for some, the version or
release). Everything is read from the dump, so the same logic runs on canned files.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fleetkit.executor.facts.dump import Dump

OS_FAMILY_MAP: dict[str, tuple[str, ...]] = {
    "RedHat": (
        "RedHat", "RHEL", "Fedora", "CentOS", "Scientific", "SLC", "Ascendos", "CloudLinux",
        "PSBM", "OracleLinux", "OVS", "OEL", "Amazon", "Amzn", "Virtuozzo", "XenServer",
        "Alibaba", "EulerOS", "openEuler", "AlmaLinux", "Rocky", "TencentOS", "EuroLinux",
        "Kylin Linux Advanced Server", "MIRACLE",
    ),
    "Debian": (
        "Debian", "Ubuntu", "Raspbian", "Neon", "KDE neon", "Linux Mint", "SteamOS", "Devuan",
        "Kali", "Cumulus Linux", "Pop!_OS", "Parrot", "Pardus GNU/Linux", "Uos", "Deepin",
        "OSMC", "Linux Mint Debian Edition",
    ),
    "Suse": (
        "SuSE", "SLES", "SLED", "openSUSE", "openSUSE Tumbleweed", "SLES_SAP", "SUSE_LINUX",
        "openSUSE Leap", "ALP-Dolomite", "SL-Micro", "openSUSE MicroOS",
    ),
    "Archlinux": ("Archlinux", "Antergos", "Manjaro"),
    "Mandrake": ("Mandrake", "Mandriva"),
    "Solaris": ("Solaris", "Nexenta", "OmniOS", "OpenIndiana", "SmartOS"),
    "Slackware": ("Slackware",),
    "Altlinux": ("Altlinux",),
    "SMGL": ("SMGL",),
    "Gentoo": ("Gentoo", "Funtoo"),
    "Alpine": ("Alpine",),
    "AIX": ("AIX",),
    "HP-UX": ("HPUX",),
    "Darwin": ("MacOSX",),
    "FreeBSD": ("FreeBSD", "TrueOS"),
    "ClearLinux": ("Clear Linux OS", "Clear Linux Mix"),
    "DragonFly": (
        "DragonflyBSD", "DragonFlyBSD", "Gentoo/DragonflyBSD", "Gentoo/DragonFlyBSD",
    ),
    "NetBSD": ("NetBSD",),
}  # fmt: skip
OS_FAMILY = {name: family for family, names in OS_FAMILY_MAP.items() for name in names}

# (path, name, allow empty): Ansible's DistributionFiles.OSDIST_LIST, in its order
OSDIST_LIST: tuple[tuple[str, str, bool], ...] = (
    ("/etc/altlinux-release", "Altlinux", False),
    ("/etc/oracle-release", "OracleLinux", False),
    ("/etc/slackware-version", "Slackware", False),
    ("/etc/centos-release", "CentOS", False),
    ("/etc/redhat-release", "RedHat", False),
    ("/etc/vmware-release", "VMwareESX", True),
    ("/etc/openwrt_release", "OpenWrt", False),
    ("/etc/os-release", "Amazon", False),
    ("/etc/system-release", "Amazon", False),
    ("/etc/alpine-release", "Alpine", False),
    ("/etc/arch-release", "Archlinux", True),
    ("/etc/os-release", "Archlinux", False),
    ("/etc/os-release", "SUSE", False),
    ("/etc/SuSE-release", "SUSE", False),
    ("/etc/gentoo-release", "Gentoo", False),
    ("/etc/os-release", "Debian", False),
    ("/etc/lsb-release", "Debian", False),
    ("/etc/lsb-release", "Mandriva", False),
    ("/etc/sourcemage-release", "SMGL", False),
    ("/usr/lib/os-release", "ClearLinux", False),
    ("/etc/coreos/update.conf", "Coreos", False),
    ("/etc/os-release", "Flatcar", False),
    ("/etc/os-release", "NA", False),
)
SEARCH_STRING = {
    "OracleLinux": "Oracle Linux",
    "RedHat": "Red Hat",
    "Altlinux": "ALT",
    "SMGL": "Source Mage GNU/Linux",
}
OS_RELEASE_ALIAS = {"Archlinux": "Arch Linux"}
STRIP_QUOTES = "'\"\\"

# the distro library's tables (ansible.module_utils.distro)
NORMALIZED_OS_ID = {"ol": "oracle", "opensuse-leap": "opensuse"}
NORMALIZED_LSB_ID = {
    "enterpriseenterpriseas": "oracle",
    "enterpriseenterpriseserver": "oracle",
    "redhatenterpriseworkstation": "rhel",
    "redhatenterpriseserver": "rhel",
    "redhatenterprisecomputenode": "rhel",
}
NORMALIZED_DISTRO_ID = {"redhat": "rhel"}
RELEASE_CONTENT = re.compile(r"(?:[^)]*\)(.*)\()? *(?:STL )?([\d.+\-a-z]*\d) *(?:esaeler *)?(.+)")
RELEASE_BASENAME = re.compile(r"(\w+)[-_](release|version)$")
RELEASE_IGNORED = frozenset(
    {
        "debian_version", "lsb-release", "oem-release", "os-release", "system-release",
        "plesk-release", "iredmail-release", "board-release", "ec2_version",
    }
)  # fmt: skip

Facts = dict[str, Any]


@dataclass(frozen=True)
class Distro:
    """The `distro` library's view of the host (what sys_info's helpers call)."""

    dump: Dump

    @cached_property
    def os_release_file(self) -> str:
        etc, lib = "/etc/os-release", "/usr/lib/os-release"
        return etc if self.dump.isfile(etc) or not self.dump.isfile(lib) else lib

    @cached_property
    def os_release(self) -> dict[str, str]:
        text = self.dump.raw(self.os_release_file)
        return parse_os_release(text) if text is not None else {}

    @cached_property
    def lsb_release(self) -> dict[str, str]:
        out = self.dump.output("lsb_release")
        if not out.ok:
            return {}
        props: dict[str, str] = {}
        for line in out.lines:
            k, colon, v = line.partition(":")
            if colon:
                props[k.replace(" ", "_").lower()] = v.strip()
        return props

    @cached_property
    def distro_release(self) -> dict[str, str]:
        names = sorted(
            posixpath.basename(p)
            for p in self.dump.kinds
            if posixpath.dirname(p) == "/etc"
            and "f" in self.dump.kind(p)
            and posixpath.basename(p) not in RELEASE_IGNORED
        )
        for name in names:
            match = RELEASE_BASENAME.match(name)
            if match is None:
                continue
            lines = self.dump.files.get(f"/etc/{name}", ())
            info = parse_release_line(lines[0] if lines else "")
            if "name" not in info:
                continue
            info["id"] = match.group(1)
            if "cloudlinux" in info.get("name", "").lower():
                info["id"] = "cloudlinux"
            return info
        return {}

    @cached_property
    def debian_version(self) -> str:
        lines = self.dump.files.get("/etc/debian_version")
        if lines is None:
            single = self.dump.singles.get("/etc/debian_version")
            return single.rstrip() if single is not None else ""
        return lines[0].rstrip() if lines else ""

    def id(self) -> str:
        for value, table in (
            (self.os_release.get("id", ""), NORMALIZED_OS_ID),
            (self.lsb_release.get("distributor_id", ""), NORMALIZED_LSB_ID),
            (self.distro_release.get("id", ""), NORMALIZED_DISTRO_ID),
        ):
            if value:
                key = value.lower().replace(" ", "_")
                return table.get(key, key)
        return ""

    def like(self) -> str:
        return self.os_release.get("id_like", "")

    def version(self, *, best: bool = False) -> str:
        versions = [
            self.os_release.get("version_id", ""),
            self.lsb_release.get("release", ""),
            self.distro_release.get("version_id", ""),
            parse_release_line(self.os_release.get("pretty_name", "")).get("version_id", ""),
            parse_release_line(self.lsb_release.get("description", "")).get("version_id", ""),
            "",  # uname: never a version on Linux
        ]
        if self.id() == "debian" or "debian" in self.like().split():
            versions.append(self.debian_version)
        version = ""
        if best:
            for v in versions:
                if v.count(".") > version.count(".") or version == "":
                    version = v
            return version
        return next((v for v in versions if v), "")

    def codename(self) -> str:
        if "codename" in self.os_release:
            return self.os_release["codename"]
        return self.lsb_release.get("codename") or self.distro_release.get("codename") or ""


def parse_os_release(text: str) -> dict[str, str]:
    """An os-release file's items, parsed as the distro library parses them (shell-like)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    props: dict[str, str] = {}
    try:
        tokens = list(lexer)
    except ValueError:
        tokens = []
    for token in tokens:
        if "=" in token:
            k, v = token.split("=", 1)
            props[k.lower()] = v
    if "version" in props:
        match = re.search(r"\((\D+)\)|,\s*(\D+)", props["version"])
        if match:
            props["codename"] = props["release_codename"] = match.group(1) or match.group(2)
    if "version_codename" in props:
        props["codename"] = props["version_codename"]
    elif "ubuntu_codename" in props:
        props["codename"] = props["ubuntu_codename"]
    return props


def parse_release_line(line: str) -> dict[str, str]:
    """One line of a distro release file ("CentOS Linux release 7.9.2009 (Core)")."""
    matches = RELEASE_CONTENT.match(line.strip()[::-1])
    info: dict[str, str] = {}
    if matches:
        info["name"] = matches.group(3)[::-1]
        if matches.group(2):
            info["version_id"] = matches.group(2)[::-1]
        if matches.group(1):
            info["codename"] = matches.group(1)[::-1]
    elif line:
        info["name"] = line.strip()
    return info


def sys_info_distribution(distro: Distro) -> str:
    """ansible.module_utils.common.sys_info.get_distribution on Linux."""
    name = distro.id().capitalize()
    return {"Amzn": "Amazon", "Rhel": "Redhat"}.get(name, name) or "OtherLinux"


def sys_info_version(distro: Distro) -> str:
    version = distro.version()
    distro_id = distro.id()
    if distro_id == "centos":
        version = ".".join(distro.version(best=True).split(".")[:2])
    elif distro_id == "debian":
        version = distro.version(best=True)
    return version


def sys_info_codename(distro: Distro) -> str | None:
    info = distro.os_release
    codename = info.get("version_codename")
    if codename is None:
        codename = info.get("ubuntu_codename")
    if codename is None and distro.id() == "ubuntu":
        codename = distro.lsb_release.get("codename")
    if codename is None:
        codename = distro.codename() or None
    return codename


# the distribution files ---------------------------------------------------------------


@dataclass(frozen=True)
class DistFile:
    """One distribution file as a parser sees it: its name in OSDIST_LIST, content, path,
    and the facts gathered so far (the first guess)."""

    dump: Dump
    distro: Distro
    name: str
    data: str
    path: str
    got: Facts


Parsed = tuple[bool, Facts]
Parser = Callable[[DistFile], Parsed]


def _slackware(f: DistFile) -> Parsed:
    if "Slackware" not in f.data:
        return False, {}
    out: Facts = {"distribution": f.name}
    version = re.findall(r"\w+[.]\w+\+?", f.data)
    if version:
        out["distribution_version"] = version[0]
    return True, out


def _amazon(f: DistFile) -> Parsed:
    if "Amazon" not in f.data:
        return False, {}
    out: Facts = {"distribution": "Amazon"}
    if f.path == "/etc/os-release":
        version = re.search(r"VERSION_ID=\"(.*)\"", f.data)
        if version:
            value = version.group(1)
            out["distribution_version"] = value
            parts = value.split(".")
            if len(parts) > 1:
                out["distribution_major_version"], out["distribution_minor_version"] = parts[:2]
            else:
                out["distribution_major_version"], out["distribution_minor_version"] = (
                    parts[0],
                    "NA",
                )
    else:
        digits = [n for n in f.data.split() if n.isdigit()]
        out["distribution_version"] = digits[0] if digits else "NA"
    return True, out


def _openwrt(f: DistFile) -> Parsed:
    if "OpenWrt" not in f.data:
        return False, {}
    out: Facts = {"distribution": f.name}
    version = re.search('DISTRIB_RELEASE="(.*)"', f.data)
    if version:
        out["distribution_version"] = version.group(1)
    release = re.search('DISTRIB_CODENAME="(.*)"', f.data)
    if release:
        out["distribution_release"] = release.group(1)
    return True, out


def _alpine(f: DistFile) -> Parsed:
    return True, {"distribution": "Alpine", "distribution_version": f.data}


def _suse(f: DistFile) -> Parsed:
    if "suse" not in f.data.lower():
        return False, {}
    out: Facts = {}
    lower = f.data.lower()
    if f.path == "/etc/os-release":
        for line in f.data.splitlines():
            found = re.search("^NAME=(.*)", line)
            if found:
                out["distribution"] = found.group(1).strip('"')
            version = re.search(r'^VERSION_ID="?([0-9]+\.?[0-9]*)"?', line)
            if version:
                out["distribution_version"] = version.group(1)
                out["distribution_major_version"] = version.group(1).split(".")[0]
            if "open" in lower:
                release = re.search(r'^VERSION_ID="?[0-9]+\.?([0-9]*)"?', line)
                if release:
                    out["distribution_release"] = release.group(1)
            elif "enterprise" in lower and "VERSION_ID" in line:
                release = re.search(r'^VERSION_ID="?[0-9]+\.?([0-9]*)"?', line)
                out["distribution_release"] = (release.group(1) if release else "") or "0"
    elif f.path == "/etc/SuSE-release":
        lines = f.data.splitlines()
        if "open" in lower:
            out["distribution"] = (f.dump.file_lines(f.path) or [""])[0].split()[0]
            for line in lines:
                release = re.search("CODENAME *= *([^\n]+)", line)
                if release:
                    out["distribution_release"] = release.group(1).strip()
        elif "enterprise" in lower:
            if "Server" in f.data:
                out["distribution"] = "SLES"
            elif "Desktop" in f.data:
                out["distribution"] = "SLED"
            for line in lines:
                release = re.search("PATCHLEVEL = ([0-9]+)", line)
                if release:
                    out["distribution_release"] = release.group(1)
                    out["distribution_version"] = (
                        f"{f.got['distribution_version']}.{release.group(1)}"
                    )
    variant = re.search(r'^VARIANT_ID="?([^"\n]*)"?', f.data, re.MULTILINE)
    if variant:
        if variant.group(1) in ("server-sap", "sles-sap"):
            out["distribution"] = "SLES_SAP"
        elif variant.group(1) == "transactional":
            out["distribution"] = "SL-Micro"
    elif f.dump.islink("/etc/products.d/baseproduct"):
        resolved = f.dump.realpath("/etc/products.d/baseproduct")
        if resolved.endswith("SLES_SAP.prod"):
            out["distribution"] = "SLES_SAP"
        elif resolved.endswith("SL-Micro.prod"):
            out["distribution"] = "SL-Micro"
    return True, out


def _version_pair(data: str, pattern: str = r"VERSION_ID=\"(.*)\"") -> Facts:
    version = re.search(pattern, data)
    if not version:
        return {}
    return {
        "distribution_version": version.group(1),
        "distribution_major_version": version.group(1).split(".")[0],
    }


def _debian(f: DistFile) -> Parsed:
    out: Facts = {}
    if any(d in f.data for d in ("Debian", "Raspbian")):
        out["distribution"] = "Debian"
        release = re.search(r"PRETTY_NAME=[^(]+ \(?([^)]+?)\)", f.data)
        if release:
            out["distribution_release"] = release.group(1)
        if f.got["distribution_release"] == "NA" and "Debian" in f.data:
            tz = f.dump.output("tzdata")
            if f.dump.binary("dpkg") and tz.ok:
                out["distribution_release"] = tz.text.strip()
        for line in f.dump.file_lines("/etc/debian_version"):
            found = re.search(r"(\d+)\.(\d+)", line.strip())
            if found:
                out["distribution_minor_version"] = found.group(2)
    elif "Ubuntu" in f.data:
        out["distribution"] = "Ubuntu"
    elif "SteamOS" in f.data:
        out["distribution"] = "SteamOS"
    elif f.path in ("/etc/lsb-release", "/etc/os-release") and (
        "Kali" in f.data or "Parrot" in f.data
    ):
        out["distribution"] = "Kali" if "Kali" in f.data else "Parrot"
        release = re.search("DISTRIB_RELEASE=(.*)", f.data)
        if release:
            out["distribution_release"] = release.group(1)
    elif "Devuan" in f.data:
        out["distribution"] = "Devuan"
        release = re.search(r"PRETTY_NAME=\"?[^(\"]+ \(?([^) \"]+)\)?", f.data)
        if release:
            out["distribution_release"] = release.group(1)
        version = re.search(r"VERSION_ID=\"(.*)\"", f.data)
        if version:
            out["distribution_version"] = out["distribution_major_version"] = version.group(1)
    elif "Cumulus" in f.data:
        out["distribution"] = "Cumulus Linux"
        version = re.search(r"VERSION_ID=(.*)", f.data)
        if version:
            out["distribution_version"] = version.group(1)
            out["distribution_major_version"] = version.group(1).split(".")[0]
        release = re.search(r'VERSION="(.*)"', f.data)
        if release:
            out["distribution_release"] = release.group(1)
    elif "Mint" in f.data:
        out["distribution"] = "Linux Mint"
        out.update(_version_pair(f.data))
    elif "UOS" in f.data or "Uos" in f.data or "uos" in f.data:
        out["distribution"] = "Uos"
        release = re.search(r"VERSION_CODENAME=\"?([^\"]+)\"?", f.data)
        if release:
            out["distribution_release"] = release.group(1)
        out.update(_version_pair(f.data))
    elif "Deepin" in f.data or "deepin" in f.data:
        out["distribution"] = "Deepin"
        release = re.search(r"VERSION_CODENAME=\"?([^\"]+)\"?", f.data)
        if release:
            out["distribution_release"] = release.group(1)
        out.update(_version_pair(f.data))
    elif "LMDE" in f.data:
        out["distribution"] = "Linux Mint Debian Edition"
    else:
        return False, out
    return True, out


def _mandriva(f: DistFile) -> Parsed:
    if "Mandriva" not in f.data:
        return False, {}
    out: Facts = {"distribution": f.name}
    version = re.search('DISTRIB_RELEASE="(.*)"', f.data)
    if version:
        out["distribution_version"] = version.group(1)
    release = re.search('DISTRIB_CODENAME="(.*)"', f.data)
    if release:
        out["distribution_release"] = release.group(1)
    return True, out


def _na(f: DistFile) -> Parsed:
    out: Facts = {}
    for line in f.data.splitlines():
        found = re.search("^NAME=(.*)", line)
        if found and f.name == "NA":
            out["distribution"] = found.group(1).strip('"')
        version = re.search("^VERSION=(.*)", line)
        if version and f.got["distribution_version"] == "NA":
            out["distribution_version"] = version.group(1).strip('"')
    return True, out


def _coreos(f: DistFile) -> Parsed:
    if sys_info_distribution(f.distro).lower() != "coreos" or not f.data:
        return False, {}
    release = re.search("^GROUP=(.*)", f.data)
    return True, ({"distribution_release": release.group(1).strip('"')} if release else {})


def _flatcar(f: DistFile) -> Parsed:
    if sys_info_distribution(f.distro).lower() != "flatcar" or not f.data:
        return False, {}
    version = re.search("VERSION=(.*)", f.data)
    if not version:
        return True, {}
    value = version.group(1).strip('"')
    return True, {"distribution_major_version": value.split(".")[0], "distribution_version": value}


def _clearlinux(f: DistFile) -> Parsed:
    out: Facts = {}
    pname = re.search('NAME="(.*)"', f.data)
    if pname:
        if "Clear Linux" not in pname.group(1):
            return False, {}
        out["distribution"] = pname.group(1)
    version = re.search("VERSION_ID=(.*)", f.data)
    if version:
        out["distribution_major_version"] = out["distribution_version"] = version.group(1)
    release = re.search("ID=(.*)", f.data)
    if release:
        out["distribution_release"] = release.group(1)
    return True, out


def _centos(f: DistFile) -> Parsed:
    if "CentOS Stream" in f.data:
        return True, {"distribution_release": "Stream"}
    if "TencentOS Server" in f.data:
        return True, {"distribution": "TencentOS"}
    return False, {}


PARSERS: dict[str, Parser] = {
    "Slackware": _slackware,
    "Amazon": _amazon,
    "OpenWrt": _openwrt,
    "Alpine": _alpine,
    "SUSE": _suse,
    "Debian": _debian,
    "Mandriva": _mandriva,
    "NA": _na,
    "Coreos": _coreos,
    "Flatcar": _flatcar,
    "ClearLinux": _clearlinux,
    "CentOS": _centos,
}


def _parse_file(
    dump: Dump, distro: Distro, name: str, data: str, path: str, got: Facts
) -> tuple[bool, Facts]:
    data = data.strip(STRIP_QUOTES)
    if name in SEARCH_STRING:
        if SEARCH_STRING[name] in data:
            return True, {
                "distribution": name,
                "distribution_file_search_string": SEARCH_STRING[name],
            }
        return True, {"distribution": data.split()[0]} if data.split() else {}
    if name in OS_RELEASE_ALIAS:
        return (OS_RELEASE_ALIAS[name] in data), (
            {"distribution": name} if OS_RELEASE_ALIAS[name] in data else {}
        )
    parser = PARSERS.get(name)
    if parser is None:
        return False, {}
    return parser(DistFile(dump, distro, name, data, path, got))


def distribution_facts(dump: Dump, system: str) -> Facts:
    """Ansible's DistributionFactCollector: distribution*, os_family (Linux hosts)."""
    distro = Distro(dump)
    facts: Facts = {"distribution": system}
    if system == "Linux":
        version = sys_info_version(distro) or "NA"
        codename = sys_info_codename(distro)
        found: Facts = {
            "distribution": sys_info_distribution(distro) or "NA",
            "distribution_version": version,
            "distribution_release": "NA" if codename is None else codename,
            "distribution_major_version": version.split(".")[0] or "NA",
        }
        for path, name, allow_empty in OSDIST_LIST:
            if not dump.isfile(path):
                continue
            data = dump.content(path)
            if allow_empty:
                found.update(
                    distribution=name, distribution_file_path=path, distribution_file_variety=name
                )
                break
            if data is None:
                continue
            parsed, more = _parse_file(dump, distro, name, data, path, found)
            if parsed:
                found.update(
                    distribution=name,
                    distribution_file_path=path,
                    distribution_file_variety=name,
                    distribution_file_parsed=parsed,
                )
                found.update(more)
                break
        facts.update(found)
    facts["os_family"] = OS_FAMILY.get(facts["distribution"]) or facts["distribution"]
    return facts


def lsb_facts(dump: Dump) -> Facts:
    """Ansible's LSBFactCollector: `lsb_release -a`, else /etc/lsb-release."""
    lsb: dict[str, str] = {}
    out = dump.output("lsb_release")
    if dump.binary("lsb_release") and out.ok:
        for line in out.lines:
            if not line or ":" not in line:
                continue
            value = line.split(":", 1)[1].strip()
            for label, key in (
                ("LSB Version:", "release"),
                ("Distributor ID:", "id"),
                ("Description:", "description"),
                ("Release:", "release"),
                ("Codename:", "codename"),
            ):
                if label in line:
                    lsb[key] = value
                    break
    if not lsb and dump.exists("/etc/lsb-release"):
        for line in dump.file_lines("/etc/lsb-release"):
            value = line.split("=", 1)[1].strip() if "=" in line else ""
            for label, key in (
                ("DISTRIB_ID", "id"),
                ("DISTRIB_RELEASE", "release"),
                ("DISTRIB_DESCRIPTION", "description"),
                ("DISTRIB_CODENAME", "codename"),
            ):
                if label in line:
                    lsb[key] = value
                    break
    if lsb and "release" in lsb:
        lsb["major_release"] = lsb["release"].split(".")[0]
    return {"lsb": {k: (v.strip(STRIP_QUOTES) if v else v) for k, v in lsb.items()}}
