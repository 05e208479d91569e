"""k3s_token: read the first server's join token as a Secret (for `register:`).

The token is read with `cat` of the file k3s writes (the command names the file,
not the token) and returned only as a Secret in the module's data: str(), repr()
and JSON give '********', so no output, log, --json event or metric shows it.
Joining hosts get it through k3s_config's 0600 token file. Never changes anything.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.k3s_common import SERVER_TOKEN
from fleetkit.modules.remote import q
from fleetkit.orchestrators.base import Secret


class K3sToken(Module):
    name = "k3s_token"
    args: ClassVar[dict[str, Arg]] = {"path": Arg("path", default=SERVER_TOKEN)}

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path"))
        res = ctx.run(f"if [ -f {q(path)} ]; then cat {q(path)}; else echo MISSING >&2; fi")
        value = res.stdout.strip() if res.ok else ""
        if not value:
            if ctx.check:  # check mode before the first server ran: a placeholder
                return ModuleResult(msg=f"no token at {path} yet", data={"token": Secret("")})
            why = "missing" if "MISSING" in res.stderr else (res.stderr.strip()[-200:] or "empty")
            return fail(f"cannot read the join token {path}: {why} (is the first server up?)")
        return ModuleResult(msg=f"read the join token from {path}", data={"token": Secret(value)})
