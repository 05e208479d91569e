"""Wire tests: the exact HTTP requests the k8s driver sends, through an httpx2 MockTransport.

A scripted transport answers each request with a canned response and records
it: paths, verbs, the apply-patch content type, fieldManager, force, dryRun, the
watch's query and how its event lines are parsed. Wire tests, not cluster tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx2
import pytest

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Port, ServiceSpec, WaitOptions
from fleetkit.orchestrators.convergence import WaitPolicy
from fleetkit.orchestrators.k8s_driver import K8sOrchestrator, connect
from fleetkit.orchestrators.k8s_rollout import watch_events

pytestmark = pytest.mark.unit

Json = dict[str, Any]
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
NO_WAIT = WaitOptions(wait=False)
WAIT = WaitOptions(policy=WaitPolicy(timeout_s=30))


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    params: dict[str, str]
    content_type: str
    body: Any


Answer = Callable[[httpx2.Request], httpx2.Response]


@dataclass
class Script:
    """Answers (METHOD, path) from a table of queues; records every request."""

    answers: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> Script:
        self.answers.setdefault((method, path), []).extend(answers)
        return self

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        raw = request.read() if request.method in ("POST", "PATCH", "PUT") else b""
        params = dict(parse_qsl(request.url.query.decode()))
        ctype = request.headers.get("content-type", "")
        self.sent.append(
            Sent(request.method, request.url.path, params, ctype, json.loads(raw) if raw else None)
        )
        queue = self.answers.get((request.method, request.url.path))
        if not queue:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request)

    def driver(self, **kw: Any) -> K8sOrchestrator:
        transport = httpx2.MockTransport(self)
        return connect(transport, server="https://127.0.0.1:6443", source="k3s-1", **kw)


def ok(body: Json) -> Answer:
    return lambda _: httpx2.Response(200, json=body, headers={"Content-Type": "application/json"})


def fail(code: int, reason: str, message: str, causes: list[Json] | None = None) -> Answer:
    status: Json = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }
    if causes:
        status["details"] = {"causes": causes}
    return lambda _: httpx2.Response(
        code, json=status, headers={"Content-Type": "application/json"}
    )


def echo(generation: int = 1, rv: str = "200") -> Answer:
    """Answer an apply with its own body, as stored."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.read())
        body["metadata"].update(generation=generation, resourceVersion=rv, uid="u1")
        return httpx2.Response(200, json=body, headers={"Content-Type": "application/json"})

    return answer


def deployment(
    image: str = "web:v1",
    *,
    rv: str = "100",
    generation: int = 1,
    observed: int = 1,
    updated: int = 2,
    available: int = 2,
    replicas: int = 2,
    reason: str = "NewReplicaSetAvailable",
) -> Json:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "u1",
            "generation": generation,
            "resourceVersion": rv,
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
        "status": {
            "observedGeneration": observed,
            "replicas": max(updated, replicas),
            "updatedReplicas": updated,
            "availableReplicas": available,
            "conditions": [{"type": "Progressing", "status": "True", "reason": reason}],
        },
    }


def lines(*events: Json) -> Answer:
    text = "".join(json.dumps(e) + "\n" for e in events).encode()
    return lambda _: httpx2.Response(200, content=iter([text]))


# -- apply -------------------------------------------------------------------------------


def test_create_is_one_server_side_apply_with_fleetkits_field_manager() -> None:
    script = Script().on("GET", f"{DEPLOY}/web", fail(404, "NotFound", "not found"))
    script.on("PATCH", f"{DEPLOY}/web", echo())
    script.driver().deploy(ServiceSpec("web", image="web:v1", replicas=2), NO_WAIT)
    assert [(s.method, s.path) for s in script.sent] == [
        ("GET", f"{DEPLOY}/web"),
        ("PATCH", f"{DEPLOY}/web"),
    ]
    apply = script.sent[1]
    assert apply.content_type == APPLY
    assert apply.params == {"fieldManager": "fleetkit"}  # no force, no dryRun
    assert apply.body == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/managed-by": "fleetkit"},
        },
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:v1"}]},
            },
        },
    }


def test_check_mode_sends_dry_run_all_and_force_follows_the_host_variable() -> None:
    script = Script().on("GET", f"{DEPLOY}/web", fail(404, "NotFound", "not found"))
    script.on("PATCH", f"{DEPLOY}/web", echo())
    script.driver(force_conflicts=True).deploy(
        ServiceSpec("web", image="web:v1"), NO_WAIT, check=True
    )
    assert script.sent[1].params == {"fieldManager": "fleetkit", "force": "true", "dryRun": "All"}


