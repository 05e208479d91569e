"""k3s_uninstall: stop k3s and remove what the bootstrap installed, never breaking etcd quorum.

Before touching a server it counts: of the `servers` (the cluster's servers, as
the inventory names them) those in `removing` (the hosts this run uninstalls)
must leave a quorum (more than half) running, unless every server goes (the
whole cluster is torn down) or `force` is set. Agents can always go. Then it
stops and disables the unit through systemctl and removes the unit, its env
file, /etc/rancher/k3s, the data dir and the binary (and /etc/rancher,
/var/lib/rancher when that leaves them empty). Changed only when
something was there.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.k3s_common import CONFIG_DIR, DATA_DIR, UNIT_DIR, binary_path, unit_name
from fleetkit.modules.remote import q


def quorum_problem(host: str, servers: list[str], removing: list[str]) -> str | None:
    """Why removing these servers would lose etcd quorum (None when it would not)."""
    if host not in servers:
        return None
    going = sorted(set(removing) & set(servers) | {host})
    staying = len(servers) - len(going)
    if staying == 0:
        return None  # the whole control plane goes: nothing is left to lose quorum
    need = len(servers) // 2 + 1
    if staying >= need:
        return None
    return (
        f"refusing to uninstall {', '.join(going)}: {staying} of {len(servers)} servers would"
        f" remain, etcd needs {need} for quorum; remove servers one at a time (update the"
        " inventory in between), or all of them, or set force"
    )


class K3sUninstall(Module):
    name = "k3s_uninstall"
    args: ClassVar[dict[str, Arg]] = {
        "role": Arg("str", required=True, choices=("server", "agent")),
        "servers": Arg("list", default=[]),
        "removing": Arg("list", default=[]),
        "force": Arg("bool", default=False),
        "remove_binary": Arg("bool", default=True),
        "bin_dir": Arg("path", default="/usr/local/bin"),
        "data_dir": Arg("path", default=DATA_DIR),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("role") == "server" and not args.get("servers"):
            return ["module k3s_uninstall: a server needs servers (all of the cluster's)"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        role = str(ctx.arg("role"))
        unit = unit_name(role)
        if role == "server" and not ctx.arg("force"):
            servers = [str(s) for s in ctx.arg("servers")]
            problem = quorum_problem(ctx.host, servers, [str(r) for r in ctx.arg("removing")])
            if problem:
                return fail(problem)
        paths = [f"{UNIT_DIR}/{unit}.service", f"{UNIT_DIR}/{unit}.service.env", CONFIG_DIR]
        paths.append(str(ctx.arg("data_dir")))
        if ctx.arg("remove_binary"):
            paths.append(binary_path(ctx.arg("bin_dir")))
        there = ctx.run(
            f'a=$(systemctl is-active {q(unit)} 2>/dev/null | head -n1); echo "active=$a"; '
            + "; ".join(f"[ -e {q(p)} ] && echo present={q(p)}" for p in paths)
            + "; true"
        )
        if not there.ok:
            return fail(f"cannot probe {unit}: {there.stderr.strip()}")
        active = "active=active" in there.stdout
        present = [ln[8:] for ln in there.stdout.splitlines() if ln.startswith("present=")]
        if not active and not present:
            return ModuleResult(msg=f"{unit} not installed")
        what = (["stop " + unit] if active else []) + [f"remove {p}" for p in present]
        if ctx.check:
            return ModuleResult(changed=True, msg="would " + ", ".join(what))
        n = q(unit)
        stop = f"systemctl stop {n} >/dev/null 2>&1; " if active else ""
        remove = "rm -rf " + " ".join(q(p) for p in present) if present else "true"
        res = ctx.run(
            f"{stop}systemctl disable {n} >/dev/null 2>&1; {remove}"
            " && { systemctl daemon-reload >/dev/null 2>&1 || true; }"
            f" && {{ rmdir {q(posixpath.dirname(CONFIG_DIR))}"
            f" {q(posixpath.dirname(str(ctx.arg('data_dir'))))} 2>/dev/null || true; }}"
        )
        if not res.ok:
            return fail(f"uninstall of {unit} failed: {res.stderr.strip()[-300:]}")
        return ModuleResult(changed=True, msg=", ".join(what))
