"""hostname: the host's name, now (`hostname`, or hostnamectl under systemd) and on boot
(/etc/hostname), with Ansible's `ansible_facts` (ansible_hostname, ansible_nodename...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q
from fleetkit.modules.textfile import FileSpec, edit_file

NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*$")
STRATEGIES = ("auto", "systemd", "debian", "generic", "alpine", "redhat", "sles")


class Hostname(Module):
    name = "hostname"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "use": Arg("str", default="auto", choices=STRATEGIES),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if not NAME.match(str(args.get("name"))):
            return [f"module hostname: {args.get('name')!r} is not a valid host name"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        name = str(ctx.arg("name"))
        probe = ctx.run(
            "hostname; if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null;"
            " then echo systemd; else echo file; fi"
        )
        lines = probe.stdout.split()
        if not probe.ok or len(lines) < 2:
            return fail(f"cannot read the host name: {probe.stderr.strip()}", rc=probe.rc)
        current, found = lines[0], lines[1]
        use = str(ctx.arg("use"))
        systemd = use == "systemd" or (use == "auto" and found == "systemd")
        facts = _facts(name)
        if systemd:
            if current == name:
                return ModuleResult(msg=f"hostname is {name}", facts=facts, data=_data(facts))
            if ctx.check:
                return ModuleResult(changed=True, msg=f"would rename {current} -> {name}")
            res = ctx.run(f"hostnamectl set-hostname {q(name)}")
            if not res.ok:
                return fail(f"hostnamectl failed: {res.stderr.strip()}", rc=res.rc)
            return ModuleResult(
                changed=True, msg=f"renamed {current} -> {name}", facts=facts, data=_data(facts)
            )

        def change(text: str | None) -> tuple[str | None, str]:
            lines = (text or "").split()
            if lines[:1] == [name] and len(lines) == 1:
                return text, "/etc/hostname as wanted"
            return f"{name}\n", "wrote /etc/hostname"

        result = edit_file(ctx, "/etc/hostname", change, FileSpec())
        if result.failed:
            return result
        changed = result.changed or current != name
        if current != name and not ctx.check:
            res = ctx.run(f"hostname {q(name)}")
            if not res.ok:
                return fail(f"hostname failed: {res.stderr.strip()}", rc=res.rc)
        if not changed:
            return ModuleResult(msg=f"hostname is {name}", facts=facts, data=_data(facts))
        verb = "would rename" if ctx.check else "renamed"
        return ModuleResult(
            changed=True,
            msg=f"{verb} {current} -> {name}",
            diff=result.diff,
            facts=facts,
            data=_data(facts),
        )


def _facts(name: str) -> dict[str, Any]:
    short, _, domain = name.partition(".")
    return {
        "ansible_hostname": short,
        "ansible_nodename": name,
        "ansible_fqdn": name,
        "ansible_domain": domain,
    }


def _data(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"ansible_facts": dict(facts), "name": facts["ansible_nodename"]}
