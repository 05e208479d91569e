"""group: a local group present (with a gid) or absent, through groupadd/groupmod/groupdel.

`getent group` is read first; a command runs only for what differs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q


class Group(Module):
    name = "group"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "gid": Arg("int"),
        "system": Arg("bool", default=False),
        "non_unique": Arg("bool", default=False),
        "force": Arg("bool", default=False),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        name = str(ctx.arg("name"))
        state = str(ctx.arg("state"))
        res = ctx.run(f"getent group {q(name)}; true")
        if not res.ok:
            return fail(f"cannot look up group {name}: {res.stderr.strip()}", rc=res.rc)
        entry = next((ln for ln in res.stdout.splitlines() if ln.startswith(f"{name}:")), None)
        have_gid = int(entry.split(":")[2]) if entry else None
        data: dict[str, Any] = {"name": name, "state": state, "system": bool(ctx.arg("system"))}
        if state == "absent":
            if entry is None:
                return ModuleResult(msg=f"group {name} absent", data=data)
            force = "-f " if ctx.arg("force") else ""
            return self._do(ctx, f"groupdel {force}{q(name)}", f"removed group {name}", data)
        gid = ctx.arg("gid")
        opts = f"-g {int(gid)} " if gid is not None else ""
        if gid is not None and ctx.arg("non_unique"):
            opts += "-o "
        if entry is None:
            if ctx.arg("system"):
                opts += "-r "
            data["gid"] = gid
            return self._do(ctx, f"groupadd {opts}{q(name)}", f"created group {name}", data)
        data["gid"] = have_gid
        if gid is None or gid == have_gid:
            return ModuleResult(msg=f"group {name} as wanted", data=data)
        data["gid"] = gid
        return self._do(
            ctx, f"groupmod {opts}{q(name)}", f"changed group {name}: gid {have_gid} -> {gid}", data
        )

    @staticmethod
    def _do(ctx: ModuleContext, command: str, msg: str, data: dict[str, Any]) -> ModuleResult:
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would have {msg}", data=data)
        res = ctx.run(command)
        if not res.ok:
            return fail(
                f"{command.split(maxsplit=1)[0]} failed: {res.stderr.strip()[-300:]}", rc=res.rc
            )
        if data.get("gid") is None and data["state"] == "present":
            got = ctx.run(f"getent group {q(str(data['name']))} | cut -d: -f3")
            if got.ok and got.stdout.strip().isdigit():
                data["gid"] = int(got.stdout.strip())
        return ModuleResult(changed=True, msg=msg, data=data)
