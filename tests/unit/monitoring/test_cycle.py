"""Collection cycles over fake hosts: one round trip each, down hosts, backoff, fail-over."""

from __future__ import annotations

import time

import pytest

from fleetkit.connection.base import CommandResult
from fleetkit.monitoring.cycle import Collection, Targets
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

from .conftest import FakeFleet
from .helpers import fixture_text, probe_answer, swarm_answer


def test_one_round_trip_per_host_per_cycle(fake_fleet: FakeFleet) -> None:
    conns = {h: FakeConnection(h, probe_answer()) for h in ("a", "b", "c")}
    coll = Collection(Targets(hosts=tuple(conns)), fake_fleet(conns))
    for _ in range(3):
        snap = coll.cycle()
    assert all(h.up for h in snap.hosts)
    assert [len(c.calls) for c in conns.values()] == [3, 3, 3]
    assert all(c.opened == 1 for c in conns.values())  # persistent connections
    assert snap.cycle == 3 and coll.latest is snap


def test_a_down_host_is_up_zero_and_the_others_are_unaffected(fake_fleet: FakeFleet) -> None:
    conns = {
        "a": FakeConnection("a", probe_answer()),
        "dead": FakeConnection("dead", unreachable=True),
        "c": FakeConnection("c", probe_answer()),
    }
    snap = Collection(Targets(hosts=tuple(conns)), fake_fleet(conns)).cycle()
    assert {h.host: h.up for h in snap.hosts} == {"a": True, "dead": False, "c": True}
    assert "refused" in snap.host("dead").error
    assert snap.host("a").memory_total_bytes


def test_a_slow_host_is_cut_at_its_timeout_without_delaying_the_others(
    fake_fleet: FakeFleet,
) -> None:
    conns = {
        "fast": FakeConnection("fast", probe_answer()),
        "slow": FakeConnection("slow", probe_answer(), delay=5.0),
    }
    coll = Collection(Targets(hosts=tuple(conns)), fake_fleet(conns), timeout=0.3)
    t0 = time.monotonic()
    snap = coll.cycle()
    assert time.monotonic() - t0 < 2.0
    assert snap.host("fast").up
    slow = snap.host("slow")
    assert not slow.up and "timed out" in slow.error
    assert conns["slow"].closed  # a stuck session is dropped, reconnected later


def test_failed_hosts_back_off_and_reconnect_when_they_return(fake_fleet: FakeFleet) -> None:
    flaky = FakeConnection("flaky", probe_answer(), unreachable=True)
    conns = {"ok": FakeConnection("ok", probe_answer()), "flaky": flaky}
    coll = Collection(Targets(hosts=tuple(conns)), fake_fleet(conns), interval=1.0)
    tried: list[bool] = []
    for _ in range(8):
        snap = coll.cycle()
        tried.append("backing off" not in snap.host("flaky").error)
    # failures 1, 2, 3 ... retry after 0, 1, 3 skipped cycles
    assert tried == [True, True, False, True, False, False, False, True]
    flaky.unreachable = False
    back = [coll.cycle().host("flaky").up for _ in range(8)]
    assert True in back and back.index(True) <= 7
    snap = coll.cycle()
    assert snap.host("flaky").up and snap.host("flaky").error == ""


def test_backoff_is_capped(fake_fleet: FakeFleet) -> None:
    conns = {"dead": FakeConnection("dead", unreachable=True)}
    coll = Collection(Targets(hosts=("dead",)), fake_fleet(conns), interval=10, max_backoff_s=30)
    attempts = sum("backing off" not in coll.cycle().host("dead").error for _ in range(20))
    assert attempts >= 20 // 3  # never more than 2 cycles skipped in a row


def test_a_down_host_keeps_its_identity_and_last_success(fake_fleet: FakeFleet) -> None:
    host = FakeConnection("h", probe_answer())
    coll = Collection(Targets(hosts=("h",), groups={"h": ("web",)}), fake_fleet({"h": host}))
    good = coll.cycle().host("h")
    host.close()
    host.unreachable = True
    down = coll.cycle().host("h")
    assert not down.up
    assert (down.os, down.kernel, down.groups) == (good.os, good.kernel, ("web",))
    assert down.last_success == good.last_success


def test_swarm_comes_from_the_first_manager_inside_its_probe(fake_fleet: FakeFleet) -> None:
    conns = {
        "m1": FakeConnection("m1", probe_answer(swarm=swarm_answer())),
        "w1": FakeConnection("w1", probe_answer()),
    }
    coll = Collection(Targets(hosts=("m1", "w1"), managers=("m1",)), fake_fleet(conns))
    snap = coll.cycle()
    assert snap.swarm is not None and snap.swarm.source == "m1"
    assert {s.name for s in snap.swarm.services} >= {"web", "api"}
    assert len(conns["m1"].calls) == 1  # no extra round trip
    assert "swarm_$what" not in conns["w1"].calls[0].command


