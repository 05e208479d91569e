"""file: make a path a file, directory, symlink or nothing, with mode and owner.

It stats the path first and acts only on what differs. `touch` creates a
missing file but leaves an existing one's timestamps alone, so a second run
reports no change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import (
    RemoteError,
    RemoteStat,
    attrs_differ,
    owner_spec,
    q,
    resolve_mode,
    set_attrs,
    stat,
)

STATES = ("file", "directory", "absent", "link", "touch")


class File(Module):
    name = "file"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("dest", "name")),
        "state": Arg("str", default="file", choices=STATES),
        "src": Arg("path"),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
        "force": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("state") == "link" and args.get("src") is None:
            return ["module file: state=link needs src (the link's target)"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path"))
        state = str(ctx.arg("state"))
        try:
            st = stat(ctx, path, checksum=False)
            if state == "absent":
                return self._absent(ctx, path, st)
            if state == "link":
                return self._link(ctx, path, st)
            if state == "directory":
                return self._create(ctx, path, st, "directory", f"mkdir -p {q(path)}")
            if state == "touch":
                return self._create(ctx, path, st, "file", f"touch {q(path)}")
            if not st.exists:
                return fail(f"{path} does not exist (state=touch creates it)")
            if st.kind == "directory":
                return fail(f"{path} is a directory (state=directory manages directories)")
            return self._attrs(ctx, path, st)
        except (RemoteError, ValueError) as err:
            return fail(str(err))

    def _absent(self, ctx: ModuleContext, path: str, st: RemoteStat) -> ModuleResult:
        if not st.exists:
            return ModuleResult(msg="absent")
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would remove {st.kind} {path}")
        res = ctx.run(f"rm -rf -- {q(path)}")
        if not res.ok:
            return fail(f"cannot remove {path}: {res.stderr.strip()}", rc=res.rc)
        return ModuleResult(changed=True, msg=f"removed {st.kind} {path}")

    def _create(
        self, ctx: ModuleContext, path: str, st: RemoteStat, kind: str, command: str
    ) -> ModuleResult:
        if st.exists and st.kind != kind and not (kind == "file" and st.kind == "link"):
            return fail(f"{path} exists and is a {st.kind}, not a {kind}")
        if st.exists:
            return self._attrs(ctx, path, st)
        default = 0o755 if kind == "directory" else 0o644
        mode = resolve_mode(default, ctx.arg("mode"), is_dir=kind == "directory")
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would create {kind} {path}")
        steps = [command]
        if mode is not None:
            steps.append(f"chmod {mode:04o} {q(path)}")
        chown = owner_spec(ctx.arg("owner"), ctx.arg("group"))
        if chown:
            steps.append(f"chown {q(chown)} {q(path)}")
        res = ctx.run(" && ".join(steps))
        if not res.ok:
            return fail(f"cannot create {kind} {path}: {res.stderr.strip()}", rc=res.rc)
        return ModuleResult(changed=True, msg=f"created {kind} {path}")

    def _attrs(self, ctx: ModuleContext, path: str, st: RemoteStat) -> ModuleResult:
        mode = resolve_mode(st.mode, ctx.arg("mode"), is_dir=st.kind == "directory")
        if st.kind == "link":
            mode = None
        owner: str | None = ctx.arg("owner")
        group: str | None = ctx.arg("group")
        changes = attrs_differ(st, mode, owner, group)
        if not changes:
            return ModuleResult(msg=f"{st.kind} {path} as wanted")
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would change {', '.join(changes)}")
        set_attrs(ctx, path, mode, owner, group)
        return ModuleResult(changed=True, msg=f"changed {', '.join(changes)}")

    def _link(self, ctx: ModuleContext, path: str, st: RemoteStat) -> ModuleResult:
        src = str(ctx.arg("src"))
        if st.exists and st.kind == "link" and st.target == src:
            return self._attrs(ctx, path, st)
        if st.exists and st.kind != "link" and not ctx.arg("force"):
            return fail(f"{path} exists and is a {st.kind}, not a link (force: yes replaces it)")
        if st.exists and st.kind == "directory":
            return fail(f"{path} is a directory: remove it first (state=absent)")
        what = f"link {path} -> {src}" + (f" (was {st.target})" if st.kind == "link" else "")
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would create {what}")
        steps = [f"ln -sfn {q(src)} {q(path)}"]
        chown = owner_spec(ctx.arg("owner"), ctx.arg("group"))
        if chown:
            steps.append(f"chown -h {q(chown)} {q(path)}")
        res = ctx.run(" && ".join(steps))
        if not res.ok:
            return fail(f"cannot create link {path}: {res.stderr.strip()}", rc=res.rc)
        return ModuleResult(changed=True, msg=f"created {what}")