def test_a_conflict_with_fleetkits_own_scale_is_retried_with_force() -> None:
    conflict = fail(
        409,
        "Conflict",
        'Apply failed with 1 conflict: conflict with "fleetkit" with subresource "scale"'
        " using apps/v1: .spec.replicas",
        [
            {
                "reason": "FieldManagerConflict",
                "field": ".spec.replicas",
                "message": 'conflict with "fleetkit" with subresource "scale" using apps/v1',
            }
        ],
    )
    script = Script().on("GET", f"{DEPLOY}/web", ok(deployment()))
    script.on("PATCH", f"{DEPLOY}/web", conflict, echo(generation=2, rv="101"))
    change = script.driver().deploy(ServiceSpec("web", replicas=5), NO_WAIT)
    patches = [s for s in script.sent if s.method == "PATCH"]
    assert [p.params.get("force") for p in patches] == [None, "true"]
    assert change.fields == ("replicas",)


def test_a_conflict_with_another_manager_is_refused_without_force() -> None:
    conflict = fail(
        409,
        "Conflict",
        "Apply failed with 1 conflict",
        [
            {
                "reason": "FieldManagerConflict",
                "field": '.spec.template.spec.containers[name="web"].image',
                "message": 'conflict with "kubectl-edit" using apps/v1',
            }
        ],
    )
    script = Script().on("GET", f"{DEPLOY}/web", ok(deployment()))
    script.on("PATCH", f"{DEPLOY}/web", conflict)
    with pytest.raises(OrchestratorError, match="managed by kubectl-edit"):
        script.driver().deploy(ServiceSpec("web", image="web:v2"), NO_WAIT)
    assert len([s for s in script.sent if s.method == "PATCH"]) == 1


def test_ingress_ports_apply_a_service_too() -> None:
    script = Script().on("GET", f"{DEPLOY}/web", fail(404, "NotFound", "not found"))
    script.on("PATCH", f"{DEPLOY}/web", echo())
    script.on("GET", "/api/v1/namespaces/default/services/web", fail(404, "NotFound", "nf"))
    script.on("PATCH", "/api/v1/namespaces/default/services/web", echo())
    spec = ServiceSpec("web", image="web:v1", ports=(Port(80, 30080),))
    script.driver().deploy(spec, NO_WAIT)
    svc = script.sent[-1]
    assert (svc.content_type, svc.params) == (APPLY, {"fieldManager": "fleetkit"})
    assert svc.body["spec"] == {
        "selector": {"app.kubernetes.io/name": "web"},
        "type": "NodePort",
        "ports": [
            {
                "name": "tcp-80",
                "port": 30080,
                "targetPort": 80,
                "protocol": "TCP",
                "nodePort": 30080,
            }
        ],
    }


# -- scale, delete, nodes ----------------------------------------------------------------


def test_scale_patches_the_scale_subresource() -> None:
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 4},
    }
    script = Script().on("GET", f"{DEPLOY}/web", ok(deployment()))
    script.on("PATCH", f"{DEPLOY}/web/scale", ok(scale))
    script.driver().scale("web", 4, NO_WAIT)
    sent = script.sent[-1]
    assert (sent.method, sent.path, sent.content_type) == ("PATCH", f"{DEPLOY}/web/scale", MERGE)
    assert sent.params == {"fieldManager": "fleetkit"}
    assert sent.body == {"spec": {"replicas": 4}}
    script.driver().scale("web", 3, NO_WAIT, check=True)
    assert script.sent[-1].params == {"fieldManager": "fleetkit", "dryRun": "All"}


def test_remove_in_check_mode_deletes_with_dry_run() -> None:
    script = Script().on("GET", f"{DEPLOY}/web", ok(deployment()))
    script.on("GET", "/api/v1/namespaces/default/services/web", fail(404, "NotFound", "nf"))
    script.on("DELETE", f"{DEPLOY}/web", ok({"kind": "Status", "status": "Success"}))
    assert script.driver().remove("web", check=True).changed
    assert (script.sent[-1].method, script.sent[-1].params) == ("DELETE", {"dryRun": "All"})


def test_drain_cordons_with_a_merge_patch_and_evicts_through_policy_v1() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {}}
    pod = {
        "metadata": {
            "name": "p1",
            "namespace": "default",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "r"}
            ],
        },
        "spec": {"nodeName": "n1", "containers": [{"name": "web"}]},
        "status": {"phase": "Running"},
    }
    daemon = {
        "metadata": {
            "name": "d1",
            "namespace": "kube-system",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "svclb", "uid": "d"}
            ],
        },
        "spec": {"nodeName": "n1", "containers": [{"name": "lb"}]},
        "status": {"phase": "Running"},
    }
    script = Script().on("GET", "/api/v1/nodes/n1", ok(node))
    script.on(
        "GET", "/api/v1/pods", ok({"kind": "PodList", "metadata": {}, "items": [pod, daemon]})
    )
    script.on("PATCH", "/api/v1/nodes/n1", ok({**node, "spec": {"unschedulable": True}}))
    script.on("POST", "/api/v1/namespaces/default/pods/p1/eviction", ok({"kind": "Status"}))
    script.driver().drain("n1", NO_WAIT)
    listing = script.sent[1]
    assert listing.params == {"fieldSelector": "spec.nodeName=n1"}
    cordon, evict = script.sent[2], script.sent[3]
    assert (cordon.method, cordon.content_type, cordon.body) == (
        "PATCH",
        MERGE,
        {"spec": {"unschedulable": True}},
    )
    assert cordon.params == {"fieldManager": "fleetkit"}
    assert (evict.method, evict.path) == ("POST", "/api/v1/namespaces/default/pods/p1/eviction")
    assert evict.body == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "p1", "namespace": "default"},
    }
    assert len(script.sent) == 4  # the DaemonSet's pod is not evicted


