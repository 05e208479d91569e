"""file: make a path a file, directory, symlink or nothing, with mode and owner.

It stats the path first and acts only on what differs. `touch` creates a
missing file and, as Ansible's, sets an existing one's access and modification
times to now (changed) unless `access_time`/`modification_time: preserve` keep
them (roles give both for idempotence); either may also be a timestamp in
`*_time_format` (default %Y%m%d%H%M.%S), set only when it differs. It registers
Ansible's keys: path (dest for touch and link), state and the stat keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
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
    stat_keys,
)

STATES = ("file", "directory", "absent", "link", "touch")
TIME_FORMAT = "%Y%m%d%H%M.%S"
"""Ansible's default access/modification time format, also what `touch -t` reads."""
TIMES = (("access_time", "-a", "%X"), ("modification_time", "-m", "%Y"))


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
        "access_time": Arg("str"),
        "access_time_format": Arg("str", default=TIME_FORMAT),
        "modification_time": Arg("str"),
        "modification_time_format": Arg("str", default=TIME_FORMAT),
        "recurse": Arg("bool", default=False),
        "follow": Arg("bool", default=True),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("state") == "link" and args.get("src") is None:
            return ["module file: state=link needs src (the link's target)"]
        if args.get("recurse") and args.get("state") != "directory":
            return ["module file: recurse option requires state to be 'directory'"]
        for name, _, _ in TIMES:
            value = args.get(name)
            if value is None or value in ("now", "preserve"):
                continue
            try:
                datetime.strptime(str(value), str(args.get(f"{name}_format") or TIME_FORMAT))
            except ValueError:
                return [f"module file: {name} {value!r} is not now, preserve or in its format"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path"))
        state = str(ctx.arg("state"))
        try:
            st = stat(ctx, path, checksum=False)
            mr = self._state(ctx, path, state, st)
            if mr.failed or state == "absent":
                if state == "absent" and not mr.failed:
                    value = {"changed": mr.changed, "failed": False, "path": path}
                    mr = replace(mr, registered={**value, "state": "absent"})
                return mr
            if not (st.exists and state == "touch"):
                mr = self._times(ctx, path, state, mr)
            if mr.changed and ctx.check:
                return mr
            after = stat(ctx, path, checksum=False) if mr.changed else st
            if not after.exists:
                return mr
            where = "dest" if state in ("touch", "link") else "path"
            value = {"changed": mr.changed, "failed": False, where: path, **stat_keys(after)}
            if state == "link":
                value["src"] = str(ctx.arg("src"))
            return replace(mr, registered=value)
        except (RemoteError, ValueError) as err:
            return fail(str(err))

    def _state(self, ctx: ModuleContext, path: str, state: str, st: RemoteStat) -> ModuleResult:
        if state == "absent":
            return self._absent(ctx, path, st)
        if state == "link":
            return self._link(ctx, path, st)
        if state == "directory":
            mr = self._directory(ctx, path, st)
            if ctx.arg("recurse") and not mr.failed and (st.exists or not ctx.check):
                return _recurse(ctx, path, mr)
            return mr
        if state == "touch":
            return self._touch(ctx, path, st)
        if not st.exists:
            return fail(f"{path} does not exist (state=touch creates it)")
        if st.kind == "directory":
            return fail(f"{path} is a directory (state=directory manages directories)")
        return self._attrs(ctx, path, st)

    def _touch(self, ctx: ModuleContext, path: str, st: RemoteStat) -> ModuleResult:
        """touch: create a missing file; an existing one gets its times (now by default)."""
        if not st.exists:
            return self._create(ctx, path, st, "file", f"touch {q(path)}")
        if st.kind not in ("file", "link"):
            return fail(f"{path} exists and is a {st.kind}, not a file")
        attrs = self._attrs(ctx, path, st)
        if attrs.failed:
            return attrs
        return self._times(ctx, path, "touch", attrs)

    def _times(self, ctx: ModuleContext, path: str, state: str, mr: ModuleResult) -> ModuleResult:
        """Set access/modification times as asked (touch: now unless preserve; other
        states: preserve unless given); changed when a time was set."""
        default = "now" if state == "touch" else "preserve"
        steps: list[str] = []
        for name, flag, field in TIMES:
            value = str(ctx.arg(name) or default)
            if value == "preserve":
                continue
            if value == "now":
                steps.append(f"touch {flag} -h {q(path)} && echo C")
                continue
            fmt = str(ctx.arg(f"{name}_format") or TIME_FORMAT)
            stamp = datetime.strptime(value, fmt).strftime(TIME_FORMAT)
            steps.append(
                f'r=$(mktemp) && touch -t {stamp} "$r" && w=$(stat -c %Y "$r") && rm -f "$r"'
                f' && {{ [ "$(stat -c {field} {q(path)})" = "$w" ]'
                f" || {{ touch {flag} -h -t {stamp} {q(path)} && echo C; }}; }}"
            )
        if not steps:
            return mr
        if ctx.check:
            return replace(mr, changed=True, msg=mr.msg + " (times would be set)")
        res = ctx.run(" && ".join(steps))
        if not res.ok:
            return fail(f"cannot set the times of {path}: {res.stderr.strip()}", rc=res.rc)
        if "C" not in res.stdout.split():
            return mr
        return replace(mr, changed=True, msg=f"{mr.msg}; times set")

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
        mode = resolve_mode(default, ctx.arg("mode"), is_dir=kind == "directory", umask=st.umask)
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

    def _directory(self, ctx: ModuleContext, path: str, st: RemoteStat) -> ModuleResult:
        """A directory; each missing parent is made with the same mode and owner, as
        Ansible's ensure_directory does ("mkdir -p with mode applied to all of the newly
        created directories")."""
        if st.exists:
            return self._create(ctx, path, st, "directory", "")
        mode = resolve_mode(0o755, ctx.arg("mode"), is_dir=True, umask=st.umask)
        chown = owner_spec(ctx.arg("owner"), ctx.arg("group"))
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would create directory {path}")
        attrs = []
        if mode is not None:
            attrs.append(f'chmod {mode:04o} "$d"')
        if chown:
            attrs.append(f'chown {q(chown)} "$d"')
        apply = " && ".join(attrs) or ":"
        parts = [c for c in path.split("/") if c]
        prefix = "/" if path.startswith("/") else ""
        paths = [prefix + "/".join(parts[: i + 1]) for i in range(len(parts))]
        script = (
            f"for d in {' '.join(q(d) for d in paths)}; do"
            f' if [ ! -e "$d" ]; then mkdir "$d" && {apply} || exit 1; fi; done'
        )
        res = ctx.run(script)
        if not res.ok:
            return fail(f"cannot create directory {path}: {res.stderr.strip()}", rc=res.rc)
        return ModuleResult(changed=True, msg=f"created directory {path}")

    def _attrs(self, ctx: ModuleContext, path: str, st: RemoteStat) -> ModuleResult:
        mode = resolve_mode(st.mode, ctx.arg("mode"), is_dir=st.kind == "directory", umask=st.umask)
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


def _recurse(ctx: ModuleContext, path: str, mr: ModuleResult) -> ModuleResult:
    """recurse: the mode, owner and group also on everything under path (Ansible's
    recursive_set_attributes): a symbolic mode applied to each entry's own mode; a
    symlink gets the owner and group itself (lchown), never a mode."""
    mode_arg = ctx.arg("mode")
    owner: str | None = ctx.arg("owner")
    group: str | None = ctx.arg("group")
    if mode_arg is None and owner is None and group is None:
        return mr
    res = ctx.run(f"find {q(path)} -mindepth 1 -printf '%y\\0%m\\0%U\\0%G\\0%u\\0%g\\0%p\\0'")
    if not res.ok:
        return fail(f"cannot list {path}: {res.stderr.strip()}", rc=res.rc)
    fields = res.stdout.split("\0")
    by_mode: dict[int, list[str]] = {}
    chown: list[str] = []
    for i in range(0, len(fields) - 6, 7):
        kind, mode, uid, gid, user, grp, entry = fields[i : i + 7]
        st = RemoteStat(
            exists=True,
            kind="link" if kind == "l" else "directory" if kind == "d" else "file",
            mode=int(mode, 8),
            uid=int(uid),
            gid=int(gid),
            owner=user,
            group=grp,
        )
        wanted = None if kind == "l" else resolve_mode(st.mode, mode_arg, is_dir=kind == "d")
        if wanted is not None and wanted != st.mode:
            by_mode.setdefault(wanted, []).append(entry)
        if attrs_differ(st, None, owner, group):
            chown.append(entry)
    count = len(chown) + sum(len(v) for v in by_mode.values())
    if not count:
        return mr
    if ctx.check:
        return replace(mr, changed=True, msg=f"{mr.msg}; would set {count} attribute(s) under it")
    steps = [f"chmod {m:04o} -- {' '.join(q(e) for e in es)}" for m, es in by_mode.items()]
    if chown:
        steps.append(f"chown -h {q(owner_spec(owner, group))} -- {' '.join(q(e) for e in chown)}")
    done = ctx.run(" && ".join(steps))
    if not done.ok:
        return fail(f"cannot set attributes under {path}: {done.stderr.strip()}", rc=done.rc)
    return replace(mr, changed=True, msg=f"{mr.msg}; {count} attribute(s) set under it")
