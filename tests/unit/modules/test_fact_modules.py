"""getent and package_facts: native, one command each, registered as Ansible registers them."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.base import ModuleResult
from fleetkit.modules.package_facts import parse_apk, parse_apt, parse_pacman, parse_rpm
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

PASSWD = "root:x:0:0:root:/root:/bin/bash\nfleet:x:1000:1000:Fleet User,,,:/home/fleet:/bin/sh\n"


def run(module: str, answer: tuple[int, str, str], **args: Any) -> tuple[ModuleResult, str]:
    seen: list[str] = []

    def handle(call: FakeCall) -> tuple[int, str, str]:
        seen.append(call.command)
        return answer

    mod_ctx = make_ctx(module, args, FakeConnection("h1", handle))
    from fleetkit.modules.registry import lookup

    mod = lookup(module)
    assert mod is not None
    return mod.run(mod_ctx), (seen[0] if seen else "")


def test_getent_passwd_splits_on_colons_and_defines_the_fact() -> None:
    res, command = run("getent", (0, PASSWD, ""), database="passwd")
    assert command.endswith("getent passwd")
    facts = {
        "getent_passwd": {
            "root": ["x", "0", "0", "root", "/root", "/bin/bash"],
            "fleet": ["x", "1000", "1000", "Fleet User,,,", "/home/fleet", "/bin/sh"],
        }
    }
    assert res.registered == {"ansible_facts": facts, "changed": False, "failed": False}
    assert res.facts["getent_passwd"] == facts["getent_passwd"]
    assert res.facts["ansible_facts"]["getent_passwd"] == facts["getent_passwd"]


def test_getent_splits_other_databases_on_whitespace_and_lists_repeated_keys() -> None:
    hosts = "127.0.0.1       localhost\n::1             localhost ip6-localhost\n"
    res, command = run("getent", (0, hosts, ""), database="hosts", key="localhost", service="files")
    assert command.endswith("getent hosts localhost -s files")
    assert res.facts["getent_hosts"] == {
        "127.0.0.1": ["localhost"],
        "::1": ["localhost", "ip6-localhost"],
    }
    twice = "web 80/tcp\nweb 8080/tcp\n"
    res, _ = run("getent", (0, twice, ""), database="services")
    assert res.facts["getent_services"] == {"web": [["80/tcp"], ["8080/tcp"]]}


def test_getent_missing_key_fails_unless_fail_key_is_false() -> None:
    res, _ = run("getent", (2, "", ""), database="passwd", key="nobody2")
    assert res.failed and res.msg == "One or more supplied key could not be found in the database."
    res, _ = run("getent", (2, "", ""), database="passwd", key="nobody2", fail_key=False)
    assert not res.failed and res.facts["getent_passwd"] == {"nobody2": None}
    assert res.registered is not None and res.registered["msg"].startswith("One or more")
    res, _ = run("getent", (1, "", ""), database="nosuch")
    assert res.failed and res.msg == "Missing arguments, or database unknown."


DPKG = """P\tadduser\t3.134\tall\tadmin
P\tbase-files\t12.4+deb12u11\tamd64\tadmin
P\tlibc6:i386\t2.36-9+deb12u9\ti386\tlibs
F\tPackage files:
F\t 100 /var/lib/dpkg/status
F\t     release a=now
F\t 500 http://deb.debian.org/debian bookworm/main amd64 Packages
F\t     release v=12.11,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=amd64
F\t     origin deb.debian.org
V\tadduser:
V\t  Installed: 3.134
V\t  Candidate: 3.134
V\t  Version table:
V\t *** 3.134 500
V\t        500 http://deb.debian.org/debian bookworm/main amd64 Packages
V\t        100 /var/lib/dpkg/status
V\tbase-files:
V\t  Installed: 12.4+deb12u11
V\t  Candidate: 12.4+deb12u12
V\t  Version table:
V\t     12.4+deb12u12 500
V\t        500 http://deb.debian.org/debian bookworm/main amd64 Packages
V\t *** 12.4+deb12u11 100
V\t        100 /var/lib/dpkg/status
"""


def test_apt_packages_with_the_origin_of_their_installed_version() -> None:
    packages = parse_apt(DPKG.splitlines())
    assert packages["adduser"] == [
        {
            "name": "adduser",
            "version": "3.134",
            "arch": "all",
            "category": "admin",
            "origin": "Debian",
            "source": "apt",
        }
    ]
    assert packages["base-files"][0]["origin"] == ""  # only in dpkg's status file
    assert packages["libc6:i386"][0]["arch"] == "i386"


def test_rpm_apk_and_pacman_listings() -> None:
    rpm = parse_rpm(["bash\t5.1.8\t9.el9\t(none)\tx86_64", "kernel\t5.14.0\t362.el9\t1\tx86_64"])
    assert rpm["bash"] == [
        {
            "name": "bash",
            "version": "5.1.8",
            "release": "9.el9",
            "epoch": "None",
            "arch": "x86_64",
            "source": "rpm",
        }
    ]
    assert rpm["kernel"][0]["epoch"] == "1"
    apk = parse_apk(["musl-1.2.4_git20230717-r4", "busybox-1.36.1-r15"])
    assert apk["busybox"] == [
        {"name": "busybox", "version": "1.36.1", "release": "r15", "source": "apk"}
    ]
    pacman = parse_pacman(
        [
            "Name            : bash",
            "Version         : 5.2.026-2",
            "Architecture    : x86_64",
            "Provides        : sh",
            "",
            "Name            : zlib",
            "Version         : 1:1.3.1-1",
            "Architecture    : x86_64",
            "Provides        : None",
        ]
    )
    assert pacman["bash"][0]["provides"] == ["sh"] and pacman["zlib"][0]["provides"] is None


def test_package_facts_runs_one_command_and_registers_packages() -> None:
    out = "@@apt\n" + DPKG
    res, command = run("package_facts", (0, out, ""))
    assert "dpkg-query" in command and "rpm -qa" in command
    assert res.registered is not None
    assert set(res.registered["ansible_facts"]["packages"]) == {
        "adduser",
        "base-files",
        "libc6:i386",
    }
    assert res.facts["ansible_facts"]["packages"]["adduser"][0]["origin"] == "Debian"


def test_package_facts_refuses_an_unknown_manager_and_fails_without_packages() -> None:
    res, _ = run("package_facts", (0, "", ""), manager=["nosuch"])
    assert res.failed and res.msg == "Unsupported package managers requested: nosuch"
    res, _ = run("package_facts", (0, "", ""), manager=["yum"])
    assert res.failed and "Could not detect a supported package manager" in res.msg
