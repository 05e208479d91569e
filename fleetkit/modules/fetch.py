"""fetch: copy a file from the host to the controller (dest/<host>/<path>, or flat).

The host's checksum is compared with the local copy first; the file is
transferred and written (atomically) only when they differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from fleetkit.atomic import write_atomic
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import RemoteError, sha256, stat


def local_path(dest: str, host: str, src: str, flat: bool) -> Path:
    if flat:
        return Path(dest) / Path(src).name if dest.endswith("/") else Path(dest)
    return Path(dest) / host / src.lstrip("/")


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
        target = local_path(str(ctx.arg("dest")), ctx.host, src, bool(ctx.arg("flat")))
        if not target.is_absolute():
            target = ctx.playbook_dir / target
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
