"""k3s_nodes_ready: wait on a server until the named nodes are Ready (read-only, never changed).

Runs `k3s kubectl get nodes -o json` on the server host, polling with backoff
and a progress line, so the controller needs no route to the API port.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.k3s_common import WAIT_ARGS, binary_path, nodes_probe, wait


class K3sNodesReady(Module):
    name = "k3s_nodes_ready"
    args: ClassVar[dict[str, Arg]] = {
        "nodes": Arg("list", required=True),
        "bin_dir": Arg("path", default="/usr/local/bin"),
        **WAIT_ARGS,
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        return [] if args.get("nodes") else ["module k3s_nodes_ready: nodes is empty"]

    def run(self, ctx: ModuleContext) -> ModuleResult:
        names = [str(n) for n in ctx.arg("nodes")]
        if ctx.check:
            return ModuleResult(msg=f"would wait for {len(names)} nodes Ready")
        binary = binary_path(ctx.arg("bin_dir"))
        report = wait(ctx, "nodes Ready", lambda: nodes_probe(ctx, binary, names))
        if not report.converged:
            return fail(
                f"nodes not Ready: {report.reason} ({report.elapsed_s:.1f}s, {report.polls} polls)"
            )
        return ModuleResult(
            msg=f"{report.reason} ({report.elapsed_s:.1f}s, {report.polls} polls)",
            data={"nodes": names},
        )
