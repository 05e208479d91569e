"""What docker_image/docker_container/docker_network share: a narrow engine API, a base.

A narrow protocol of our own (absent objects are None, not exceptions) with one
implementation over the Docker SDK's APIClient that the swarm modules' engine
carries (`swarm_common.ssh_engine`: the API tunnelled over the host's SSH
connection), so the modules are tested against an in-memory stand-in and run
against the host's dockerd unchanged.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fleetkit.errors import OrchestratorError
from fleetkit.modules.base import Module, ModuleContext, ModuleResult, fail
from fleetkit.orchestrators.engine import EngineError

Json = dict[str, Any]


@dataclass(frozen=True)
class ContainerSpec:
    """What docker_container wants a container to be."""

    name: str
    image: str
    command: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, str] = field(default_factory=dict)  # "80/tcp" -> "8080" (host port)
    labels: Mapping[str, str] = field(default_factory=dict)
    restart_policy: str = ""
    network_mode: str = ""


class DockerApi(Protocol):
    """One host's Docker engine, as the docker_* modules use it."""

    def image(self, name: str) -> Json | None: ...

    def pull(self, name: str) -> None: ...

    def remove_image(self, name: str, *, force: bool) -> None: ...

    def container(self, name: str) -> Json | None: ...

    def create_container(self, spec: ContainerSpec) -> str: ...

    def start(self, name: str) -> None: ...

    def stop(self, name: str, *, timeout: int) -> None: ...

    def remove_container(self, name: str) -> None: ...

    def network(self, name: str) -> Json | None: ...

    def create_network(self, name: str, *, driver: str, internal: bool) -> str: ...

    def remove_network(self, name: str) -> None: ...

    def close(self) -> None: ...


ApiFactory = Callable[[ModuleContext], DockerApi]


class SdkDocker:
    """DockerApi over a docker.APIClient (not-found answers become None)."""

    def __init__(self, host: str, api: Any, closer: Callable[[], None]) -> None:
        self.host = host
        self.api = api
        self._close = closer

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        import docker.errors

        try:
            return fn(*args, **kw)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as err:
            raise EngineError(f"{self.host}: {what}: {err.explanation or err}") from None

    def image(self, name: str) -> Json | None:
        return self._call("image inspect", self.api.inspect_image, name)  # type: ignore[no-any-return]

    def pull(self, name: str) -> None:
        repo, tag = split_tag(name)
        out = self._call("image pull", self.api.pull, repo, tag=tag, stream=False)
        if self.image(name) is None:
            raise EngineError(f"{self.host}: image pull {name}: {str(out)[-300:]}")

    def remove_image(self, name: str, *, force: bool) -> None:
        self._call("image remove", self.api.remove_image, name, force=force)

    def container(self, name: str) -> Json | None:
        return self._call("container inspect", self.api.inspect_container, name)  # type: ignore[no-any-return]

    def create_container(self, spec: ContainerSpec) -> str:
        bindings = {port: int(host) for port, host in spec.ports.items()}
        host_config = self.api.create_host_config(
            port_bindings=bindings or None,
            restart_policy={"Name": spec.restart_policy} if spec.restart_policy else None,
            network_mode=spec.network_mode or None,
        )
        out = self._call(
            "container create",
            self.api.create_container,
            spec.image,
            name=spec.name,
            command=list(spec.command) if spec.command is not None else None,
            environment=dict(spec.env),
            labels=dict(spec.labels),
            ports=list(spec.ports) or None,
            host_config=host_config,
        )
        if out is None:
            raise EngineError(f"{self.host}: container create {spec.name}: image {spec.image}?")
        return str(out["Id"])

    def start(self, name: str) -> None:
        self._call("container start", self.api.start, name)

    def stop(self, name: str, *, timeout: int) -> None:
        self._call("container stop", self.api.stop, name, timeout=timeout)

    def remove_container(self, name: str) -> None:
        self._call("container remove", self.api.remove_container, name, force=True)

    def network(self, name: str) -> Json | None:
        found = self._call("network ls", self.api.networks, names=[name]) or []
        exact = [n for n in found if n.get("Name") == name]
        if not exact:
            return None
        return self._call("network inspect", self.api.inspect_network, exact[0]["Id"])  # type: ignore[no-any-return]

    def create_network(self, name: str, *, driver: str, internal: bool) -> str:
        out = self._call(
            "network create", self.api.create_network, name, driver=driver, internal=internal
        )
        return str((out or {}).get("Id", ""))

    def remove_network(self, name: str) -> None:
        self._call("network remove", self.api.remove_network, name)

    def close(self) -> None:
        self._close()


def split_tag(name: str) -> tuple[str, str]:
    """'reg:5000/a/b:v1' -> ('reg:5000/a/b', 'v1'); no tag means 'latest'."""
    repo, sep, tag = name.rpartition(":")
    if sep and "/" not in tag:
        return repo, tag
    return name, "latest"


def ssh_docker(ctx: ModuleContext) -> DockerApi:
    """The host's engine over the task's connection (the swarm modules' way)."""
    from fleetkit.modules.swarm_common import ssh_engine

    engine = ssh_engine(ctx)
    api = getattr(engine, "api", None)
    if api is None:
        engine.close()
        raise EngineError(f"{ctx.host}: this engine has no Docker API client")
    return SdkDocker(ctx.host, api, engine.close)


class DockerModule(Module):
    """A module acting on the task host's Docker engine (factory injectable for tests)."""

    def __init__(self, apis: ApiFactory | None = None) -> None:
        self._apis = apis

    def run(self, ctx: ModuleContext) -> ModuleResult:
        try:
            api = (self._apis or ssh_docker)(ctx)
        except OrchestratorError as err:
            return fail(err.message)
        try:
            return self.act(ctx, api)
        except OrchestratorError as err:
            return fail(err.message)
        finally:
            api.close()

    @abstractmethod
    def act(self, ctx: ModuleContext, api: DockerApi) -> ModuleResult:
        """Do the module's work on the engine."""
