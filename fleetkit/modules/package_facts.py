"""package_facts: the host's installed packages as the `packages` fact, in one command.

ansible.builtin.package_facts's shape: `packages` maps a name to a list of
{name, version, ..., source} (source: the manager). Managers are tried in
Ansible's order (`auto`: apk, apt, pacman, pkg, pkg_info, portage, rpm, after
any named first); with strategy `first` the first that lists packages wins.
Natively: apt from python3-apt on the host as Ansible reads it, else (no
python3-apt, where Ansible finds no apt manager) from dpkg's database with each
installed version's origin from `apt-cache policy` (its section is then dpkg's,
not the archive's); rpm from `rpm -qa`, apk, pacman, pkg, pkg_info and portage
from their own listings.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.fact_result import fact_result

Package = dict[str, Any]
MANAGERS = ("apk", "apt", "pacman", "pkg", "pkg_info", "portage", "rpm")
ALIASES = {
    "rpm": ("dnf", "dnf5", "yum", "zypper"),
    "pkg": ("pkg5", "pkgng"),
    "pkg_info": ("openbsd_pkg",),
}
NAMES = (*MANAGERS, *(a for names in ALIASES.values() for a in names))
TAB = "\\t"

APT_PROBE = (
    "import apt, json\n"
    "cache = apt.Cache()\n"
    "for name in cache.keys():\n"
    "    pkg = cache[name]\n"
    "    if pkg.is_installed:\n"
    "        v = pkg.installed\n"
    "        origin = v.origins[0].origin if v.origins else None\n"
    '        print("J\\t" + json.dumps([name, v.version, v.architecture, v.section, origin]))\n'
)
"""python3-apt's view, as Ansible's apt manager reads it (when the host has python3-apt)."""
APT_LISTING = (
    "fk_done=\n"
    "for fk_py in python3 /usr/bin/python3; do\n"
    "  command -v $fk_py >/dev/null || continue\n"
    f"  $fk_py -c {shlex.quote(APT_PROBE)} 2>/dev/null && {{ fk_done=1; break; }}\n"
    "done\n"
    '[ -n "$fk_done" ] || {\n'
    "fk_arch=$(dpkg --print-architecture)\n"
    "dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}"
    "\\t${Section}\\n' | awk -F'\\t' -v a=\"$fk_arch\" '$1 !~ /^.[cn]/ {"
    ' n = $2; if ($4 != a && $4 != "all") n = n ":" $4;'
    ' print "P\\t" n "\\t" $3 "\\t" $4 "\\t" $5 }\' > "$fk_t"\n'
    'cat "$fk_t"\n'
    "if command -v apt-cache >/dev/null; then\n"
    "  apt-cache policy | sed 's/^/F\\t/'\n"
    "  cut -f2 \"$fk_t\" | xargs apt-cache policy | sed 's/^/V\\t/'\n"
    "fi\n"
    "}"
)
"""Without python3-apt: dpkg's database, origins from `apt-cache policy`."""

LISTINGS = {
    "apk": ("apk", "apk info -v"),
    "apt": ("dpkg-query", APT_LISTING),
    "pacman": ("pacman", "LC_ALL=C pacman -Qi"),
    "pkg": ("pkg", f"pkg query '%n{TAB}%v{TAB}%R{TAB}%t{TAB}%a{TAB}%q{TAB}%o{TAB}%p{TAB}%V'"),
    "pkg_info": ("pkg_info", "pkg_info -a"),
    "portage": ("qlist", "qlist -Iv | xargs -n 1024 qatom"),
    "rpm": (
        "rpm",
        "rpm -qa --qf '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{EPOCH}\\t%{ARCH}\\n'",
    ),
}


