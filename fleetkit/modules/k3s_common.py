"""What the k3s_* modules share: paths, controller-side hashing, the on-host readiness probes.

Readiness is asked of the k3s binary ON the server host (`k3s kubectl get --raw
/readyz`, `k3s kubectl get nodes -o json`) over the task's SSH connection, so the
controller needs no route to the API port. Waits poll with backoff
(orchestrators/convergence) and show a progress line like the swarm modules.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetkit.modules.base import Arg, ModuleContext
from fleetkit.modules.remote import q
from fleetkit.orchestrators.convergence import Observation, WaitPolicy, WaitReport, wait_for
from fleetkit.text import truthy

BINARY_ENV = "FLEETKIT_K3S_BINARY"
IMAGES_ENV = "FLEETKIT_K3S_IMAGES"
BIN_DIR = "/usr/local/bin"
CONFIG_DIR = "/etc/rancher/k3s"
DATA_DIR = "/var/lib/rancher/k3s"
UNIT_DIR = "/etc/systemd/system"
SERVER_TOKEN = f"{DATA_DIR}/server/token"
TOKEN_FILE = f"{CONFIG_DIR}/cluster-token"
KUBECONFIG = f"{CONFIG_DIR}/k3s.yaml"
APPLIED = f"{DATA_DIR}/fleetkit-applied.sha256"
"""Where k3s_service records the hash of the inputs the running service was started with."""

ETCD_LABEL = "node-role.kubernetes.io/etcd"

WAIT_ARGS: dict[str, Arg] = {
    "wait": Arg("bool", default=True),
    "wait_timeout": Arg("float", default=300.0),
    "poll_interval": Arg("float"),
}


def unit_name(role: str) -> str:
    """The systemd unit of a role, as upstream names it: k3s (server) or k3s-agent."""
    return "k3s" if role == "server" else "k3s-agent"


def binary_path(bin_dir: str | None) -> str:
    return f"{(bin_dir or BIN_DIR).rstrip('/')}/k3s"


def controller_path(given: Any, env: str) -> str:
    """A controller file argument, or the environment variable's value when not given."""
    if given is not None and str(given).strip():
        return str(given).strip()
    return os.environ.get(env, "").strip()


def missing_binary_message(path: str) -> str:
    """What to tell the user when the controller has no k3s binary to copy."""
    if not path:
        return (
            f"no k3s binary to install: set k3s_binary (-e k3s_binary=/path/to/k3s) or"
            f" {BINARY_ENV} to a k3s release binary on the controller, or give"
            " k3s_url with k3s_sha256 for hosts that can download"
        )
    return f"k3s binary {path} not found on the controller (from k3s_binary or {BINARY_ENV})"


def file_sha256(path: Path) -> str:
    """sha256 of a controller file, read in chunks (release binaries are ~70 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remote_sha256(ctx: ModuleContext, path: str) -> str:
    """sha256 of a host file ('' when it is absent or unreadable), the connection's way."""
    return ctx.conn.remote_sha256(path, become=ctx.become) or ""


def policy(ctx: ModuleContext) -> WaitPolicy:
    first = ctx.arg("poll_interval")
    timeout = float(ctx.arg("wait_timeout") or 300.0)
    if first is None:
        return WaitPolicy(timeout_s=timeout, first_interval_s=0.5, max_interval_s=5.0)
    return WaitPolicy(timeout_s=timeout, first_interval_s=float(first), max_interval_s=5.0)


def wait(ctx: ModuleContext, label: str, probe: Any) -> WaitReport:
    """Poll probe with backoff and a progress line (swarm_common.progress_printer)."""
    from fleetkit.modules.swarm_common import progress_printer

    show = truthy(ctx.variables.get("k3s_progress", True))
    return wait_for(
        probe,
        policy(ctx),
        label=label,
        progress=progress_printer(ctx.host) if show else None,
        sleep=ctx.sleep or time.sleep,
    )


def kubectl(ctx: ModuleContext, binary: str, args: str) -> tuple[bool, str]:
    """Run `k3s kubectl ARGS` on the host: (ok, stdout or the error's last line)."""
    res = ctx.run(f"{q(binary)} kubectl {args}")
    if res.ok:
        return True, res.stdout
    why = (res.stderr.strip() or res.stdout.strip() or f"rc={res.rc}").splitlines()
    return False, why[-1] if why else f"rc={res.rc}"


def node_state(items: list[Mapping[str, Any]], name: str) -> tuple[bool, bool, bool]:
    """(listed, Ready, etcd member) for node name in a `get nodes -o json` item list."""
    for node in items:
        meta = node.get("metadata") or {}
        if meta.get("name") != name:
            continue
        labels = meta.get("labels") or {}
        conditions = (node.get("status") or {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        return True, ready, labels.get(ETCD_LABEL) == "true"
    return False, False, False


def server_probe(ctx: ModuleContext, binary: str, node: str, *, etcd: bool) -> Observation:
    """One readiness poll of a server: /readyz ok, the node listed Ready (and in etcd)."""
    ok, out = kubectl(ctx, binary, "get --raw /readyz")
    if not ok or out.strip() != "ok":
        return Observation("waiting", 0, 3, f"API /readyz: {out.strip()[:120] or 'no answer'}")
    ok, out = kubectl(ctx, binary, "get nodes -o json")
    if not ok:
        return Observation("waiting", 1, 3, f"get nodes: {out[:120]}")
    try:
        items = json.loads(out).get("items") or []
    except (ValueError, AttributeError):
        return Observation("waiting", 1, 3, "get nodes: unreadable JSON")
    listed, ready, member = node_state(items, node)
    if not listed:
        return Observation("waiting", 1, 3, f"node {node} not registered yet")
    if not ready:
        return Observation("waiting", 2, 3, f"node {node} not Ready yet")
    if etcd and not member:
        return Observation("waiting", 2, 3, f"node {node} not an etcd member yet")
    what = "API ready, node Ready" + (", etcd member" if etcd else "")
    return Observation("done", 3, 3, what)


def nodes_probe(ctx: ModuleContext, binary: str, names: list[str]) -> Observation:
    """One poll from a server: how many of the named nodes are Ready."""
    ok, out = kubectl(ctx, binary, "get nodes -o json")
    if not ok:
        return Observation("waiting", 0, len(names), f"get nodes: {out[:120]}")
    try:
        items = json.loads(out).get("items") or []
    except (ValueError, AttributeError):
        return Observation("waiting", 0, len(names), "get nodes: unreadable JSON")
    waiting = [n for n in names if not node_state(items, n)[1]]
    done = len(names) - len(waiting)
    if not waiting:
        return Observation("done", done, len(names), f"{done}/{len(names)} nodes Ready")
    return Observation(
        "waiting", done, len(names), f"{done}/{len(names)} Ready, waiting: {', '.join(waiting)}"
    )