def test_status_lists_nodes_deployments_and_pods_cluster_wide() -> None:
    empty = ok({"kind": "List", "metadata": {}, "items": []})
    script = Script().on("GET", "/api/v1/nodes", empty)
    script.on("GET", "/apis/apps/v1/deployments", empty).on("GET", "/api/v1/pods", empty)
    status = script.driver().status()
    assert [s.path for s in script.sent] == [
        "/api/v1/nodes",
        "/apis/apps/v1/deployments",
        "/api/v1/pods",
    ]
    assert status.nodes == () and status.services == ()


# -- the watch ---------------------------------------------------------------------------


def test_a_rollout_wait_is_one_watch_from_the_read_resource_version() -> None:
    script = Script().on(
        "GET",
        f"{DEPLOY}/web",
        ok(deployment(rv="100")),  # the apply's read
        ok(deployment("web:v1", rv="101", generation=2, observed=1)),  # the wait's read
        ok(deployment("web:v2", rv="105", generation=2, observed=2)),  # service_status
    )
    script.on("PATCH", f"{DEPLOY}/web", echo(generation=2, rv="101"))
    script.on(
        "GET",
        "/api/v1/namespaces/default/pods",
        ok({"kind": "PodList", "metadata": {}, "items": []}),
    )
    script.on("GET", "/api/v1/nodes", ok({"kind": "NodeList", "metadata": {}, "items": []}))
    script.on(
        "GET",
        DEPLOY,
        lines(
            {
                "type": "BOOKMARK",
                "object": {"kind": "Deployment", "metadata": {"resourceVersion": "102"}},
            },
            {
                "type": "MODIFIED",
                "object": deployment(
                    "web:v2",
                    rv="103",
                    generation=2,
                    observed=2,
                    updated=1,
                    available=1,
                    reason="ReplicaSetUpdated",
                ),
            },
            {
                "type": "MODIFIED",
                "object": deployment("web:v2", rv="104", generation=2, observed=2),
            },
            {"type": "MODIFIED", "object": deployment("web:v2", rv="105", generation=3)},
        ),
    )
    change = script.driver().deploy(ServiceSpec("web", image="web:v2"), WAIT)
    assert not change.failed and change.wait is not None, change.message
    watches = [s for s in script.sent if s.path == DEPLOY]
    assert len(watches) == 1
    assert watches[0].params == {
        "watch": "true",
        "fieldSelector": "metadata.name=web",
        "resourceVersion": "101",
        "timeoutSeconds": "30",
        "allowWatchBookmarks": "true",
    }
    assert change.wait.polls == 3  # the read + 2 MODIFIED events (the bookmark skipped)


def test_a_410_gone_watch_lists_again_and_watches_from_the_new_version() -> None:
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old"}}
    script = Script().on(
        "GET",
        f"{DEPLOY}/web",
        ok(deployment(rv="100", generation=2, observed=1)),  # scale's read
        ok(deployment(rv="150", generation=2, observed=1)),  # the wait's read
        ok(deployment(rv="300", generation=2, observed=1)),  # listed again after 410
        ok(deployment(rv="301")),  # service_status
    )
    script.on(
        "GET",
        DEPLOY,
        lines(gone),
        lines({"type": "MODIFIED", "object": deployment(rv="301", generation=2, observed=2)}),
    )
    script.on(
        "GET",
        "/api/v1/namespaces/default/pods",
        ok({"kind": "PodList", "metadata": {}, "items": []}),
    )
    script.on("GET", "/api/v1/nodes", ok({"kind": "NodeList", "metadata": {}, "items": []}))
    change = script.driver().scale("web", 2, WAIT)  # already 2: just waits
    assert not change.failed, change.message
    watches = [s.params["resourceVersion"] for s in script.sent if s.path == DEPLOY]
    assert watches == ["150", "300"]


def test_watch_event_parsing() -> None:
    good = [
        json.dumps({"type": "ADDED", "object": {"metadata": {"name": "a"}}}),
        "",
        json.dumps({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}),
        json.dumps({"type": "DELETED", "object": {"metadata": {"name": "a"}}}),
    ]
    assert [k for k, _ in watch_events(iter(good))] == ["ADDED", "DELETED"]
    with pytest.raises(OrchestratorError, match=r"watch failed: forbidden \(403\)"):
        list(
            watch_events(
                iter(
                    [json.dumps({"type": "ERROR", "object": {"code": 403, "message": "forbidden"}})]
                )
            )
        )
    with pytest.raises(OrchestratorError, match="unreadable watch event"):
        list(watch_events(iter(["{not json"])))
