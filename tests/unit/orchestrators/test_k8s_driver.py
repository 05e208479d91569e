"""The Kubernetes driver against the in-memory API model (k8s_model.FakeKube).

The driver's real lightkube/httpx2 requests go to the model through an
httpx2.MockTransport; the model follows the documented behaviour cited in its
docstring. Model tests, not cluster tests: no API server runs here.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from tests.unit.orchestrators.k8s_model import FakeKube

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import (
    HealthCheck,
    K8sOptions,
    Port,
    Resources,
    ServiceSpec,
    UpdatePolicy,
    WaitOptions,
)
from fleetkit.orchestrators.convergence import Progress, WaitPolicy
from fleetkit.orchestrators.k8s_driver import K8sOrchestrator, connect
from fleetkit.orchestrators.k8s_manifest import REVISION

pytestmark = pytest.mark.unit

V1 = "198.18.0.1:5000/fleetkit/web:v1"
V2 = "198.18.0.1:5000/fleetkit/web:v2"
BAD = "198.18.0.1:5000/fleetkit/web:bad"
NS = "default"


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"a rollout wait slept {seconds}s: it must watch, not poll")


WAIT = WaitOptions(policy=WaitPolicy(timeout_s=60), sleep=_no_sleep)
NO_WAIT = WaitOptions(wait=False)


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube(bad_images=frozenset({BAD}))


@pytest.fixture
def k8s(kube: FakeKube) -> K8sOrchestrator:
    return connect(kube.transport, server="https://127.0.0.1:6443", source="k3s-1")


def dep(kube: FakeKube, name: str = "web") -> dict[str, Any]:
    return kube.get("deployments", NS, name)


def container(kube: FakeKube, name: str = "web") -> dict[str, Any]:
    return dict(dep(kube, name)["spec"]["template"]["spec"]["containers"][0])


def marks(kube: FakeKube, name: str = "web") -> tuple[int, str]:
    meta = dep(kube, name)["metadata"]
    return int(meta["generation"]), str(meta["resourceVersion"])


def revisions(kube: FakeKube) -> dict[str, str]:
    """image -> revision of each ReplicaSet."""
    return {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"][
            REVISION
        ]
        for rs in kube.objects("replicasets", NS)
    }


def writes(kube: FakeKube) -> list[str]:
    return [f"{r.method} {r.path}" for r in kube.requests if r.method != "GET"]


WEB = ServiceSpec("web", image=V1, replicas=3)


# -- deploy: create, idempotence, check mode ---------------------------------------------


def test_deploy_creates_a_deployment_and_waits_until_available(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    change = k8s.deploy(WEB, WAIT)
    assert change.changed and not change.failed
    assert change.fields == ("created",)
    assert change.status is not None
    assert (change.status.desired, change.status.running) == (3, 3)
    assert sum(change.status.per_node.values()) == 3
    d = dep(kube)
    assert d["metadata"]["labels"] == {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/managed-by": "fleetkit",
    }
    assert d["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}
    assert d["metadata"]["annotations"][REVISION] == "1"
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"] == 1


def test_a_second_identical_deploy_is_unchanged_and_moves_neither_generation_nor_version(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    spec = ServiceSpec(
        "web",
        image=V1,
        replicas=3,
        env={"MODE": "prod"},
        command=("httpd",),
        args=("-f", "-p", "80"),
        ports=(Port(80, 8080),),
        resources=Resources(cpu_limit=0.5, memory_limit=64 * 2**20),
        healthcheck=HealthCheck(("CMD-SHELL", "wget -q -O- localhost"), interval_s=5, retries=3),
        stop_grace_period_s=10,
        labels={"team": "web"},
    )
    k8s.deploy(spec, WAIT)
    before = marks(kube)
    service_rv = kube.get("services", NS, "web")["metadata"]["resourceVersion"]
    again = k8s.deploy(spec, WAIT)
    assert not again.changed and not again.failed, again.message
    assert marks(kube) == before
    assert kube.get("services", NS, "web")["metadata"]["resourceVersion"] == service_rv
    assert k8s.deploy(spec, WAIT, check=True).changed is False


def test_check_mode_uses_a_server_side_dry_run_and_changes_nothing(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    predicted = k8s.deploy(WEB, WAIT, check=True)
    assert predicted.changed and predicted.message.startswith("would create deployment web")
    assert not kube.has("deployments", NS, "web")
    applies = [r for r in kube.requests if r.method == "PATCH"]
    assert applies and all(r.params.get("dryRun") == "All" for r in applies)

    k8s.deploy(WEB, WAIT)
    before = marks(kube)
    update = k8s.deploy(ServiceSpec("web", image=V2), WAIT, check=True)
    assert update.changed and update.fields == ("image",)
    assert update.message == "would update deployment web (image)"
    assert marks(kube) == before and container(kube)["image"] == V1


def test_update_of_a_missing_deployment_is_refused(k8s: K8sOrchestrator) -> None:
    with pytest.raises(OrchestratorError, match="does not exist"):
        k8s.update(ServiceSpec("web", image=V1), WAIT)
    with pytest.raises(OrchestratorError, match="give an image"):
        k8s.deploy(ServiceSpec("web", replicas=2), WAIT)


# -- None = keep current -----------------------------------------------------------------


def test_fields_the_spec_leaves_out_keep_their_current_values(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    full = ServiceSpec(
        "web",
        image=V1,
        replicas=4,
        env={"MODE": "prod"},
        command=("httpd",),
        args=("-f",),
        stop_grace_period_s=12,
        k8s=K8sOptions(node_selector={"disk": "ssd"}, progress_deadline_s=120),
    )
    k8s.deploy(full, NO_WAIT)
    change = k8s.deploy(ServiceSpec("web", image=V2), WAIT)
    assert change.fields == ("image",), change.message
    c = container(kube)
    assert c["image"] == V2
    assert c["env"] == [{"name": "MODE", "value": "prod"}]
    assert (c["command"], c["args"]) == (["httpd"], ["-f"])
    spec = dep(kube)["spec"]
    assert spec["replicas"] == 4  # omitted by the user, not reset to the default 1
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] == 12
    assert spec["template"]["spec"]["nodeSelector"] == {"disk": "ssd"}
    assert spec["progressDeadlineSeconds"] == 120


def test_the_model_resets_a_field_its_only_manager_omits(kube: FakeKube) -> None:
    """[SSA-4], on the model directly: why the driver sends owned fields back."""
    http = httpx2.Client(base_url="https://127.0.0.1:6443", transport=kube.transport)
    path = "/apis/apps/v1/namespaces/default/deployments/web"
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 5,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": V1}]},
            },
        },
    }
    headers = {"Content-Type": "application/apply-patch+yaml"}
    params = {"fieldManager": "someone"}
    http.patch(path, content=json.dumps(body), headers=headers, params=params)
    assert dep(kube)["spec"]["replicas"] == 5
    del body["spec"]["replicas"]
    http.patch(path, content=json.dumps(body), headers=headers, params=params)
    assert dep(kube)["spec"]["replicas"] == 1  # removed, then defaulted


def test_an_empty_value_clears_a_field(k8s: K8sOrchestrator, kube: FakeKube) -> None:
    k8s.deploy(ServiceSpec("web", image=V1, env={"A": "1"}, command=("sh",)), WAIT)
    change = k8s.deploy(ServiceSpec("web", env={}, command=()), WAIT)
    assert set(change.fields) == {"env", "command"}
    assert "env" not in container(kube) and "command" not in container(kube)


# -- scale -------------------------------------------------------------------------------


def test_scale_uses_the_scale_subresource_and_makes_no_new_revision(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(WEB, WAIT)
    sets_before = revisions(kube)
    change = k8s.scale("web", 5, WAIT)
    assert change.changed and change.fields == ("replicas",)
    assert change.status is not None and change.status.running == 5
    assert writes(kube)[-1] == "PATCH /apis/apps/v1/namespaces/default/deployments/web/scale"
    assert revisions(kube) == sets_before  # [REV-1]
    assert dep(kube)["metadata"]["annotations"][REVISION] == "1"
    again = k8s.scale("web", 5, WAIT)
    assert not again.changed
    assert k8s.scale("web", 2, WAIT, check=True).changed
    assert dep(kube)["spec"]["replicas"] == 5
    with pytest.raises(OrchestratorError, match="does not exist"):
        k8s.scale("nope", 1, WAIT)


def test_after_a_scale_an_apply_keeps_the_scaled_count_and_can_still_set_it(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(WEB, WAIT)
    k8s.scale("web", 5, WAIT)
    assert kube.owners("deployments", NS, "web")[".spec.replicas"] == {"fleetkit"}
    kept = k8s.deploy(ServiceSpec("web", image=V2), WAIT)
    assert dep(kube)["spec"]["replicas"] == 5, kept.message
    # fleetkit's own scale (an Update via /scale) owns replicas now: applying another
    # count conflicts with it, and the driver takes its own field back
    moved = k8s.deploy(ServiceSpec("web", replicas=2), WAIT)
    assert moved.fields == ("replicas",) and not moved.failed
    assert dep(kube)["spec"]["replicas"] == 2


# -- rollouts ----------------------------------------------------------------------------


def test_a_rolling_update_is_watched_to_completion_with_progress(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(WEB, WAIT)
    seen: list[Progress] = []
    wait = WaitOptions(policy=WaitPolicy(timeout_s=60), progress=seen.append, sleep=_no_sleep)
    change = k8s.deploy(ServiceSpec("web", image=V2), wait)
    assert change.changed and not change.failed and change.fields == ("image",)
    assert revisions(kube) == {V1: "1", V2: "2"}
    pods = kube.objects("pods", NS)
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {V2}
    assert seen[-1].finished and seen[-1].done == 3
    assert any(r.params.get("watch") == "true" for r in kube.requests)


def test_a_stalled_rollout_fails_with_progress_deadline_exceeded_and_is_not_rolled_back(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(
        ServiceSpec("web", image=V1, replicas=3, k8s=K8sOptions(progress_deadline_s=5)), WAIT
    )
    change = k8s.deploy(ServiceSpec("web", image=BAD), WAIT)
    assert change.changed and change.failed
    assert "ProgressDeadlineExceeded" in change.message
    assert container(kube)["image"] == BAD  # [PDE]: Kubernetes takes no other action
    assert change.status is not None
    assert any("CrashLoopBackOff" in e for e in change.status.errors)


def test_failure_action_rollback_undoes_the_rollout_and_reports_failed(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(
        ServiceSpec("web", image=V1, replicas=3, k8s=K8sOptions(progress_deadline_s=5)), WAIT
    )
    spec = ServiceSpec("web", image=BAD, update_config=UpdatePolicy(failure_action="rollback"))
    change = k8s.deploy(spec, WAIT)
    assert change.failed and change.changed
    assert "ProgressDeadlineExceeded" in change.message
    assert "rolled back to revision 1" in change.message and "now revision 3" in change.message
    assert container(kube)["image"] == V1
    assert revisions(kube) == {V1: "3", BAD: "2"}  # [REV-3] the undo renumbered revision 1
    # fleetkit's undo counts as a rollback: rolling back again would go forward to BAD
    assert not k8s.rollback("web", WAIT).changed and container(kube)["image"] == V1
    pods = kube.objects("pods", NS)
    assert len(pods) == 3 and {p["spec"]["containers"][0]["image"] for p in pods} == {V1}


def test_fleetkits_own_deadline_ends_a_wait(k8s: K8sOrchestrator, kube: FakeKube) -> None:
    k8s.deploy(WEB, WAIT)
    short = WaitOptions(policy=WaitPolicy(timeout_s=0.0), sleep=_no_sleep)
    change = k8s.deploy(ServiceSpec("web", image=BAD), short)
    assert change.failed and change.wait is not None and change.wait.timed_out
    assert "not converged after 0s" in change.message


def test_not_waiting_returns_at_once(k8s: K8sOrchestrator, kube: FakeKube) -> None:
    change = k8s.deploy(WEB, NO_WAIT)
    assert change.changed and change.message.endswith("not waiting") and change.wait is None


# -- rollback ----------------------------------------------------------------------------


def test_rollback_restores_the_previous_template_not_the_replicas(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(WEB, WAIT)
    k8s.deploy(ServiceSpec("web", image=V2), WAIT)
    k8s.scale("web", 4, WAIT)
    predicted = k8s.rollback("web", WAIT, check=True)
    assert predicted.changed and "revision 2" in predicted.message
    assert container(kube)["image"] == V2
    change = k8s.rollback("web", WAIT)
    assert change.changed and not change.failed, change.message
    assert container(kube)["image"] == V1
    assert dep(kube)["spec"]["replicas"] == 4  # not rolled back, unlike Swarm
    assert revisions(kube) == {V1: "3", V2: "2"}
    assert "which becomes revision 3" in change.message
    # rolled back already: a second rollback would go forward again, so it is ok and
    # unchanged, as Swarm's (its UpdateStatus rollback_completed)
    again = k8s.rollback("web", WAIT)
    assert not again.changed and "already rolled back (revision 3" in again.message
    assert container(kube)["image"] == V1 and revisions(kube) == {V1: "3", V2: "2"}
    # a new rollout makes a rollback possible again
    k8s.deploy(ServiceSpec("web", image=V2), WAIT)
    assert k8s.rollback("web", WAIT).changed and container(kube)["image"] == V1


def test_rollback_without_history_is_unchanged(k8s: K8sOrchestrator) -> None:
    k8s.deploy(WEB, WAIT)
    change = k8s.rollback("web", WAIT)
    assert not change.changed and "no previous revision" in change.message


# -- ownership conflicts -----------------------------------------------------------------


def _apply_as(kube: FakeKube, manager: str, image: str) -> None:
    http = httpx2.Client(base_url="https://127.0.0.1:6443", transport=kube.transport)
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }
    resp = http.patch(
        "/apis/apps/v1/namespaces/default/deployments/web",
        content=json.dumps(body),
        headers={"Content-Type": "application/apply-patch+yaml"},
        params={"fieldManager": manager, "force": "true"},
    )
    assert resp.status_code == 200, resp.text


def test_a_field_another_manager_set_is_a_conflict_named_in_the_error(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(WEB, WAIT)
    _apply_as(kube, "kubectl", V2)  # someone took the image over with --force-conflicts
    assert kube.owners("deployments", NS, "web")[
        '.spec.template.spec.containers[{"name":"web"}].image'
    ] == {"kubectl"}
    rv = marks(kube)
    with pytest.raises(OrchestratorError, match="image are managed by kubectl") as err:
        k8s.deploy(ServiceSpec("web", image=V1), WAIT)
    assert "k8s_force_conflicts" in str(err.value)
    assert marks(kube) == rv
    # a spec that does not touch the image is no conflict
    assert not k8s.deploy(ServiceSpec("web", replicas=3), WAIT).failed
    forcing = connect(
        kube.transport, server="https://127.0.0.1:6443", source="k3s-1", force_conflicts=True
    )
    taken = forcing.deploy(ServiceSpec("web", image=V1), WAIT)
    assert taken.fields == ("image",) and container(kube)["image"] == V1
    assert kube.owners("deployments", NS, "web")[
        '.spec.template.spec.containers[{"name":"web"}].image'
    ] == {"fleetkit"}


# -- ports, services, strategy -----------------------------------------------------------


def test_ports_map_to_a_service_and_host_ports(k8s: K8sOrchestrator, kube: FakeKube) -> None:
    k8s.deploy(
        ServiceSpec(
            "web",
            image=V1,
            replicas=2,
            ports=(Port(80, 30080), Port(9000, 9000, mode="host")),
        ),
        WAIT,
    )
    svc = kube.get("services", NS, "web")
    assert svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["ports"] == [
        {"name": "tcp-80", "port": 30080, "targetPort": 80, "protocol": "TCP", "nodePort": 30080}
    ]
    assert container(kube)["ports"] == [
        {"containerPort": 80, "protocol": "TCP"},
        {"containerPort": 9000, "protocol": "TCP", "hostPort": 9000},
    ]
    status = k8s.service_status("web")
    assert status is not None
    assert {(e.node, e.address, e.port) for e in status.endpoints} == {
        ("k3s-1", "198.18.0.2", 9000),
        ("k3s-2", "198.18.0.3", 9000),
    }
    removed = k8s.deploy(ServiceSpec("web", ports=(Port(9000, 9000, mode="host"),)), WAIT)
    assert "service removed" in removed.fields
    assert not kube.has("services", NS, "web")


def test_update_config_maps_to_the_rolling_update_strategy(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    spec = ServiceSpec(
        "web",
        image=V1,
        replicas=4,
        update_config=UpdatePolicy(parallelism=2, order="start-first", monitor_s=1, delay_s=5),
    )
    change = k8s.deploy(spec, WAIT)
    d = dep(kube)["spec"]
    assert d["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0},
    }
    assert d["minReadySeconds"] == 1
    assert change.warnings == ("update_config.delay_s has no Kubernetes equivalent: ignored",)
    k8s.deploy(ServiceSpec("web", update_config=UpdatePolicy(parallelism=1)), WAIT)
    assert dep(kube)["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}


def test_force_update_restarts_the_pods_through_a_new_revision(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(WEB, WAIT)
    k8s.now = lambda: "2026-12-03T08:00:00Z"
    change = k8s.deploy(ServiceSpec("web", force_update=True), WAIT)
    assert change.fields == ("force_update",)
    annotations = dep(kube)["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "2026-12-03T08:00:00Z"}
    sets = kube.objects("replicasets", NS)
    assert sorted(rs["metadata"]["annotations"][REVISION] for rs in sets) == ["1", "2"]


# -- remove, drain, status ---------------------------------------------------------------


def test_remove_deletes_the_deployment_and_its_service(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(ServiceSpec("web", image=V1, ports=(Port(80),)), WAIT)
    assert k8s.remove("web", check=True).changed and kube.has("deployments", NS, "web")
    change = k8s.remove("web")
    assert change.changed and change.message == "removed deployment and service web"
    assert not kube.has("deployments", NS, "web") and not kube.has("services", NS, "web")
    assert not kube.objects("pods", NS)
    assert not k8s.remove("web").changed


def test_drain_cordons_and_evicts_all_but_daemonset_pods() -> None:
    kube = FakeKube(daemon_pods=True)
    k8s = connect(kube.transport, server="https://127.0.0.1:6443", source="k3s-1")
    k8s.deploy(ServiceSpec("web", image=V1, replicas=3), WAIT)
    on_2 = [p for p in kube.objects("pods", NS) if p["spec"]["nodeName"] == "k3s-2"]
    assert on_2
    kube.eviction_blocked.add(on_2[0]["metadata"]["name"])  # a budget says "not yet" once

    def tick(seconds: float) -> None:  # drain polls: each pause lets the model run a step
        kube.step()

    wait = WaitOptions(
        policy=WaitPolicy(timeout_s=30, first_interval_s=0, max_interval_s=0), sleep=tick
    )
    change = k8s.drain("k3s-2", wait)
    assert change.changed and not change.failed, change.message
    assert kube.get("nodes", "", "k3s-2")["spec"]["unschedulable"] is True
    assert not [p for p in kube.objects("pods", NS) if p["spec"]["nodeName"] == "k3s-2"]
    assert kube.has("pods", "kube-system", "svclb-k3s-2")  # DaemonSet pods stay
    kube.settle()
    assert len(kube.objects("pods", NS)) == 3
    evictions = [r for r in kube.requests if r.path.endswith("/eviction")]
    assert len(evictions) == len(on_2) + 1  # the blocked one was asked again
    assert not k8s.drain("k3s-2", wait).changed
    assert k8s.status().nodes[1].availability == "pause"
    with pytest.raises(OrchestratorError, match="not in the cluster"):
        k8s.drain("nope", wait)


def test_status_reports_nodes_and_deployments(k8s: K8sOrchestrator, kube: FakeKube) -> None:
    k8s.deploy(WEB, WAIT)
    k8s.deploy(ServiceSpec("api", image=V2, replicas=2, k8s=K8sOptions(namespace="shop")), WAIT)
    status = k8s.status()
    assert [(n.hostname, n.role, n.state, n.address) for n in status.nodes] == [
        ("k3s-1", "manager", "ready", "198.18.0.2"),
        ("k3s-2", "worker", "ready", "198.18.0.3"),
        ("k3s-3", "worker", "ready", "198.18.0.4"),
    ]
    by_name = {s.name: s for s in status.services}
    assert set(by_name) == {"web", "shop/api"}
    assert (by_name["web"].desired, by_name["web"].running) == (3, 3)
    assert by_name["web"].update_state == "completed"
    assert by_name["web"].update_message == "3/3 updated, 3/3 available, revision 1"
    assert sum(by_name["shop/api"].per_node.values()) == 2
    assert [s["name"] for s in status.as_dict()["services"]] == ["web", "shop/api"]
    # the name status gives is the name scale and remove take
    assert k8s.scale("shop/api", 3, WAIT).changed
    assert kube.get("deployments", "shop", "api")["spec"]["replicas"] == 3
    assert k8s.remove("shop/api").changed and not kube.has("deployments", "shop", "api")


def test_an_api_error_is_an_orchestrator_error_with_the_servers_reason(
    k8s: K8sOrchestrator,
) -> None:
    spec = ServiceSpec("web", image=V1, k8s=K8sOptions(max_surge=0, max_unavailable=0))
    with pytest.raises(OrchestratorError, match=r"may not be 0 \(422 Invalid\)"):
        k8s.deploy(spec, WAIT)


def test_a_labels_only_change_is_changed_without_a_new_generation(
    k8s: K8sOrchestrator, kube: FakeKube
) -> None:
    k8s.deploy(WEB, WAIT)
    generation, rv = marks(kube)
    change = k8s.deploy(ServiceSpec("web", labels={"team": "web"}), WAIT)
    assert change.changed and change.fields == ("labels",)
    assert marks(kube)[0] == generation and marks(kube)[1] != rv  # metadata, not spec
    assert revisions(kube) == {V1: "1"}


def test_the_model_shares_a_field_two_managers_set_alike(kube: FakeKube) -> None:
    """[SSA-3] then [SSA-1], on the model: a shared field changed by one of them conflicts."""
    k8s = connect(kube.transport, server="https://127.0.0.1:6443", source="k3s-1")
    k8s.deploy(WEB, WAIT)
    _apply_as(kube, "argo", V1)  # the same image: shared, no conflict
    image = '.spec.template.spec.containers[{"name":"web"}].image'
    assert kube.owners("deployments", NS, "web")[image] == {"fleetkit", "argo"}
    with pytest.raises(OrchestratorError, match="managed by argo"):
        k8s.deploy(ServiceSpec("web", image=V2), WAIT)
