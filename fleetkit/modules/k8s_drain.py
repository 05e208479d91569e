"""k8s_drain: cordon, drain (cordon + evict) or uncordon a node, via k3s's kubectl on a server.

Run it on (or delegate it to) a server host: it calls `k3s kubectl` there over
SSH (`cordon`, `drain` with the Eviction API, `uncordon`), so the controller
needs no API access. It reads the node's spec.unschedulable first: cordon and
uncordon change nothing when the node is already so; drain reports changed
when it cordoned the node or evicted a pod. `uncordon_after` uncordons once the
drain finished (evict everything once, e.g. to reschedule pods).
"""

from __future__ import annotations

import json
from typing import ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.k3s_common import binary_path, kubectl
from fleetkit.modules.remote import q


class K8sDrain(Module):
    name = "k8s_drain"
    args: ClassVar[dict[str, Arg]] = {
        "node": Arg("str", required=True, aliases=("name",)),
        "state": Arg("str", default="drain", choices=("drain", "cordon", "uncordon")),
        "uncordon_after": Arg("bool", default=False),
        "ignore_daemonsets": Arg("bool", default=True),
        "delete_emptydir_data": Arg("bool", default=False),
        "force": Arg("bool", default=False),
        "grace_period": Arg("int"),
        "timeout": Arg("int", default=300),
        "bin_dir": Arg("path", default="/usr/local/bin"),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        node = str(ctx.arg("node"))
        binary = binary_path(ctx.arg("bin_dir"))
        ok, out = kubectl(ctx, binary, f"get node {q(node)} -o json")
        if not ok:
            return fail(f"cannot read node {node}: {out}")
        try:
            cordoned = bool((json.loads(out).get("spec") or {}).get("unschedulable"))
        except (ValueError, AttributeError):
            return fail(f"cannot read node {node}: unreadable JSON")
        state = str(ctx.arg("state"))
        if state in ("cordon", "uncordon"):
            want = state == "cordon"
            if cordoned == want:
                return ModuleResult(msg=f"{node} already {state}ed", data={"node": node})
            if ctx.check:
                return ModuleResult(changed=True, msg=f"would {state} {node}")
            ok, out = kubectl(ctx, binary, f"{state} {q(node)}")
            if not ok:
                return fail(f"{state} {node} failed: {out}")
            return ModuleResult(changed=True, msg=f"{state}ed {node}", data={"node": node})
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would drain {node}")
        ok, out = kubectl(ctx, binary, self._drain_args(ctx, node))
        if not ok:
            return fail(f"drain {node} failed: {out}")
        evicted = sum(1 for line in out.splitlines() if "evicted" in line)
        changed = not cordoned or evicted > 0
        msg = f"drained {node} ({evicted} pods evicted)"
        if ctx.arg("uncordon_after"):
            ok, err = kubectl(ctx, binary, f"uncordon {q(node)}")
            if not ok:
                return fail(f"drained {node}, then uncordon failed: {err}")
            changed = True
            msg += ", uncordoned"
        return ModuleResult(changed=changed, msg=msg, data={"node": node, "evicted": evicted})

    @staticmethod
    def _drain_args(ctx: ModuleContext, node: str) -> str:
        parts = ["drain", q(node), f"--timeout={int(ctx.arg('timeout'))}s"]
        if ctx.arg("ignore_daemonsets"):
            parts.append("--ignore-daemonsets")
        if ctx.arg("delete_emptydir_data"):
            parts.append("--delete-emptydir-data")
        if ctx.arg("force"):
            parts.append("--force")
        if ctx.arg("grace_period") is not None:
            parts.append(f"--grace-period={int(ctx.arg('grace_period'))}")
        return " ".join(parts)
