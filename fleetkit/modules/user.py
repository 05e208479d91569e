"""user: a local account present (with uid, groups, shell, home) or absent.

`getent` and `id` are read in one round trip; useradd/usermod/userdel run only
for what differs. A password is a crypt hash, never shown in output and never on
a command line (`ps` shows those to every local user): `chpasswd -e` reads it
from stdin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q


def probe_script(name: str) -> str:
    n = q(name)
    return (
        f"getent passwd {n} && echo \"groups=$(id -Gn {n} | tr ' ' ',')\""
        f' && echo "group=$(id -gn {n})"; true'
    )


class User(Module):
    name = "user"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "uid": Arg("int"),
        "group": Arg("str"),
        "groups": Arg("list"),
        "append": Arg("bool", default=False),
        "shell": Arg("str"),
        "home": Arg("str"),
        "comment": Arg("str"),
        "create_home": Arg("bool", default=True),
        "system": Arg("bool", default=False),
        "password": Arg("str", secret=True),
        "remove": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        password = args.get("password")
        if password is not None and any(c in str(password) for c in ":\n\0"):
            return ["module user: password must be a crypt hash (no ':' or line break)"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        name = str(ctx.arg("name"))
        res = ctx.run(probe_script(name))
        if not res.ok:
            return fail(f"cannot look up user {name}: {res.stderr.strip()}", rc=res.rc)
        entry = next((ln for ln in res.stdout.splitlines() if ln.startswith(f"{name}:")), None)
        if ctx.arg("state") == "absent":
            if entry is None:
                return ModuleResult(msg=f"user {name} absent")
            return self._do(
                ctx,
                f"userdel {'-r ' if ctx.arg('remove') else ''}{q(name)}",
                f"removed user {name}",
            )
        if entry is None:
            return self._do(
                ctx,
                "useradd " + " ".join(self._options(ctx, new=True)) + f" {q(name)}",
                f"created user {name}",
                password=ctx.arg("password"),
            )
        fields = entry.split(":")
        info = dict(
            line.split("=", 1)
            for line in res.stdout.splitlines()
            if "=" in line and ":" not in line.split("=", 1)[0]
        )
        have_groups = set(filter(None, info.get("groups", "").split(",")))
        changes: list[str] = []
        opts: list[str] = []
        uid = ctx.arg("uid")
        if uid is not None and str(uid) != fields[2]:
            changes.append(f"uid {fields[2]} -> {uid}")
            opts.append(f"-u {int(uid)}")
        group = ctx.arg("group")
        if group is not None and group != info.get("group"):
            changes.append(f"group {info.get('group')} -> {group}")
            opts.append(f"-g {q(group)}")
        groups = ctx.arg("groups")
        if groups is not None:
            wanted = {str(g) for g in groups if str(g)}
            primary = group or info.get("group", "")
            extra = have_groups - {primary}
            missing = wanted - have_groups
            if missing or (not ctx.arg("append") and extra - wanted):
                changes.append(
                    f"groups {','.join(sorted(extra)) or '-'} -> {','.join(sorted(wanted)) or '-'}"
                )
                opts.append(
                    ("-a " if ctx.arg("append") else "") + f"-G {q(','.join(sorted(wanted)))}"
                )
        for arg, index, flag in (("shell", 6, "-s"), ("home", 5, "-d"), ("comment", 4, "-c")):
            value = ctx.arg(arg)
            if value is not None and value != fields[index]:
                changes.append(f"{arg} {fields[index]} -> {value}")
                opts.append(f"{flag} {q(str(value))}")
        password = ctx.arg("password")
        if password is not None:
            shadow = ctx.run(f"getent shadow {q(name)} | cut -d: -f2")
            if shadow.stdout.strip() != password:
                changes.append("password")
            else:
                password = None
        if not changes:
            return ModuleResult(msg=f"user {name} as wanted")
        return self._do(
            ctx,
            f"usermod {' '.join(opts)} {q(name)}" if opts else "",
            f"changed user {name}: {', '.join(changes)}",
            password=password,
        )

    def _options(self, ctx: ModuleContext, *, new: bool) -> list[str]:
        opts: list[str] = []
        if ctx.arg("uid") is not None:
            opts.append(f"-u {int(ctx.arg('uid'))}")
        if ctx.arg("group"):
            opts.append(f"-g {q(ctx.arg('group'))}")
        if ctx.arg("groups"):
            opts.append(f"-G {q(','.join(str(g) for g in ctx.arg('groups')))}")
        for arg, flag in (("shell", "-s"), ("home", "-d"), ("comment", "-c")):
            if ctx.arg(arg) is not None:
                opts.append(f"{flag} {q(str(ctx.arg(arg)))}")
        if new:
            opts.append("-m" if ctx.arg("create_home") else "-M")
        if ctx.arg("system"):
            opts.append("-r")
        return opts

    @staticmethod
    def _do(ctx: ModuleContext, command: str, msg: str, password: Any = None) -> ModuleResult:
        """Run command, then (with a password) `chpasswd -e`, the hash on its stdin."""
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would have {msg}")
        stdin = None
        if password is not None:
            command = f"{command} && chpasswd -e" if command else "chpasswd -e"
            stdin = f"{ctx.arg('name')}:{password}\n".encode()
        res = ctx.run(command, stdin=stdin)
        if not res.ok:
            verb = msg.split(maxsplit=1)[0]
            return fail(f"{verb} failed: {res.stderr.strip()[-300:]}", rc=res.rc)
        return ModuleResult(changed=True, msg=msg)
