"""group: a local group present (with a gid) or absent, through groupadd/groupmod/groupdel.

ansible-core 2.19's group module on Linux, ported: `getent group` is read first, a
command runs only for what differs (groupadd with -g/-o/-r and -K GID_MIN/GID_MAX,
groupmod -g, groupdel -f), and the registered value has Ansible's keys: name, state,
changed, system and gid while the group exists, stdout/stderr when the command printed.
In check mode a group to add or remove registers only changed, as Ansible's early exit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

LOCAL = "local: true (lgroupadd, libuser) is not supported: the group is in /etc/group already"


def parse_group(stdout: str, name: str) -> list[str] | None:
    """The `getent group` fields of name (None: no such group)."""
    return next(
        (line.split(":") for line in stdout.splitlines() if line.split(":", 1)[0] == name),
        None,
    )


class Group(Module):
    name = "group"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "gid": Arg("int"),
        "system": Arg("bool", default=False),
        "non_unique": Arg("bool", default=False),
        "force": Arg("bool", default=False),
        "local": Arg("bool", default=False),
        "gid_min": Arg("int"),
        "gid_max": Arg("int"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        if args.get("non_unique") and args.get("gid") is None:
            errors.append(
                "module group: non_unique is True but all of the following are missing: gid"
            )
        if args.get("local"):
            errors.append(f"module group: {LOCAL}")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        name = str(ctx.arg("name"))
        state = str(ctx.arg("state"))
        res = ctx.run(f"getent group {q(name)}; true")
        if not res.ok:
            return fail(f"cannot look up group {name}: {res.stderr.strip()}", rc=res.rc)
        entry = parse_group(res.stdout, name)
        command: str | None = None
        if state == "absent":
            if entry is not None:
                if ctx.check:
                    return _early(name)
                command = f"groupdel {'-f ' if ctx.arg('force') else ''}{q(name)}"
        elif entry is None:
            if ctx.check:
                return _early(name)
            command = "groupadd " + self._add_options(ctx) + q(name)
        elif ctx.arg("gid") is not None and int(entry[2]) != int(ctx.arg("gid")):
            opts = f"-g {int(ctx.arg('gid'))} " + ("-o " if ctx.arg("non_unique") else "")
            command = None if ctx.check else f"groupmod {opts}{q(name)}"
            if ctx.check:
                return self._result(ctx, name, state, changed=True, out="", err="")
        if command is None:
            return self._result(ctx, name, state, changed=False, out="", err="", entry=entry)
        done = ctx.run(command)
        if not done.ok:
            value = {"changed": False, "msg": done.stderr, "name": name, "failed": True}
            return fail(done.stderr, registered=value)
        return self._result(ctx, name, state, changed=True, out=done.stdout, err=done.stderr)

    @staticmethod
    def _add_options(ctx: ModuleContext) -> str:
        opts = ""
        if ctx.arg("gid") is not None:
            opts += f"-g {int(ctx.arg('gid'))} " + ("-o " if ctx.arg("non_unique") else "")
        if ctx.arg("system"):
            opts += "-r "
        for key, setting in (("gid_min", "GID_MIN"), ("gid_max", "GID_MAX")):
            if ctx.arg(key) is not None:
                opts += f"-K {setting}={int(ctx.arg(key))} "
        return opts

    @staticmethod
    def _result(
        ctx: ModuleContext,
        name: str,
        state: str,
        *,
        changed: bool,
        out: str,
        err: str,
        entry: list[str] | None = None,
    ) -> ModuleResult:
        value: dict[str, Any] = {"name": name, "state": state, "changed": changed}
        if out:
            value.update(stdout=out, stdout_lines=out.splitlines())
        if err:
            value.update(stderr=err, stderr_lines=err.splitlines())
        if entry is None:
            got = ctx.run(f"getent group {q(name)}; true")
            entry = parse_group(got.stdout, name)
        if entry is not None:
            value["system"] = bool(ctx.arg("system"))
            value["gid"] = int(entry[2])
        what = "changed" if changed else "as wanted"
        shown = f"{'would have ' if ctx.check and changed else ''}{what}: group {name}"
        return ModuleResult(changed=changed, msg=shown, registered={**value, "failed": False})


def _early(name: str) -> ModuleResult:
    """Ansible's check-mode exit for a group to add or remove: only changed."""
    return ModuleResult(
        changed=True,
        msg=f"would change group {name}",
        registered={"changed": True, "failed": False},
    )
