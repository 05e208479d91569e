"""mount (ansible.posix): a filesystem's fstab entry and whether it is mounted now.

The fstab entry is edited with the shared read-edit-write cycle (keyed by mount
point); `findmnt` says what is mounted there, and mount/umount run only when
that differs from the wanted state, so a second run reports ok.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q
from fleetkit.modules.textfile import FileSpec, edit_file, join_lines, split_lines

STATES = ("mounted", "unmounted", "present", "absent", "remounted", "ephemeral")
FSTAB_STATES = ("mounted", "present", "absent")


def fstab_escape(text: str) -> str:
    """fstab fields escape blanks as octal, as mount(8) reads them."""
    return text.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")


def edit_fstab(lines: list[str], path: str, entry: str | None) -> list[str]:
    """fstab lines with the entry for mount point path set (None removes it)."""
    out: list[str] = []
    done = False
    target = fstab_escape(path)
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and not line.lstrip().startswith("#") and fields[1] == target:
            if entry is not None and not done:
                out.append(line if fields == entry.split() else entry)
                done = True
            continue
        out.append(line)
    if entry is not None and not done:
        out.append(entry)
    return out


class Mount(Module):
    name = "mount"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("name",)),
        "src": Arg("str"),
        "fstype": Arg("str"),
        "opts": Arg("str"),
        "dump": Arg("str", default="0"),
        "passno": Arg("str", default="0"),
        "state": Arg("str", required=True, choices=STATES),
        "fstab": Arg("path", default="/etc/fstab"),
        "boot": Arg("bool", default=True),
        "backup": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        if args.get("state") in ("mounted", "present", "ephemeral"):
            for key in ("src", "fstype"):
                if not args.get(key):
                    errors.append(f"module mount: state={args.get('state')} needs {key}")
        if not str(args.get("path", "")).startswith("/"):
            errors.append("module mount: path must be absolute")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path")).rstrip("/") or "/"
        state = str(ctx.arg("state"))
        opts = str(ctx.arg("opts") or "defaults")
        if not ctx.arg("boot") and "noauto" not in opts.split(","):
            opts = "noauto" if opts == "defaults" else f"{opts},noauto"
        data: dict[str, Any] = {
            "name": path,
            "src": ctx.arg("src"),
            "fstype": ctx.arg("fstype"),
            "opts": opts,
            "dump": ctx.arg("dump"),
            "passno": ctx.arg("passno"),
            "fstab": ctx.arg("fstab"),
            "boot": bool(ctx.arg("boot")),
        }
        result = ModuleResult(msg="fstab untouched")
        if state in FSTAB_STATES:
            entry = None
            if state != "absent":
                entry = (
                    " ".join(
                        fstab_escape(str(f))
                        for f in (ctx.arg("src"), path, ctx.arg("fstype"), opts)
                    )
                    + f" {ctx.arg('dump')} {ctx.arg('passno')}"
                )
            result = self._fstab(ctx, path, entry)
            if result.failed:
                return result
        mounted = self._mounted(ctx, path)
        steps: list[str] = []
        msg = result.msg
        if state in ("mounted", "ephemeral") and not mounted:
            mount = f"mount -t {q(str(ctx.arg('fstype')))} -o {q(opts)}"
            steps = [f"mkdir -p {q(path)}", f"{mount} {q(str(ctx.arg('src')))} {q(path)}"]
            msg = f"mounted {path}"
        elif state == "mounted" and result.changed:
            steps, msg = [f"mount -o {q('remount,' + opts)} {q(path)}"], f"remounted {path}"
        elif state == "remounted":
            steps, msg = [f"mount -o remount {q(path)}"], f"remounted {path}"
        elif state in ("unmounted", "absent") and mounted:
            steps, msg = [f"umount {q(path)}"], f"unmounted {path}"
        if ctx.check:
            if steps:
                return replace(result, changed=True, msg=f"would have {msg}", data=data)
            return replace(result, data=data)
        if steps:
            res = ctx.run(" && ".join(steps))
            if not res.ok:
                return fail(f"{msg.split()[0][:-2]} {path} failed: {res.stderr.strip()}", rc=res.rc)
        if state == "absent" and (steps or result.changed):
            ctx.run(f"rmdir {q(path)} 2>/dev/null; true")  # as Ansible: the emptied mount point
        return replace(result, changed=result.changed or bool(steps), msg=msg, data=data)

    @staticmethod
    def _mounted(ctx: ModuleContext, path: str) -> bool:
        res = ctx.run(f"findmnt -n -r -o TARGET --mountpoint {q(path)}")
        return res.ok and bool(res.stdout.strip())

    @staticmethod
    def _fstab(ctx: ModuleContext, path: str, entry: str | None) -> ModuleResult:
        fstab = str(ctx.arg("fstab"))

        def change(text: str | None) -> tuple[str | None, str]:
            lines = split_lines(text)
            new = edit_fstab(lines, path, entry)
            if new == lines:
                return text, f"{fstab} as wanted"
            return join_lines(new), f"{'removed' if entry is None else 'wrote'} {path} in {fstab}"

        return edit_file(ctx, fstab, change, FileSpec(backup=bool(ctx.arg("backup"))))
