"""apply(): only named fields change, equal values are no change, the rest is kept."""

from __future__ import annotations

import pytest

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import (
    Mount,
    Port,
    Resources,
    ServiceSpec,
    SwarmOptions,
    UpdatePolicy,
)
from fleetkit.orchestrators.swarm_spec import apply, get

from .conftest import V1, V2

CURRENT = {
    "Name": "web",
    "Labels": {"team": "a"},
    "TaskTemplate": {
        "ContainerSpec": {
            "Image": V1 + "@sha256:" + "0" * 64,
            "Env": ["B=2", "A=1"],
            "Isolation": "default",
        },
        "Placement": {"Constraints": ["node.role==worker", "node.labels.x==1"]},
        "ForceUpdate": 0,
        "Runtime": "container",
    },
    "Mode": {"Replicated": {"Replicas": 3}},
    "UpdateConfig": {"Parallelism": 1, "FailureAction": "pause", "Order": "stop-first"},
    "EndpointSpec": {"Mode": "dnsrr", "Ports": [{"TargetPort": 80, "PublishMode": "host"}]},
}


def test_a_new_service_needs_an_image() -> None:
    with pytest.raises(OrchestratorError, match="an image is needed"):
        apply(None, ServiceSpec("web", replicas=2))


def test_a_new_service_lists_created_and_every_named_field() -> None:
    spec, fields = apply(None, ServiceSpec("web", image=V1, replicas=2))
    assert fields == ["created", "replicas"]
    assert get(spec, ("TaskTemplate", "ContainerSpec", "Image")) == V1
    assert get(spec, ("Mode", "Replicated", "Replicas")) == 2


def test_the_same_values_written_differently_are_no_change() -> None:
    spec = ServiceSpec(
        "web",
        image=V1,  # the engine pinned a digest: the tag alone is the same image
        replicas=3,
        env={"A": "1", "B": "2"},  # order of env does not matter
        ports=(Port(80, mode="host"),),  # protocol tcp is the default
        labels={"team": "a"},
        swarm=SwarmOptions(
            constraints=("node.labels.x==1", "node.role==worker"), endpoint_mode="dnsrr"
        ),
    )
    _, fields = apply(CURRENT, spec)
    assert fields == []


def test_an_update_keeps_every_field_the_user_did_not_name() -> None:
    new, fields = apply(CURRENT, ServiceSpec("web", image=V2))
    assert fields == ["image"]
    assert get(new, ("TaskTemplate", "ContainerSpec", "Image")) == V2
    for path in (
        ("TaskTemplate", "ContainerSpec", "Env"),
        ("TaskTemplate", "Placement"),
        ("Mode",),
        ("UpdateConfig",),
        ("EndpointSpec",),
        ("Labels",),
    ):
        assert get(new, path) == get(CURRENT, path)


def test_the_current_spec_is_never_modified() -> None:
    before = repr(CURRENT)
    apply(CURRENT, ServiceSpec("web", image=V2, replicas=9, env={"C": "3"}))
    assert repr(CURRENT) == before


def test_policies_merge_the_named_keys_into_the_current_ones() -> None:
    spec = ServiceSpec("web", update_config=UpdatePolicy(parallelism=2, delay_s=1.5))
    new, fields = apply(CURRENT, spec)
    assert fields == ["update_config"]
    assert new["UpdateConfig"] == {
        "Parallelism": 2,
        "Delay": 1_500_000_000,
        "FailureAction": "pause",
        "Order": "stop-first",
    }


def test_resources_are_set_in_engine_units() -> None:
    new, fields = apply(CURRENT, ServiceSpec("web", resources=Resources(0.5, 64 << 20)))
    assert fields == ["resources"]
    assert new["TaskTemplate"]["Resources"] == {
        "Limits": {"NanoCPUs": 500_000_000, "MemoryBytes": 64 << 20}
    }


def test_force_update_always_changes_the_spec() -> None:
    new, fields = apply(CURRENT, ServiceSpec("web", force_update=True))
    assert fields == ["force_update"]
    assert new["TaskTemplate"]["ForceUpdate"] == 1


def test_replicas_on_a_global_service_is_an_error() -> None:
    current = {**CURRENT, "Mode": {"Global": {}}}
    with pytest.raises(OrchestratorError, match="global"):
        apply(current, ServiceSpec("web", replicas=2))


def test_zero_values_the_engine_omits_are_no_change() -> None:
    current = {**CURRENT, "UpdateConfig": {"Parallelism": 4, "FailureAction": "rollback"}}
    spec = ServiceSpec("web", update_config=UpdatePolicy(parallelism=4, delay_s=0.0))
    _, fields = apply(current, spec)
    assert fields == []


def test_scaling_to_zero_is_a_change() -> None:
    _, fields = apply(CURRENT, ServiceSpec("web", replicas=0))
    assert fields == ["replicas"]


def test_mounts_are_set_and_the_engines_own_defaults_are_no_change() -> None:
    mounts = (
        Mount("/etc/fleetkit", "/srv/fleetkit", readonly=True),
        Mount("/data", "cache", type="volume"),
    )
    spec, fields = apply(CURRENT, ServiceSpec("web", swarm=SwarmOptions(mounts=mounts)))
    assert fields == ["mounts"]
    assert get(spec, ("TaskTemplate", "ContainerSpec", "Mounts")) == [
        {"Type": "bind", "Target": "/etc/fleetkit", "Source": "/srv/fleetkit", "ReadOnly": True},
        {"Type": "volume", "Target": "/data", "Source": "cache"},
    ]
    # as the engine reports them back: its defaults added, another order
    spec["TaskTemplate"]["ContainerSpec"]["Mounts"] = [
        {"Type": "volume", "Source": "cache", "Target": "/data", "VolumeOptions": {}},
        {"Type": "bind", "Source": "/srv/fleetkit", "Target": "/etc/fleetkit", "ReadOnly": True},
    ]
    _, again = apply(spec, ServiceSpec("web", swarm=SwarmOptions(mounts=mounts)))
    assert again == []
    _, writable = apply(spec, ServiceSpec("web", swarm=SwarmOptions(mounts=mounts[1:])))
    assert writable == ["mounts"]
