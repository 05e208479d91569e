"""Module arguments -> ServiceSpec: the formats users already write."""

from __future__ import annotations

import re

import pytest

from fleetkit.orchestrators.base import Mount, Port
from fleetkit.orchestrators.spec_args import duration, port, service_spec, size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(10, 10.0), ("2.5", 2.5), ("10s", 10.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0)],
)
def test_durations_read_numbers_and_go_style_strings(text: object, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("bad", ["ten", "10x", "-1", True])
def test_a_bad_duration_names_the_value(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        duration(bad)


@pytest.mark.parametrize(
    ("text", "octets"), [(1024, 1024), ("512M", 512 << 20), ("1g", 1 << 30), ("64KiB", 64 << 10)]
)
def test_sizes_use_binary_units(text: object, octets: int) -> None:
    assert size(text) == octets


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (80, Port(80, mode="host")),
        ("8080:80", Port(80, 8080, mode="host")),
        ("53:53/udp", Port(53, 53, "udp", "host")),
        ({"target": 80, "published": "", "mode": "ingress"}, Port(80, None, mode="ingress")),
    ],
)
def test_ports_read_cli_strings_and_mappings(value: object, expected: Port) -> None:
    assert port(value, "host") == expected


def test_an_unknown_key_in_a_policy_is_reported_with_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown key\(s\) paralelism"):
        service_spec({"name": "web", "update_config": {"paralelism": 2}})


def test_unnamed_arguments_stay_none_so_an_update_keeps_them() -> None:
    spec = service_spec({"name": "web", "image": "img", "replicas": None, "env": None})
    assert spec.replicas is None and spec.env is None and spec.ports is None


def test_publish_mode_is_the_default_mode_of_each_port() -> None:
    spec = service_spec(
        {"name": "web", "ports": [80, {"target": 81, "mode": "ingress"}], "publish_mode": "host"}
    )
    assert spec.ports == (Port(80, mode="host"), Port(81, mode="ingress"))


def test_negative_replicas_are_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        service_spec({"name": "web", "replicas": -1})


def test_mounts_read_community_dockers_names_in_the_swarm_block_or_at_the_top() -> None:
    wanted = (Mount("/etc/x", "/srv/x", readonly=True), Mount("/scratch", type="tmpfs"))
    raw = [
        {"source": "/srv/x", "target": "/etc/x", "readonly": True},
        {"target": "/scratch", "type": "tmpfs"},
    ]
    assert service_spec({"name": "w", "mounts": raw}).swarm.mounts == wanted
    assert service_spec({"name": "w", "swarm": {"mounts": raw}}).swarm.mounts == wanted


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"source": "/a"}, "'target' must be an absolute path"),
        ({"source": "relative", "target": "/b"}, "a bind mount's 'source' is an absolute path"),
        ({"target": "/b", "type": "volume"}, "a volume mount needs 'source'"),
        ({"source": "/a", "target": "/b", "mode": "ro"}, "unknown key(s) mode"),
        ({"source": "/a", "target": "/b", "readonly": "yes"}, "'readonly' is true or false"),
        ("/a:/b", "each mount is a mapping"),
    ],
)
def test_a_bad_mount_names_what_to_write(bad: object, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        service_spec({"name": "w", "mounts": [bad]})
