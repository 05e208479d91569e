"""drain(node) on Kubernetes: cordon, evict what may be evicted, wait until it is gone.

DaemonSet pods (their controller would put them straight back) and static pods
(the kubelet owns them) stay, as with `kubectl drain --ignore-daemonsets`. An
eviction a disruption budget refuses (429) is asked again on the next poll.
"""

from __future__ import annotations

from lightkube import ALL_NS
from lightkube.resources.core_v1 import Node, Pod

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Change, WaitOptions
from fleetkit.orchestrators.convergence import Observation, wait_for
from fleetkit.orchestrators.k8s_api import KubeApi
from fleetkit.orchestrators.k8s_fields import Json


def evictable(pod: Json) -> bool:
    meta = pod.get("metadata") or {}
    if any(o.get("kind") == "DaemonSet" for o in meta.get("ownerReferences") or ()):
        return False
    if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
        return False  # a static pod: the kubelet owns it
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def node_pods(api: KubeApi, node: str) -> list[Json]:
    """The evictable pods on node, in every namespace."""
    pods = api.list(Pod, namespace=ALL_NS, fields={"spec.nodeName": node})
    return [p for p in pods if evictable(p)]


def _evict(api: KubeApi, pods: list[Json]) -> int:
    """Evict each pod; how many a disruption budget refused for now."""
    return sum(not api.evict(p["metadata"]["name"], p["metadata"]["namespace"]) for p in pods)


def drain(api: KubeApi, node: str, wait: WaitOptions, *, check: bool = False) -> Change:
    found = api.get(Node, node)
    if found is None:
        raise OrchestratorError(f"node {node} is not in the cluster")
    cordoned = bool((found.get("spec") or {}).get("unschedulable"))
    pods = node_pods(api, node)
    if cordoned and not pods:
        return Change(False, f"node {node} is drained")
    what = f"cordon {node} and evict {len(pods)} pods"
    if check:
        return Change(True, f"would {what}", fields=("availability",))
    if not cordoned:
        api.cordon(node)
    _evict(api, pods)
    if not wait.wait:
        return Change(True, f"{what}; not waiting", fields=("availability",))
    calls = [0]

    def probe() -> Observation:
        calls[0] += 1
        left = node_pods(api, node)
        if not left:
            return Observation("done", len(pods), len(pods), f"no pods left on {node}")
        blocked = _evict(api, left)
        note = f" ({blocked} blocked by a disruption budget)" if blocked else ""
        return Observation(
            "waiting", len(pods) - len(left), len(pods), f"{len(left)} pods left{note}"
        )

    report = wait_for(
        probe,
        wait.policy,
        label=node,
        progress=wait.progress,
        api_calls=lambda: calls[0],
        sleep=wait.sleep,
    )
    text = f"{what}: {report.reason} ({report.summary()})"
    if report.converged:
        return Change(True, text, fields=("availability",), wait=report)
    return Change(True, f"{what}: FAILED: {report.reason}", failed=True, wait=report)