class PackageFacts(Module):
    name = "package_facts"
    args: ClassVar[dict[str, Arg]] = {
        "manager": Arg("list", default=["auto"]),
        "strategy": Arg("str", default="first", choices=("first", "all")),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        asked = [str(m).lower() for m in ctx.arg("manager") or ["auto"]]
        managers = [m for m in asked if m != "auto"]
        if "auto" in asked:
            managers += list(MANAGERS)
        unsupported = sorted(set(managers) - set(NAMES))
        if unsupported:
            if "auto" in asked:
                return fail(
                    "Could not auto detect a usable package manager, check warnings for details."
                )
            return fail(f"Unsupported package managers requested: {', '.join(unsupported)}")
        order: list[str] = []
        for m in managers:
            real = next((k for k, names in ALIASES.items() if m in names), m)
            if real not in order:
                order.append(real)
        strategy = str(ctx.arg("strategy") or "first")
        res = ctx.run(script(order, strategy))
        if not res.ok:
            return fail(f"cannot list packages: {res.stderr.strip() or f'rc={res.rc}'}")
        packages: dict[str, list[Package]] = {}
        for manager, body in sections(res.stdout):
            for name, found in PARSERS[manager](body).items():
                packages.setdefault(name, []).extend(found)
        if not packages:
            return fail(
                "Could not detect a supported package manager from the following list:"
                f" {managers}, or the required Python library is not installed."
                " Check warnings for details."
            )
        return fact_result(ctx, {"packages": packages}, note=f"{len(packages)} packages")


def script(order: list[str], strategy: str) -> str:
    """One shell script: each manager's listing between markers, in order."""
    parts = ["fk_t=$(mktemp) || exit 1\ntrap 'rm -f \"$fk_t\"' EXIT\nfk_found=\n"]
    for manager in order:
        tool, listing = LISTINGS[manager]
        stop = '[ -n "$fk_found" ] && exit 0\n' if strategy == "first" else ""
        parts.append(
            f"{stop}if command -v {shlex.quote(tool)} >/dev/null 2>&1; then\n"
            f"  fk_out=$({listing})\n"
            f'  if [ $? = 0 ] && [ -n "$fk_out" ]; then\n'
            f"    printf '@@%s\\n' {manager}; printf '%s\\n' \"$fk_out\"; fk_found=1\n"
            "  fi\nfi\n"
        )
    parts.append("exit 0\n")
    return "".join(parts)


def sections(stdout: str) -> list[tuple[str, list[str]]]:
    """(manager, its listing's lines) for each manager the script listed."""
    out: list[tuple[str, list[str]]] = []
    for line in stdout.splitlines():
        if line.startswith("@@") and line[2:] in LISTINGS:
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def _add(found: dict[str, list[Package]], pkg: Package, source: str) -> None:
    pkg.setdefault("source", source)
    found.setdefault(pkg["name"], []).append(pkg)


def parse_apt(lines: list[str]) -> dict[str, list[Package]]:
    """dpkg-query's installed packages, each with the origin python3-apt gives:
    the Release `o=` of the first package file that holds the installed version
    ('' when that is dpkg's status file)."""
    origins: dict[str, str] = {}
    last = ""
    for line in (ln[2:] for ln in lines if ln.startswith("F\t")):
        words = line.split(None, 1)
        if len(words) == 2 and words[0].lstrip("-").isdigit():
            last = words[1].strip()
            origins.setdefault(last, "")
        elif line.strip().startswith("release ") and last:
            fields = dict(f.split("=", 1) for f in line.strip()[8:].split(",") if "=" in f)
            origins[last] = fields.get("o", "")
    installed_from = _installed_files([ln[2:] for ln in lines if ln.startswith("V\t")])
    found: dict[str, list[Package]] = {}
    for line in lines:
        if line.startswith("J\t"):
            try:
                name, version, arch, section, origin = json.loads(line[2:])
            except ValueError:
                continue
            pkg = {"name": name, "version": version, "arch": arch, "category": section}
            pkg["origin"] = origin
            _add(found, pkg, "apt")
            continue
        if not line.startswith("P\t"):
            continue
        _, name, version, arch, section = (line.split("\t") + [""] * 5)[:5]
        where = installed_from.get(name, "")
        origin = "" if where in ("", "/var/lib/dpkg/status") else origins.get(where, "")
        pkg = {"name": name, "version": version, "arch": arch, "category": section}
        pkg["origin"] = origin
        _add(found, pkg, "apt")
    return found


def _installed_files(lines: list[str]) -> dict[str, str]:
    """`apt-cache policy PKG...`: each package's first file under its installed (***) version."""
    out: dict[str, str] = {}
    package, in_installed = "", False
    for line in lines:
        if line and not line.startswith(" ") and line.endswith(":"):
            package, in_installed = line[:-1], False
        elif line.startswith(" *** "):
            in_installed = True
        elif re.match(r"^ {5}\S", line):
            in_installed = False  # another version of the table
        elif in_installed and package not in out:
            words = line.split(None, 1)
            if len(words) == 2 and words[0].lstrip("-").isdigit():
                out[package] = words[1].strip()
    return out


def parse_rpm(lines: list[str]) -> dict[str, list[Package]]:
    found: dict[str, list[Package]] = {}
    for line in lines:
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        name, version, release, epoch, arch = ("None" if f == "(none)" else f for f in fields)
        pkg = {"name": name, "version": version, "release": release, "epoch": epoch}
        pkg["arch"] = arch
        _add(found, pkg, "rpm")
    return found


def parse_apk(lines: list[str]) -> dict[str, list[Package]]:
    found: dict[str, list[Package]] = {}
    for line in lines:
        if not line:
            continue
        nvr = line.rsplit("-", 2)
        pkg: Package = (
            {"name": nvr[0], "version": nvr[1], "release": nvr[2]}
            if len(nvr) == 3
            else {"name": line, "version": "", "release": ""}
        )
        _add(found, pkg, "apk")
    return found


def parse_pacman(lines: list[str]) -> dict[str, list[Package]]:
    found: dict[str, list[Package]] = {}
    for block in "\n".join(lines).split("\n\n"):
        details: dict[str, str] = {}
        last = ""
        for line in block.splitlines():
            match = re.match(r"([\w ]*[\w]) +: (.*)", line)
            if match:
                last = match.group(1)
                details[last] = match.group(2)
            elif last:
                details[last] = details[last] + "  " + line.lstrip()
        if "Name" not in details:
            continue
        provides = None
        if details.get("Provides", "None") != "None":
            provides = [p.split("=")[0] for p in details["Provides"].split("  ")]
        pkg: Package = {"name": details["Name"], "version": details.get("Version", "")}
        pkg.update(arch=details.get("Architecture", ""), provides=provides)
        _add(found, pkg, "pacman")
    return found


def parse_pkg(lines: list[str]) -> dict[str, list[Package]]:
    atoms = (
        "name", "version", "origin", "installed", "automatic", "arch", "category", "prefix",
        "vital",
    )  # fmt: skip
    found: dict[str, list[Package]] = {}
    for line in lines:
        if not line:
            continue
        pkg: Package = dict(zip(atoms, line.split("\t"), strict=False))
        if "arch" in pkg:
            parts = str(pkg["arch"]).split(":")
            pkg["arch"] = parts[2] if len(parts) > 2 else pkg["arch"]
        if "automatic" in pkg:
            pkg["automatic"] = bool(int(pkg["automatic"]))
        if "category" in pkg:
            pkg["category"] = str(pkg["category"]).split("/", 1)[0]
        if "version" in pkg:
            version = str(pkg["version"])
            version, _, epoch = version.partition(",")
            pkg["port_epoch"] = epoch if epoch else 0
            version, _, revision = version.partition("_")
            pkg["version"], pkg["revision"] = version, revision or "0"
        if "vital" in pkg:
            pkg["vital"] = bool(int(pkg["vital"]))
        _add(found, pkg, "pkg")
    return found


def parse_pkg_info(lines: list[str]) -> dict[str, list[Package]]:
    found: dict[str, list[Package]] = {}
    for line in lines:
        if not line.split():
            continue
        details = line.split(maxsplit=1)[0].rsplit("-", maxsplit=1)
        pkg: Package = (
            {"name": details[0], "version": details[1]}
            if len(details) == 2
            else {"name": line, "version": ""}
        )
        _add(found, pkg, "pkg_info")
    return found


def parse_portage(lines: list[str]) -> dict[str, list[Package]]:
    atoms = ("category", "name", "version", "ebuild_revision", "slots", "prefixes", "sufixes")
    found: dict[str, list[Package]] = {}
    for line in lines:
        if line.split():
            _add(found, dict(zip(atoms, line.split(), strict=False)), "portage")
    return found


PARSERS: dict[str, Callable[[list[str]], dict[str, list[Package]]]] = {
    "apk": parse_apk,
    "apt": parse_apt,
    "pacman": parse_pacman,
    "pkg": parse_pkg,
    "pkg_info": parse_pkg_info,
    "portage": parse_portage,
    "rpm": parse_rpm,
}
