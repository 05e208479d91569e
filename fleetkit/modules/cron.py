"""cron: a named job (or environment variable) in a user's crontab or a /etc/cron.d file.

Jobs carry Ansible's `#Ansible: NAME` comment, so existing crontabs managed by
Ansible are read unchanged and a second run finds the job and reports ok.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q, unified_diff
from fleetkit.modules.textfile import FileSpec, edit_file, join_lines, split_lines

TAG = "#Ansible: "
SPECIAL = ("annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly")
TIME_FIELDS = ("minute", "hour", "day", "month", "weekday")


class Cron(Module):
    name = "cron"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "job": Arg("str", aliases=("value",)),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "user": Arg("str"),
        "cron_file": Arg("str"),
        "minute": Arg("str", default="*"),
        "hour": Arg("str", default="*"),
        "day": Arg("str", default="*", aliases=("dom",)),
        "month": Arg("str", default="*"),
        "weekday": Arg("str", default="*", aliases=("dow",)),
        "special_time": Arg("str", choices=SPECIAL),
        "disabled": Arg("bool", default=False),
        "env": Arg("bool", default=False),
        "backup": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        if args.get("state") == "present" and not args.get("job"):
            errors.append("module cron: state=present needs job")
        if args.get("state") == "present" and args.get("cron_file") and not args.get("user"):
            # Ansible: "To use cron_file=... parameter you must specify user=... as well"
            errors.append("module cron: cron_file needs user (the user the job runs as)")
        if args.get("special_time") and any(args.get(f) != "*" for f in TIME_FIELDS):
            errors.append("module cron: special_time and minute/hour/day/month/weekday conflict")
        if "\n" in str(args.get("name")) or "\n" in str(args.get("job") or ""):
            errors.append("module cron: name and job must be single lines")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        name = str(ctx.arg("name"))
        cron_file = ctx.arg("cron_file")
        line = None if ctx.arg("state") == "absent" else self._line(ctx, cron_file is not None)
        env = bool(ctx.arg("env"))

        def change(text: str | None) -> tuple[str | None, str]:
            lines = split_lines(text)
            new = edit_env(lines, name, line) if env else edit_job(lines, name, line)
            if new == lines:
                return text, f"{'env' if env else 'job'} {name} as wanted"
            verb = "removed" if line is None else ("updated" if _has(lines, name, env) else "added")
            if cron_file is not None and not _has_entries(new):
                return None, f"{verb} {name} (file now empty, removed)"
            return join_lines(new), f"{verb} {'env' if env else 'job'} {name}"

        if cron_file is not None:
            path = str(cron_file)
            if not path.startswith("/"):
                path = posixpath.join("/etc/cron.d", path)
            spec = FileSpec(backup=bool(ctx.arg("backup")), mode=None)
            result = edit_file(ctx, path, change, spec)
        else:
            result = self._crontab(ctx, change)
        return _with_data(result, name, env, line)

    def _line(self, ctx: ModuleContext, with_user: bool) -> str:
        job = str(ctx.arg("job"))
        if ctx.arg("env"):
            return f'{ctx.arg("name")}="{job}"'  # Ansible's declaration: NAME="job"
        when = (
            f"@{ctx.arg('special_time')}"
            if ctx.arg("special_time")
            else " ".join(str(ctx.arg(f)) for f in TIME_FIELDS)
        )
        user = f" {ctx.arg('user') or 'root'}" if with_user else ""
        return f"{'#' if ctx.arg('disabled') else ''}{when}{user} {job}"

    def _crontab(self, ctx: ModuleContext, change: Any) -> ModuleResult:
        user = ctx.arg("user")
        uflag = f"-u {q(str(user))} " if user else ""
        res = ctx.run(
            "command -v crontab >/dev/null || { echo 'no crontab command' >&2; exit 127; };"
            f" crontab {uflag}-l 2>/dev/null; true"
        )
        if not res.ok:
            return fail(
                "crontab is not installed on the host (install cron, or use cron_file)", rc=res.rc
            )
        before = res.stdout
        after, what = change(before)
        if after is None or after == before:
            return ModuleResult(msg=what)
        diff = unified_diff(before.encode(), after.encode(), "crontab") if ctx.diff else ""
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would have {what}", diff=diff)
        done = ctx.run(f"crontab {uflag}-", stdin=after.encode())
        if not done.ok:
            return fail(f"crontab failed: {done.stderr.strip()}", rc=done.rc)
        return ModuleResult(changed=True, msg=what, diff=diff)


def edit_job(lines: list[str], name: str, line: str | None) -> list[str]:
    """Lines with the job tagged name set to line (None removes it)."""
    out: list[str] = []
    i = 0
    found = False
    while i < len(lines):
        if lines[i] == f"{TAG}{name}":
            found = True
            if line is not None:
                out += [lines[i], line]
            i += 2
            continue
        out.append(lines[i])
        i += 1
    if not found and line is not None:
        out += [f"{TAG}{name}", line]
    return out


def edit_env(lines: list[str], name: str, line: str | None) -> list[str]:
    """Lines with the environment variable name set to line (None removes it)."""
    index = next((i for i, ln in enumerate(lines) if ln.split("=", 1)[0].strip() == name), None)
    out = list(lines)
    if index is None:
        return out if line is None else [line, *out]
    if line is None:
        del out[index]
    else:
        out[index] = line
    return out


def _has(lines: list[str], name: str, env: bool) -> bool:
    if env:
        return any(ln.split("=", 1)[0].strip() == name for ln in lines)
    return f"{TAG}{name}" in lines


def _has_entries(lines: list[str]) -> bool:
    return any(ln.strip() and not ln.startswith("#") for ln in lines) or any(
        ln.startswith(TAG) for ln in lines
    )


def _with_data(result: ModuleResult, name: str, env: bool, line: str | None) -> ModuleResult:
    if result.failed:
        return result
    present = [name] if line is not None else []
    key = "envs" if env else "jobs"
    return replace(result, data={**result.data, key: present})
