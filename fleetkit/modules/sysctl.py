"""sysctl (ansible.posix): a kernel parameter in a sysctl file, and optionally set now.

The file entry is edited with the shared read-edit-write cycle; the running
value is read with `sysctl -n` and written (`sysctl -w`) only when it differs,
so a second run reports ok. reload applies only the named file (`sysctl -p FILE`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q
from fleetkit.modules.textfile import FileSpec, edit_file, join_lines, split_lines

KEY = re.compile(r"^[A-Za-z0-9_.*/-]+$")


def normalize(value: str) -> str:
    """Values compare with whitespace runs collapsed ('1024\t65000' == '1024 65000')."""
    return " ".join(str(value).split())


def edit_entry(lines: list[str], key: str, value: str | None) -> list[str]:
    """sysctl file lines with key set to value (None removes it); first entry kept."""
    out: list[str] = []
    done = False
    for line in lines:
        stripped = line.strip()
        name = stripped.split("=", 1)[0].strip() if "=" in stripped else ""
        if name == key and not stripped.startswith(("#", ";")):
            if value is not None and not done:
                current = normalize(stripped.split("=", 1)[1])
                out.append(line if current == normalize(value) else f"{key}={value}")
                done = True
            continue
        out.append(line)
    if value is not None and not done:
        out.append(f"{key}={value}")
    return out


class Sysctl(Module):
    name = "sysctl"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("key",)),
        "value": Arg("str", aliases=("val",)),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "sysctl_file": Arg("path", default="/etc/sysctl.conf"),
        "reload": Arg("bool", default=True),
        "sysctl_set": Arg("bool", default=False),
        "ignoreerrors": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        if not KEY.match(str(args.get("name"))):
            errors.append(f"module sysctl: {args.get('name')!r} is not a sysctl key")
        if args.get("state") == "present" and args.get("value") is None:
            errors.append("module sysctl: state=present needs value")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        key = str(ctx.arg("name"))
        present = ctx.arg("state") == "present"
        value = normalize(str(ctx.arg("value"))) if present else None
        current = ctx.run(f"sysctl -n {q(key)}")
        if not current.ok and not ctx.arg("ignoreerrors"):
            return fail(f"sysctl key {key} does not exist here: {current.stderr.strip()}")
        running = normalize(current.stdout) if current.ok else None
        path = str(ctx.arg("sysctl_file"))

        def change(text: str | None) -> tuple[str | None, str]:
            lines = split_lines(text)
            new = edit_entry(lines, key, value)
            if new == lines:
                return text, f"{key} as wanted in {path}"
            return join_lines(new), f"{'set' if present else 'removed'} {key} in {path}"

        result = edit_file(ctx, path, change, FileSpec())
        if result.failed:
            return result
        set_now = present and running is not None and running != value
        set_now = set_now and (bool(ctx.arg("sysctl_set")) or bool(ctx.arg("reload")))
        if not set_now:
            return result
        msg = (
            f"{result.msg}; {key} {running} -> {value}"
            if result.changed
            else (f"{key} {running} -> {value}")
        )
        if ctx.check:
            return replace(result, changed=True, msg=f"would set {key} {running} -> {value}")
        if ctx.arg("sysctl_set"):
            done = ctx.run(f"sysctl -w {q(f'{key}={value}')}")
        else:
            done = ctx.run(f"sysctl -p {q(path)}")
        if not done.ok and not ctx.arg("ignoreerrors"):
            return fail(f"setting {key} failed: {done.stderr.strip()}", rc=done.rc)
        return replace(result, changed=True, msg=msg)
