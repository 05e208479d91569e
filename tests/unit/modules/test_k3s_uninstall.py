"""k3s_uninstall refuses to break etcd quorum; k8s_drain is idempotent about cordoning."""

from __future__ import annotations

import json

import pytest
from tests.unit.modules.k3s_support import run

from fleetkit.modules.k3s_uninstall import quorum_problem
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

THREE = ["h1", "s2", "s3"]


def test_quorum_rules() -> None:
    assert quorum_problem("h1", THREE, ["h1"]) is None  # 2 of 3 stay
    problem = quorum_problem("h1", THREE, ["h1", "s2"])
    assert problem is not None and "1 of 3" in problem and "needs 2" in problem
    assert quorum_problem("h1", THREE, THREE) is None  # the whole cluster goes
    assert quorum_problem("a1", THREE, ["a1", "h1", "s2"]) is None  # agents always may
    five = ["s1", "s2", "s3", "s4", "s5"]
    assert quorum_problem("s1", five, ["s1", "s2"]) is None
    assert quorum_problem("s1", five, ["s1", "s2", "s3"]) is not None


def test_a_quorum_breaking_uninstall_touches_nothing() -> None:
    conn = FakeConnection("s1")
    res = run("k3s_uninstall", {"role": "server", "servers": THREE, "removing": ["h1", "s2"]}, conn)
    assert res.failed and "refusing" in res.msg
    assert conn.commands == []


def test_uninstall_stops_then_removes_and_is_ok_when_gone() -> None:
    conn = FakeConnection("a1", lambda c: (0, "active=active\npresent=/etc/rancher/k3s\n", ""))
    res = run("k3s_uninstall", {"role": "agent"}, conn)
    assert res.changed and "stop k3s-agent" in res.msg
    assert any("systemctl stop k3s-agent" in c and "rm -rf" in c for c in conn.commands)
    gone = FakeConnection("a1", lambda c: (0, "active=inactive\n", ""))
    res = run("k3s_uninstall", {"role": "agent"}, gone)
    assert not res.changed and "not installed" in res.msg


def node(unschedulable: bool) -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if "get node" in call.command:
            return 0, json.dumps({"spec": {"unschedulable": unschedulable}}), ""
        if " drain " in call.command:
            return 0, "node/n1 cordoned\npod/web-1 evicted\nnode/n1 drained\n", ""
        return 0, "", ""

    return FakeConnection("s1", handle)


def test_drain_cordon_uncordon_through_k3s_kubectl() -> None:
    conn = node(False)
    res = run("k8s_drain", {"node": "n1", "bin_dir": "/opt/k3s/bin"}, conn)
    assert res.changed and "1 pods evicted" in res.msg
    drain = [c for c in conn.commands if " drain " in c]
    assert drain and drain[0].startswith("/opt/k3s/bin/k3s kubectl drain n1")
    assert "--ignore-daemonsets" in drain[0]
    already = node(True)
    res = run("k8s_drain", {"node": "n1", "state": "cordon"}, already)
    assert not res.changed and not any(" cordon " in c for c in already.commands)
    res = run("k8s_drain", {"node": "n1", "state": "uncordon"}, node(True))
    assert res.changed
    res = run("k8s_drain", {"node": "n1", "uncordon_after": True}, node(False))
    assert res.changed and res.msg.endswith("uncordoned")
