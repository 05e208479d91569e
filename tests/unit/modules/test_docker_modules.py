"""docker_image / docker_container / docker_network: idempotent over a narrow engine API.

The modules talk to a DockerApi; here an in-memory engine stands in for the
host's dockerd (the lab test runs them against the real one).
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetkit.modules.args import prepare
from fleetkit.modules.base import Module, ModuleContext, ModuleResult
from fleetkit.modules.docker_common import ContainerSpec, DockerModule
from fleetkit.modules.docker_container import DockerContainer
from fleetkit.modules.docker_image import DockerImage, full_name
from fleetkit.modules.docker_network import DockerNetwork
from fleetkit.modules.registry import lookup
from fleetkit.orchestrators.engine import EngineError
from fleetkit.playbook.render import Renderer
from fleetkit.testing.fake_connection import FakeConnection

pytestmark = pytest.mark.unit

IMAGE = "198.18.0.1:5000/fleetkit/web:v1"


class MemoryEngine:
    """A dockerd in memory: images in a registry can be pulled; calls are recorded."""

    def __init__(self, registry: tuple[str, ...] = (IMAGE,)) -> None:
        self.registry = registry
        self.images: dict[str, dict[str, Any]] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.networks: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.closed = 0

    def image(self, name: str) -> dict[str, Any] | None:
        return self.images.get(name)

    def pull(self, name: str) -> None:
        self.calls.append(f"pull {name}")
        if name not in self.registry:
            raise EngineError(f"h1: image pull {name}: not found")
        self.images[name] = {"Id": f"sha256:{len(name)}", "RepoTags": [name]}

    def remove_image(self, name: str, *, force: bool) -> None:
        self.calls.append(f"rmi {name}")
        del self.images[name]

    def container(self, name: str) -> dict[str, Any] | None:
        return self.containers.get(name)

    def create_container(self, spec: ContainerSpec) -> str:
        self.calls.append(f"create {spec.name}")
        self.containers[spec.name] = {
            "Id": spec.name + "-id",
            "Image": self.images[spec.image]["Id"],
            "Config": {
                "Cmd": list(spec.command or ["httpd"]),
                "Env": [f"{k}={v}" for k, v in spec.env.items()] + ["PATH=/bin"],
                "Labels": dict(spec.labels),
            },
            "HostConfig": {
                "PortBindings": {p: [{"HostIp": "", "HostPort": h}] for p, h in spec.ports.items()},
                "RestartPolicy": {"Name": spec.restart_policy or "no"},
                "NetworkMode": spec.network_mode or "bridge",
            },
            "State": {"Running": False},
        }
        return spec.name + "-id"

    def start(self, name: str) -> None:
        self.calls.append(f"start {name}")
        self.containers[name]["State"]["Running"] = True

    def stop(self, name: str, *, timeout: int) -> None:
        self.calls.append(f"stop {name}")
        self.containers[name]["State"]["Running"] = False

    def remove_container(self, name: str) -> None:
        self.calls.append(f"rm {name}")
        del self.containers[name]

    def network(self, name: str) -> dict[str, Any] | None:
        return self.networks.get(name)

    def create_network(self, name: str, *, driver: str, internal: bool) -> str:
        self.calls.append(f"network create {name}")
        self.networks[name] = {"Name": name, "Id": name + "-id", "Driver": driver,
                               "Internal": internal}  # fmt: skip
        return name + "-id"

    def remove_network(self, name: str) -> None:
        self.calls.append(f"network rm {name}")
        del self.networks[name]

    def close(self) -> None:
        self.closed += 1


def run(module: DockerModule, *, check: bool = False, **args: Any) -> ModuleResult:
    prepared, errors = prepare(module, args)
    assert not errors, errors
    ctx = ModuleContext(
        host="h1",
        conn=FakeConnection("h1"),
        args=prepared,
        variables={},
        templar=Renderer(()),
        check=check,
        sleep=lambda s: None,
    )
    return module.run(ctx)


def image_mod(engine: MemoryEngine) -> DockerImage:
    return DockerImage(lambda ctx: engine)


def container_mod(engine: MemoryEngine) -> DockerContainer:
    return DockerContainer(lambda ctx: engine)


def test_community_docker_names_resolve() -> None:
    for name in ("container", "image", "network"):
        mod = lookup(f"community.docker.docker_{name}")
        assert mod is not None and mod.name == f"docker_{name}"
    swarm = lookup("community.docker.docker_swarm")
    assert swarm is not None and swarm.name == "swarm_init"


def test_image_name_and_tag_combine_like_upstream() -> None:
    assert full_name("198.18.0.1:5000/fleetkit/web", "v1") == IMAGE
    assert full_name(IMAGE, "latest") == IMAGE
    assert full_name("busybox", None) == "busybox:latest"


def test_image_is_pulled_once_then_ok_then_removed() -> None:
    engine = MemoryEngine()
    assert run(image_mod(engine), check=True, name=IMAGE).changed
    assert engine.calls == []
    first = run(image_mod(engine), name=IMAGE)
    assert first.changed and first.data["image"]["Id"]
    again = run(image_mod(engine), name=IMAGE)
    assert not again.changed and engine.calls == [f"pull {IMAGE}"]
    gone = run(image_mod(engine), name=IMAGE, state="absent")
    assert gone.changed and not run(image_mod(engine), name=IMAGE, state="absent").changed
    assert engine.closed == 5


def test_a_pull_the_engine_refuses_is_a_failed_result() -> None:
    engine = MemoryEngine(registry=())
    res = run(image_mod(engine), name="nowhere/x:1")
    assert res.failed and "not found" in res.msg


def test_container_is_created_started_and_then_left_alone() -> None:
    engine = MemoryEngine()
    args = {"name": "web", "image": IMAGE, "published_ports": ["8080:80"], "env": {"A": "1"}}
    predicted = run(container_mod(engine), check=True, **args)
    assert predicted.changed and engine.calls == [] and "would be" in predicted.msg
    res = run(container_mod(engine), **args)
    assert res.changed and engine.calls == [f"pull {IMAGE}", "create web", "start web"]
    assert res.data["container"]["State"]["Running"]
    again = run(container_mod(engine), **args)
    assert not again.changed and len(engine.calls) == 3


def test_a_changed_env_recreates_the_container() -> None:
    engine = MemoryEngine()
    run(container_mod(engine), name="web", image=IMAGE, env={"A": "1"})
    res = run(container_mod(engine), name="web", image=IMAGE, env={"A": "2"})
    assert res.changed and "recreated (env)" in res.msg
    assert engine.calls[-3:] == ["rm web", "create web", "start web"]


def test_stopped_and_absent_states() -> None:
    engine = MemoryEngine()
    run(container_mod(engine), name="web", image=IMAGE)
    assert run(container_mod(engine), name="web", state="stopped").changed
    assert not run(container_mod(engine), name="web", state="stopped").changed
    assert run(container_mod(engine), name="web", state="absent").changed
    assert not run(container_mod(engine), name="web", state="absent").changed


def test_network_present_absent_and_a_driver_clash_needs_force() -> None:
    engine = MemoryEngine()
    mod = DockerNetwork(lambda ctx: engine)
    assert run(mod, name="n1").changed
    assert not run(mod, name="n1").changed
    clash = run(mod, name="n1", driver="macvlan")
    assert clash.failed and "force" in clash.msg
    assert run(mod, name="n1", state="absent").changed
    assert not run(mod, name="n1", state="absent").changed


def test_container_bad_args_are_refused_before_any_host() -> None:
    mod: Module | None = lookup("docker_container")
    assert mod is not None
    _, errors = prepare(mod, {"name": "web"})
    assert errors == ["module docker_container: state=started needs image"]
    _, errors = prepare(mod, {"name": "web", "image": IMAGE, "published_ports": ["80"]})
    assert errors and "HOST:CONTAINER" in errors[0]
