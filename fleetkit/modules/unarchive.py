"""unarchive: a tar or zip archive (on the controller, or on the host with remote_src)
unpacked into a directory on the host.

It compares first, as Ansible does (`tar --diff`; zip members byte by byte), and
extracts only when a member is missing or differs, so a second run reports ok.
Owner, group and mode, when given, are applied to every member.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.errors import FleetkitError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import RemoteError, owner_spec, q, resolve_mode, stat

# tar --diff lines that mean "extracting would change the tree"
TAR_DIFFERS = (
    "Mod time differs",
    "Size differs",
    "Contents differ",
    "No such file or directory",
    "File type differs",
    "Symlink differs",
    "Not linked to",
    "Mode differs",
)
HANDLERS = {"tar": "TgzArchive", "zip": "ZipArchive"}


class Unarchive(Module):
    name = "unarchive"
    args: ClassVar[dict[str, Arg]] = {
        "src": Arg("path", required=True),
        "dest": Arg("path", required=True),
        "remote_src": Arg("bool", default=False),
        "copy": Arg("bool"),
        "creates": Arg("path"),
        "list_files": Arg("bool", default=False),
        "exclude": Arg("list", default=[]),
        "include": Arg("list", default=[]),
        "keep_newer": Arg("bool", default=False),
        "extra_opts": Arg("list", default=[]),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
    }
    exclusive = (("exclude", "include"),)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("copy") is not None and args.get("remote_src"):
            return ["module unarchive: copy and remote_src are mutually exclusive"]
        if "://" in str(args.get("src")):
            return ["module unarchive: src URLs are not supported: fetch with get_url first"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        src, dest = str(ctx.arg("src")), str(ctx.arg("dest"))
        remote = bool(ctx.arg("remote_src")) or ctx.arg("copy") is False
        if ctx.arg("creates"):
            seen = ctx.run(f"[ -e {q(str(ctx.arg('creates')))} ]")
            if seen.ok:
                return ModuleResult(skipped=True, msg=f"skipped, since {ctx.arg('creates')} exists")
        probe = ctx.run(f"[ -d {q(dest)} ] && [ -w {q(dest)} ]")
        if not probe.ok:
            return fail(f"dest {dest} must be an existing, writable directory")
        tmpdir = ""
        try:
            if remote:
                archive = src
                if not ctx.run(f"[ -f {q(src)} ]").ok:
                    return fail(f"src {src} does not exist on the host")
            else:
                found = ctx.find_file(src)
                if found is None or not found.is_file():
                    return fail(f"src {src} not found on the controller (looked in files/)")
                made = ctx.run("mktemp -d /tmp/fleetkit-unarchive.XXXXXX")
                if not made.ok:
                    return fail(f"cannot make a temp dir: {made.stderr.strip()}", rc=made.rc)
                tmpdir = made.stdout.strip()
                archive = posixpath.join(tmpdir, found.name)
                ctx.conn.put_file(found, archive, mode=0o600, become=ctx.become)
            return self._unpack(ctx, archive, src, dest)
        except FleetkitError as err:
            return fail(str(err))
        finally:
            if tmpdir:
                ctx.run(f"rm -rf -- {q(tmpdir)}")

    def _unpack(self, ctx: ModuleContext, archive: str, src: str, dest: str) -> ModuleResult:
        a, d = q(archive), q(dest)
        kind = ctx.run(
            f"if tar -tf {a} >/dev/null 2>&1; then echo tar;"
            f" elif unzip -tqq {a} >/dev/null 2>&1; then echo zip; else echo none; fi"
        ).stdout.strip()
        if kind not in HANDLERS:
            return fail(f"Failed to find handler for {src}: not a tar or zip archive")
        members = self._members(ctx, kind, a)
        if members is None:
            return fail(f"cannot list the members of {src}")
        data: dict[str, Any] = {"dest": dest, "src": src, "handler": HANDLERS[kind]}
        if ctx.arg("list_files"):
            data["files"] = members
        differs = self._differs(ctx, kind, a, d)
        changed = bool(differs)
        if changed and not ctx.check:
            res = ctx.run(self._extract(ctx, kind, a, d))
            if not res.ok:
                return fail(f"extracting {src} failed: {res.stderr.strip()[-300:]}", rc=res.rc)
        fixed = self._attrs(ctx, dest, members)
        if fixed is None:
            return fail(f"cannot set owner/group/mode under {dest}")
        changed = changed or fixed
        data.update(_dest_facts(ctx, dest))
        if not changed:
            return ModuleResult(msg=f"{src} already unpacked in {dest}", data=data)
        verb = "would unpack" if ctx.check else "unpacked"
        what = f" ({len(differs)} member(s) differ)" if differs else " (attributes)"
        return ModuleResult(changed=True, msg=f"{verb} {src} into {dest}{what}", data=data)

    def _filters(self, ctx: ModuleContext, kind: str) -> str:
        if kind == "tar":
            return " ".join(f"--exclude={q(str(e))}" for e in ctx.arg("exclude"))
        return " ".join(f"-x {q(str(e))}" for e in ctx.arg("exclude"))

    def _members(self, ctx: ModuleContext, kind: str, a: str) -> list[str] | None:
        listing = f"tar -tf {a} {self._filters(ctx, 'tar')}" if kind == "tar" else f"unzip -Z1 {a}"
        include = " ".join(q(str(i)) for i in ctx.arg("include"))
        res = ctx.run(f"{listing} {include}")
        if not res.ok:
            return None
        return [m for m in res.stdout.splitlines() if m]

    def _differs(self, ctx: ModuleContext, kind: str, a: str, d: str) -> list[str]:
        """Members that extracting would create or change."""
        include = " ".join(q(str(i)) for i in ctx.arg("include"))
        if kind == "tar":
            res = ctx.run(f"tar -d -f {a} -C {d} {self._filters(ctx, 'tar')} {include} 2>&1")
            lines = res.stdout.splitlines()
            wanted = [m for m in TAR_DIFFERS if m != "Mode differs" or ctx.arg("mode") is None]
            if ctx.arg("keep_newer"):
                wanted.remove("Mod time differs")
            return [ln for ln in lines if any(w in ln for w in wanted)]
        script = (
            f'a={a}; d={d}; unzip -Z1 "$a" {include} | while IFS= read -r m; do'
            ' case "$m" in */) [ -d "$d/$m" ] || echo "$m";;'
            ' *) unzip -p "$a" "$m" | cmp -s - "$d/$m" || echo "$m";; esac; done'
        )
        return [m for m in ctx.run(script).stdout.splitlines() if m]

    def _extract(self, ctx: ModuleContext, kind: str, a: str, d: str) -> str:
        extra = " ".join(q(str(o)) for o in ctx.arg("extra_opts"))
        include = " ".join(q(str(i)) for i in ctx.arg("include"))
        if kind == "tar":
            keep = "--keep-newer-files " if ctx.arg("keep_newer") else ""
            return f"tar -x -f {a} -C {d} {keep}{self._filters(ctx, 'tar')} {extra} {include}"
        return f"unzip -o -q {extra} {a} {include} {self._filters(ctx, 'zip')} -d {d}"

    def _attrs(self, ctx: ModuleContext, dest: str, members: list[str]) -> bool | None:
        """Apply owner/group/mode to every member; whether anything changed (None: failed)."""
        owner, group, mode = ctx.arg("owner"), ctx.arg("group"), ctx.arg("mode")
        if not members or (owner is None and group is None and mode is None):
            return False
        paths = "".join(f"{m.rstrip('/')}\n" for m in members).encode()
        res = ctx.run(
            f"cd {q(dest)} && xargs -d '\\n' stat -c '%a|%U|%u|%G|%g|%F|%n' -- 2>/dev/null; true",
            stdin=paths,
        )
        own: list[str] = []
        modes: list[str] = []
        for line in res.stdout.splitlines():
            parts = line.split("|", 6)
            if len(parts) < 7:
                continue
            cur, user, uid, grp, gid, ftype, name = parts
            if (owner is not None and owner not in (user, uid)) or (
                group is not None and group not in (grp, gid)
            ):
                own.append(name)
            if mode is not None and ftype != "symbolic link":
                want = resolve_mode(int(cur, 8), mode, is_dir=ftype == "directory")
                if want != int(cur, 8):
                    modes.append(name)
        if ctx.check or not (own or modes):
            return bool(own or modes)
        spec = f"{mode:04o}" if isinstance(mode, int) else str(mode)
        for names, command in (
            (own, f"chown -h {q(owner_spec(owner, group))}"),
            (modes, f"chmod {q(spec)}"),
        ):
            if names:
                listing = "".join(f"{n}\n" for n in names).encode()
                done = ctx.run(f"cd {q(dest)} && xargs -d '\\n' {command} --", stdin=listing)
                if not done.ok:
                    return None
        return True


def _dest_facts(ctx: ModuleContext, dest: str) -> dict[str, Any]:
    """Ansible's file keys for dest (state, mode, owner, group, uid, gid, size)."""
    try:
        st = stat(ctx, dest, checksum=False)
    except RemoteError:
        return {}
    if not st.exists:
        return {"state": "absent"}
    return {
        "state": st.kind,
        "mode": f"{st.mode:04o}",
        "owner": st.owner,
        "group": st.group,
        "uid": st.uid,
        "gid": st.gid,
        "size": st.size,
    }
