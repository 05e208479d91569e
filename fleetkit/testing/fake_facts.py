"""A host's fact-script output made from canned files, for tests without a host.

`fact_output` prints the records fleetkit/executor/facts/script.py prints for a host
holding `files` (path -> content), `dirs` (path -> entries), `links` (path -> target),
command `outputs` (name -> stdout or (rc, stdout)), the Python probe's answer and
script `values` (`bin:ip`...), so collectors run on, say, a canned Ubuntu os-release.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

DEBIAN_OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""


def python_probe(
    *,
    env: Mapping[str, str] | None = None,
    user: str = "fleet",
    uid: int = 1000,
    home: str = "/home/fleet",
    node: str = "web1",
    fqdn: str = "web1.example.org",
    epoch: float = 1_796_283_061.5,
    tz: tuple[str, str, str] = ("CET", "CEST", "+0100"),
    release: str = "6.1.0-18-amd64",
    machine: str = "x86_64",
    executable: str = "/usr/bin/python3",
    version_info: Sequence[Any] = (3, 11, 2, "final", 0),
    nproc: int = 4,
) -> dict[str, Any]:
    """What the fact script's Python probe prints, with the values a test wants."""
    return {
        "env": dict(env or {"HOME": home, "LANG": "C.UTF-8", "USER": user}),
        "version_info": list(version_info),
        "executable": executable,
        "type": "cpython",
        "sslcontext": True,
        "uname": ["Linux", node, release, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1", machine],
        "python_version": ".".join(str(v) for v in version_info[:3]),
        "bits": "64bit",
        "fqdn": fqdn,
        "has_ipv6": True,
        "user": user,
        "pw": [user, uid, uid, "Fleet User,,,", home, "/bin/bash"],
        "ids": [uid, uid, uid],
        "time": [epoch, tz[0], tz[1], tz[2]],
        "loadavg": [0.5, 0.25, 0.125],
        "nproc": nproc,
        "root_ino": 2,
        "selinux": {"enabled": 0},
    }


def fact_output(
    *,
    files: Mapping[str, str] | None = None,
    dirs: Mapping[str, Sequence[str]] | None = None,
    links: Mapping[str, str] | None = None,
    outputs: Mapping[str, str | tuple[int, str]] | None = None,
    python: Mapping[str, Any] | None = None,
    values: Mapping[str, str] | None = None,
    exists: Sequence[str] = (),
) -> str:
    """The fact script's stdout for such a host (python None: no interpreter)."""
    lines: list[str] = []
    if python is not None:
        lines += ["B\tpy", json.dumps(dict(python)), "", "Z\tpy\t0"]
    for key, value in (values or {}).items():
        lines.append(f"V\t{key}\t{value}")
    for path in exists:
        lines.append(f"X\t{path}\te")
    for path, entries in (dirs or {}).items():
        lines.append(f"X\t{path}\tdr")
        lines += [f"D\t{path}\t{entry}" for entry in entries]
    for path, content in (files or {}).items():
        lines.append(f"X\t{path}\tfr")
        lines += [f"L\t{path}\t{line}" for line in content.splitlines()]
    if links:
        lines.append("B\tls")
        lines += [f"lrwxrwxrwx 1 root root 0 Jan  1 00:00 {p} -> {t}" for p, t in links.items()]
        lines += ["", "Z\tls\t0"]
    for name, given in (outputs or {}).items():
        rc, text = given if isinstance(given, tuple) else (0, given)
        lines += [f"B\t{name}", *text.splitlines(), "", f"Z\t{name}\t{rc}"]
    return "\n".join(lines) + "\n"
