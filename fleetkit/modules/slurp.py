"""slurp: a remote file's content, base64-encoded, as Ansible returns it.

Read-only, so check mode runs it; a missing or unreadable file is a failure
that names the path.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q


class Slurp(Module):
    name = "slurp"
    args: ClassVar[dict[str, Arg]] = {"src": Arg("path", required=True, aliases=("path",))}

    def run(self, ctx: ModuleContext) -> ModuleResult:
        src = str(ctx.arg("src"))
        p = q(src)
        res = ctx.run(
            f"if [ ! -e {p} ]; then echo 'file not found' >&2; exit 2; fi;"
            f" if [ -d {p} ]; then echo 'is a directory' >&2; exit 3; fi;"
            f" base64 -w0 < {p}"
        )
        if not res.ok:
            return fail(f"cannot read {src}: {res.stderr.strip() or res.rc}", rc=res.rc)
        content = "".join(res.stdout.split())
        return ModuleResult(
            msg=f"read {src}", data={"content": content, "encoding": "base64", "source": src}
        )
