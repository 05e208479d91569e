"""k3s_service: start k3s (or restart it when its inputs changed), then wait until it is ready.

The inputs are the binary, the unit, its env file, config.yaml, registries.yaml
and the token file. Their sha256 sums, hashed together, are recorded on the host
(/var/lib/rancher/k3s/fleetkit-applied.sha256) once the service is up and ready;
the next run restarts only when that recorded hash differs from the files' hash
now or the service is not active. So a second run restarts nothing and reports
ok, and a run that failed halfway restarts on the next one instead of forgetting
the change. Start/restart go through `systemctl`. Readiness is asked on the host:
a server's /readyz, its node Ready (and an etcd member when etcd is expected);
an agent's unit active (its node's Ready is checked from a server: k3s_nodes_ready).
In check mode nothing was written, so `pending_change` (an earlier task of the
run would change an input) makes it predict the restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.k3s_common import (
    APPLIED,
    CONFIG_DIR,
    TOKEN_FILE,
    UNIT_DIR,
    WAIT_ARGS,
    binary_path,
    server_probe,
    unit_name,
    wait,
)
from fleetkit.modules.remote import q
from fleetkit.orchestrators.convergence import Observation


def inputs(args: Mapping[str, Any], unit: str) -> list[str]:
    """The files whose content the running service depends on."""
    conf = str(args.get("config_dir") or CONFIG_DIR).rstrip("/")
    units = str(args.get("unit_dir") or UNIT_DIR).rstrip("/")
    return [
        binary_path(args.get("bin_dir")),
        f"{units}/{unit}.service",
        f"{units}/{unit}.service.env",
        f"{conf}/config.yaml",
        f"{conf}/registries.yaml",
        str(args.get("token_file") or TOKEN_FILE),
    ]


def probe_script(unit: str, files: list[str], applied: str) -> str:
    """One round trip: the unit's state, the recorded hash, each input's sha256 (or '-')."""
    lines = [f'echo "active=$(systemctl is-active {q(unit)} 2>/dev/null | head -n1)"']
    lines.append(f'echo "applied=$(cat {q(applied)} 2>/dev/null)"')
    for path in files:
        lines.append(
            f"if [ -f {q(path)} ]; then echo \"file=$(sha256sum < {q(path)} | cut -d' ' -f1)"
            f' {path}"; else echo "file=- {path}"; fi'
        )
    return "\n".join(lines)


def parse_probe(stdout: str) -> tuple[bool, str, str]:
    """(active, recorded hash, current inputs' hash) from probe_script's output."""
    active = False
    applied = ""
    files: list[str] = []
    for line in stdout.splitlines():
        key, _, value = line.partition("=")
        if key == "active":
            active = value.strip() in ("active", "activating", "reloading")
        elif key == "applied":
            applied = value.strip()
        elif key == "file":
            files.append(value.strip())
    current = hashlib.sha256("\n".join(files).encode()).hexdigest()
    return active, applied, current


class K3sService(Module):
    name = "k3s_service"
    args: ClassVar[dict[str, Arg]] = {
        "role": Arg("str", required=True, choices=("server", "agent")),
        "node_name": Arg("str"),
        "etcd": Arg("bool", default=False),
        "bin_dir": Arg("path", default="/usr/local/bin"),
        "config_dir": Arg("path", default=CONFIG_DIR),
        "unit_dir": Arg("path", default=UNIT_DIR),
        "token_file": Arg("path", default=TOKEN_FILE),
        "pending_change": Arg("bool", default=False),
        **WAIT_ARGS,
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        role = str(ctx.arg("role"))
        unit = unit_name(role)
        res = ctx.run(probe_script(unit, inputs(ctx.args, unit), APPLIED))
        if not res.ok:
            return fail(f"cannot probe {unit}: {res.stderr.strip()}", rc=res.rc)
        active, applied, current = parse_probe(res.stdout)
        data: dict[str, Any] = {"unit": unit, "inputs_sha256": current}
        if ctx.check and active and ctx.arg("pending_change"):
            # an earlier task would change an input, but check mode did not write it
            return ModuleResult(
                changed=True, msg=f"would restart {unit} (inputs changed)", data=data
            )
        if active and applied == current:
            ready = self._ready(ctx, role) if ctx.arg("wait") and not ctx.check else None
            if ready is not None and not ready[0]:
                return fail(f"{unit} runs with unchanged inputs but is not ready: {ready[1]}")
            return ModuleResult(msg=f"{unit} running, inputs unchanged", data=data)
        action = "restart" if active else "start"
        why = "inputs changed" if active else "not running"
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would {action} {unit} ({why})", data=data)
        n = q(unit)
        out = ctx.run(
            f"systemctl daemon-reload && systemctl enable {n} >/dev/null 2>&1;"
            f" systemctl {action} {n}"
        )
        if not out.ok:
            detail = (out.stderr.strip() or out.stdout.strip())[-500:]
            return fail(f"systemctl {action} {unit} failed: {detail or f'rc={out.rc}'}", rc=out.rc)
        if ctx.arg("wait"):
            ok, detail = self._ready(ctx, role)
            if not ok:
                return fail(f"{action}ed {unit} ({why}) but it is not ready: {detail}")
        else:
            detail = "not waited for"
        rec = ctx.run(
            f"mkdir -p $(dirname {q(APPLIED)}) && printf '%s\\n' {q(current)} > {q(APPLIED)}"
        )
        if not rec.ok:
            return fail(f"cannot record the applied inputs in {APPLIED}: {rec.stderr.strip()}")
        return ModuleResult(changed=True, msg=f"{action}ed {unit} ({why}): {detail}", data=data)

    def _ready(self, ctx: ModuleContext, role: str) -> tuple[bool, str]:
        binary = binary_path(ctx.arg("bin_dir"))
        node = str(ctx.arg("node_name") or ctx.host)
        unit = unit_name(role)

        def probe() -> Observation:
            if role == "server":
                return server_probe(ctx, binary, node, etcd=bool(ctx.arg("etcd")))
            res = ctx.run(f"systemctl is-active {q(unit)}")
            state = res.stdout.strip().splitlines()[0] if res.stdout.strip() else "unknown"
            if state == "active":
                return Observation("done", 1, 1, f"{unit} active")
            if state == "failed":
                return Observation("failed", 0, 1, f"{unit} failed")
            return Observation("waiting", 0, 1, f"{unit} {state}")

        report = wait(ctx, f"{unit} ready", probe)
        return report.converged, f"{report.reason} ({report.elapsed_s:.1f}s, {report.polls} polls)"
