"""package: packages present or absent with whichever manager the host has (apt, dnf, yum, apk).

Debian-family hosts go through the apt module; others are checked with the
manager's own query first so only missing packages are installed.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.apt import Apt
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

DETECT = (
    "for m in apt-get dnf yum apk; do command -v $m >/dev/null 2>&1 && { echo $m; exit 0; }; done;"
    " echo none"
)
QUERY = {
    "dnf": "rpm -q {pkg} >/dev/null 2>&1",
    "yum": "rpm -q {pkg} >/dev/null 2>&1",
    "apk": "apk info -e {pkg} >/dev/null 2>&1",
}
INSTALL = {"dnf": "dnf -y install", "yum": "yum -y install", "apk": "apk add"}
REMOVE = {"dnf": "dnf -y remove", "yum": "yum -y remove", "apk": "apk del"}


class Package(Module):
    name = "package"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("list", required=True, aliases=("pkg",)),
        "state": Arg(
            "str",
            default="present",
            choices=("present", "installed", "absent", "removed", "latest"),
        ),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        res = ctx.run(DETECT)
        manager = res.stdout.strip() if res.ok else "none"
        if manager == "apt-get":
            return Apt().run(ctx)
        if manager not in QUERY:
            return fail("no supported package manager on the host (apt-get, dnf, yum, apk)")
        names = [str(n) for n in ctx.arg("name")]
        state = str(ctx.arg("state"))
        probe = "; ".join(f"{QUERY[manager].format(pkg=q(n))} && echo {q(n)}" for n in names)
        have = set(ctx.run(probe + "; true").stdout.split())
        absent = state in ("absent", "removed")
        todo = [n for n in names if (n in have) == absent]
        if not todo:
            return ModuleResult(msg="packages as wanted")
        verb = "remove" if absent else "install"
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would {verb} {' '.join(todo)}")
        command = (REMOVE if absent else INSTALL)[manager]
        out = ctx.run(f"{command} {' '.join(q(t) for t in todo)}")
        if not out.ok:
            return fail(f"{command} failed: {out.stderr.strip()[-500:]}", rc=out.rc)
        return ModuleResult(changed=True, msg=f"{verb} {' '.join(todo)}: done")