def test_swarm_fails_over_to_the_next_manager_and_sticks(fake_fleet: FakeFleet) -> None:
    not_manager = "@@fk@@ swarm_node\n" + fixture_text("swarm/not_manager.txt")
    conns = {
        "m1": FakeConnection("m1", probe_answer(swarm=not_manager)),
        "m2": FakeConnection("m2", probe_answer(swarm=swarm_answer())),
    }
    coll = Collection(Targets(hosts=("m1", "m2"), managers=("m1", "m2")), fake_fleet(conns))
    snap = coll.cycle()
    assert snap.swarm is not None and snap.swarm.source == "m2"
    assert len(conns["m2"].calls) == 2  # its probe, then the fail-over question
    snap = coll.cycle()
    assert snap.swarm is not None and snap.swarm.source == "m2"
    assert len(conns["m2"].calls) == 3  # now inside its probe
    assert "swarm_$what" not in conns["m1"].calls[-1].command


def test_swarm_skips_a_manager_that_is_down(fake_fleet: FakeFleet) -> None:
    conns = {
        "m1": FakeConnection("m1", unreachable=True),
        "m2": FakeConnection("m2", probe_answer(swarm=swarm_answer())),
    }
    snap = Collection(Targets(hosts=("m1", "m2"), managers=("m1", "m2")), fake_fleet(conns)).cycle()
    assert snap.swarm is not None and snap.swarm.source == "m2"


def test_no_manager_can_answer_means_no_swarm(fake_fleet: FakeFleet) -> None:
    conns = {"m1": FakeConnection("m1", probe_answer())}
    snap = Collection(Targets(hosts=("m1",), managers=("m1",)), fake_fleet(conns)).cycle()
    assert snap.swarm is None


def test_k8s_is_asked_only_when_there_are_servers(fake_fleet: FakeFleet) -> None:
    deploy = fixture_text("k8s/deploy.json")

    def handler(call: FakeCall) -> CommandResult:
        base = probe_answer()(call)
        extra = "@@fk@@ k8s\n" + deploy if "@@fk@@ k8s" in call.command else ""
        return CommandResult(0, base.stdout.replace("@@fk@@ end\n", extra + "@@fk@@ end\n"), "", 0)

    conns = {"k1": FakeConnection("k1", handler), "x": FakeConnection("x", handler)}
    with_k8s = Collection(Targets(hosts=("k1", "x"), k8s_servers=("k1",)), fake_fleet(conns))
    snap = with_k8s.cycle()
    assert snap.k8s is not None and len(snap.k8s.deployments) == 3
    assert "@@fk@@ k8s" not in conns["x"].calls[0].command
    plain = Collection(Targets(hosts=("x",)), fake_fleet({"x": FakeConnection("x", handler)}))
    assert plain.cycle().k8s is None


def test_a_transport_bug_marks_the_host_down_not_the_cycle(fake_fleet: FakeFleet) -> None:
    def explode(call: FakeCall) -> CommandResult:
        raise RuntimeError("boom")

    conns = {"bad": FakeConnection("bad", explode), "ok": FakeConnection("ok", probe_answer())}
    snap = Collection(Targets(hosts=("bad", "ok")), fake_fleet(conns)).cycle()
    assert not snap.host("bad").up and "boom" in snap.host("bad").error
    assert snap.host("ok").up


def test_without_any_swarm_the_fail_over_questions_pause(fake_fleet: FakeFleet) -> None:
    not_manager = "@@fk@@ swarm_node\n" + fixture_text("swarm/not_manager.txt")
    conns = {m: FakeConnection(m, probe_answer(swarm=not_manager)) for m in ("m1", "m2", "m3")}
    coll = Collection(Targets(hosts=tuple(conns), managers=tuple(conns)), fake_fleet(conns))
    for _ in range(5):
        assert coll.cycle().swarm is None
    # first cycle: m2 and m3 asked once each; then only m1's probe section
    assert [len(c.calls) for c in conns.values()] == [5, 6, 6]


def test_a_parser_bug_keeps_the_host_up_with_a_warning(
    fake_fleet: FakeFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr("fleetkit.monitoring.cycle.parse_probe", broken)
    conns = {"a": FakeConnection("a", probe_answer())}
    snap = Collection(Targets(hosts=("a",)), fake_fleet(conns)).cycle()
    assert snap.host("a").up
    assert "parser bug" in snap.host("a").warnings[0]
