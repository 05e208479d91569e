"""Kubernetes deployments' desired and available replicas and nodes' readiness, from one server.

Sent only when the inventory has a `k8s_servers` group: the first reachable
server runs `kubectl get deploy,nodes -A -o json` (one List holding both kinds;
k3s's bundled kubectl when there is no kubectl; through non-interactive sudo
when the kubeconfig is root's), with fail-over to the next server like the
swarm collector.
"""

from __future__ import annotations

import json

from fleetkit.monitoring.snapshot import Deployment, K8sNode, K8sSnapshot

ROLE_PREFIX = "node-role.kubernetes.io/"

SERVER_GROUPS: tuple[str, ...] = ("k8s_servers",)

SCRIPT = (
    "echo '@@fk@@ k8s'\n"
    "K=; if command -v kubectl >/dev/null 2>&1; then K=kubectl;"
    ' elif command -v k3s >/dev/null 2>&1; then K="k3s kubectl"; fi\n'
    "if [ -z \"$K\" ]; then echo '!absent'; else\n"
    "  Q='get deploy,nodes -A -o json'\n"
    "  out=$($K $Q 2>/dev/null) || out=$(sudo -n $K $Q 2>&1)"
    ' && printf "%s\\n" "$out" || echo "!error $(echo "$out" | head -n 1)"\n'
    "fi\n"
)


class K8sUnavailable(Exception):
    """This host could not list the cluster's deployments."""


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float | str) and str(value).isdigit() else 0


def parse_deployments(source: str, text: str) -> K8sSnapshot:
    """`kubectl get deploy -A -o json` -> K8sSnapshot. K8sUnavailable on errors."""
    stripped = text.strip()
    if stripped.startswith("!absent"):
        raise K8sUnavailable("kubectl is not installed")
    if stripped.startswith("!error"):
        raise K8sUnavailable(stripped[len("!error") :].strip() or "kubectl failed")
    try:
        data = json.loads(stripped)
    except ValueError:
        raise K8sUnavailable(f"unreadable kubectl output {stripped[:80]!r}") from None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise K8sUnavailable("kubectl output has no items list")
    out = []
    nodes = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("kind") == "Node":
            nodes.append(_node(item))
            continue
        meta = item.get("metadata") or {}
        spec = item.get("spec") or {}
        status = item.get("status") or {}
        out.append(
            Deployment(
                namespace=str(meta.get("namespace", "")),
                name=str(meta.get("name", "")),
                desired=_int(spec.get("replicas", 1)),
                available=_int(status.get("availableReplicas", 0)),
            )
        )
    return K8sSnapshot(
        source=source,
        deployments=tuple(sorted(out, key=lambda d: (d.namespace, d.name))),
        nodes=tuple(sorted(nodes, key=lambda n: n.node)),
    )


def _node(item: dict[str, object]) -> K8sNode:
    """A Node item: Ready is its Ready condition's status; roles from its role labels."""
    meta = item.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    labels = meta.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    roles = sorted(str(k)[len(ROLE_PREFIX) :] for k in labels if str(k).startswith(ROLE_PREFIX))
    status = item.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    ready = any(
        isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True"
        for c in (conditions if isinstance(conditions, list) else ())
    )
    return K8sNode(node=str(meta.get("name", "")), roles=",".join(roles) or "<none>", ready=ready)
