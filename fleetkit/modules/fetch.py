"""fetch: copy a file from the host to the controller (dest/<host>/<path>, or flat).

The host's checksum is compared with the local copy first; the file is
transferred and written (atomically) only when they differ. The target is
resolved and must stay inside dest/<host>/ (flat: dest, or dest/<basename>):
a `src` with `..` or a host name with `/` would otherwise write wherever the
controller user can (the class of Ansible's CVE-2019-3828).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from fleetkit.atomic import write_atomic
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import RemoteError, sha256, stat


def local_path(dest: str, host: str, src: str, flat: bool, base: Path = Path(".")) -> Path:
    """Where host's src is written (a relative dest is under base); ValueError when that
    would be outside dest/<host>/ (flat: outside dest)."""
    root = Path(dest) if Path(dest).is_absolute() else base / dest
    if flat:
        if not dest.endswith("/"):
            return root
        name = src.rstrip("/").rpartition("/")[2]
        if name in ("", ".", ".."):
            raise ValueError(f"fetch: src {src!r} has no file name for flat=yes")
        inside, target = root, root / name
    else:
        if "\0" in src or ".." in src.split("/"):
            raise ValueError(f"fetch: src {src!r} contains '..' (not allowed without flat)")
        if not host or host in (".", "..") or "/" in host or "\0" in host:
            raise ValueError(f"fetch: host name {host!r} cannot name a directory")
        inside = root / host
        target = inside / src.lstrip("/")
    resolved, fence = target.resolve(), inside.resolve()
    if fence not in resolved.parents:
        raise ValueError(f"fetch: {target} resolves to {resolved}, outside {fence}")
    return resolved


class Fetch(Module):
    name = "fetch"
    args: ClassVar[dict[str, Arg]] = {
        "src": Arg("path", required=True),
        "dest": Arg("path", required=True),
        "flat": Arg("bool", default=False),
        "fail_on_missing": Arg("bool", default=True),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        src = str(ctx.arg("src"))
        try:
            target = local_path(
                str(ctx.arg("dest")), ctx.host, src, bool(ctx.arg("flat")), ctx.playbook_dir
            )
        except ValueError as err:
            return fail(str(err))
        try:
            st = stat(ctx, src)
            if not st.exists or st.kind != "file":
                why = f"{src} does not exist" if not st.exists else f"{src} is a {st.kind}"
                return fail(why) if ctx.arg("fail_on_missing") else ModuleResult(msg=why)
            if target.is_file() and sha256(target.read_bytes()) == st.sha256:
                return ModuleResult(msg=f"{target} up to date", data={"dest": str(target)})
            if ctx.check:
                return ModuleResult(changed=True, msg=f"would fetch {src} to {target}")
            data = ctx.conn.get(src, become=ctx.become)
        except RemoteError as err:
            return fail(str(err))
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data, mode=0o600)
        return ModuleResult(
            changed=True, msg=f"fetched {src} to {target}", data={"dest": str(target)}
        )
