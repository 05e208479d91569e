"""Node readiness from the k8s collector: parsing `kubectl get deploy,nodes -A -o json`
and the fleetkit_k8s_node_ready{node, roles} series."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.unit.monitoring.helpers import fixture_text, sample_fleet

from fleetkit.monitoring.collectors import k8s
from fleetkit.monitoring.exporter import MetricsCache
from fleetkit.monitoring.snapshot import K8sNode, K8sSnapshot

pytestmark = pytest.mark.unit


def test_one_list_gives_deployments_and_nodes() -> None:
    snap = k8s.parse_deployments("k3s-1", fixture_text("k8s/deploy-nodes.json"))
    assert [(d.name, d.desired, d.available) for d in snap.deployments] == [("web", 3, 3)]
    assert snap.nodes == (
        K8sNode("k3s-1", "control-plane,master", True),
        K8sNode("k3s-2", "<none>", False),  # Ready Unknown is not ready
    )


def test_the_probe_asks_for_both_kinds_in_one_call() -> None:
    assert "Q='get deploy,nodes -A -o json'" in k8s.SCRIPT


def test_a_deployment_only_list_still_parses() -> None:
    snap = k8s.parse_deployments("k1", fixture_text("k8s/deploy.json"))
    assert snap.nodes == () and len(snap.deployments) == 3


def test_node_ready_series() -> None:
    snap = replace(
        sample_fleet(),
        k8s=K8sSnapshot(
            "k3s-1",
            nodes=(
                K8sNode("k3s-1", "control-plane,master", True),
                K8sNode("k3s-2", "<none>", False),
            ),
        ),
    )
    text = MetricsCache(lambda: snap).text()
    got = {
        (s.labels["node"], s.labels["roles"]): s.value
        for f in text_string_to_metric_families(text)
        if f.name == "fleetkit_k8s_node_ready"
        for s in f.samples
    }
    assert got == {("k3s-1", "control-plane,master"): 1.0, ("k3s-2", "<none>"): 0.0}
