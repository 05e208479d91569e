"""The orchestrator interface shared by the Swarm and Kubernetes drivers.

Values are frozen and typed: a ServiceSpec says what the user asked for (a field
left None was not named, so an update keeps the service's current value), the
status types say what the cluster reports, and a Change says what one operation
did. Drivers implement `Orchestrator`; playbook modules and the CLI use only it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from fleetkit.errors import TemplateError
from fleetkit.orchestrators.convergence import ProgressCallback, WaitPolicy, WaitReport

PublishMode = Literal["ingress", "host"]
EndpointMode = Literal["vip", "dnsrr"]
FailureAction = Literal["pause", "continue", "rollback"]
UpdateOrder = Literal["stop-first", "start-first"]
Availability = Literal["active", "pause", "drain"]
Role = Literal["manager", "worker"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


_KEPT_WHOLE: ContextVar[list[bool] | None] = ContextVar("fleetkit_secrets_kept_whole", default=None)


class SecretAsText(TemplateError):
    """A Secret was turned into text inside a template (interpolated or filtered)."""


@contextmanager
def secrets_kept_whole() -> Iterator[list[bool]]:
    """A block (a template render) in which turning a Secret into text is an error:
    the mask would otherwise become the value (a join token of '********'). The list
    it yields is non-empty once that happened (even if the renderer rewrapped the error)."""
    tripped: list[bool] = []
    token = _KEPT_WHOLE.set(tripped)
    try:
        yield tripped
    finally:
        _KEPT_WHOLE.reset(token)


class Secret:
    """A value that must never be shown: str(), repr() and JSON give '********'.

    Join tokens travel between tasks as Secrets; only `reveal()` gives the value,
    and only the code that hands it to an engine API calls it. Templates may pass
    a Secret whole (`token: "{{ join.token }}"`), never read it: `reveal` is unsafe
    for Jinja's sandbox, and str() inside a render raises SecretAsText.
    """

    __slots__ = ("_value",)
    MASK = "********"

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    reveal.unsafe_callable = True  # type: ignore[attr-defined]  # jinja2.sandbox.unsafe

    def __str__(self) -> str:
        tripped = _KEPT_WHOLE.get()
        if tripped is not None:
            tripped.append(True)
            raise SecretAsText("a secret cannot be turned into text in a template")
        return self.MASK

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Secret({self.MASK})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Port:
    """A published port: the container's target port, and where it is published.

    mode "ingress": through the cluster's load balancing (Swarm's routing mesh; a
    Kubernetes Service, NodePort when `published` is set); "host": on the node that
    runs the task (Swarm host mode; a Kubernetes hostPort).
    """

    target: int
    published: int | None = None
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    mode: PublishMode = "ingress"


@dataclass(frozen=True)
class Resources:
    """CPU (in cores) and memory (in bytes) limits and reservations."""

    cpu_limit: float | None = None
    memory_limit: int | None = None
    cpu_reservation: float | None = None
    memory_reservation: int | None = None


@dataclass(frozen=True)
class HealthCheck:
    """A container health check; durations in seconds."""

    test: tuple[str, ...]
    interval_s: float | None = None
    timeout_s: float | None = None
    retries: int | None = None
    start_period_s: float | None = None


@dataclass(frozen=True)
class UpdatePolicy:
    """How an update (or a rollback) replaces tasks; None keeps the current value."""

    parallelism: int | None = None
    delay_s: float | None = None
    monitor_s: float | None = None
    failure_action: FailureAction | None = None
    order: UpdateOrder | None = None
    max_failure_ratio: float | None = None


@dataclass(frozen=True)
class RestartPolicy:
    """When a failed task restarts; durations in seconds."""

    condition: Literal["none", "on-failure", "any"] | None = None
    delay_s: float | None = None
    max_attempts: int | None = None
    window_s: float | None = None


MountType = Literal["bind", "volume", "tmpfs"]


@dataclass(frozen=True)
class Mount:
    """A path of the node (bind), a named volume or a tmpfs, at target in each task."""

    target: str
    source: str = ""
    type: MountType = "bind"
    readonly: bool = False


@dataclass(frozen=True)
class SwarmOptions:
    """What only Docker Swarm has; the Kubernetes driver ignores this block."""

    endpoint_mode: EndpointMode | None = None
    constraints: tuple[str, ...] | None = None  # Swarm syntax: node.role==worker
    max_replicas_per_node: int | None = None
    restart_policy: RestartPolicy | None = None
    container_labels: Mapping[str, str] | None = None
    mounts: tuple[Mount, ...] | None = None


ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer", "None"]


@dataclass(frozen=True)
class K8sOptions:
    """What only Kubernetes has; the Swarm driver ignores this block."""

    namespace: str | None = None
    service_type: ServiceType | None = None
    node_selector: Mapping[str, str] | None = None
    progress_deadline_s: int | None = None
    revision_history_limit: int | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    max_surge: int | str | None = None
    max_unavailable: int | str | None = None


@dataclass(frozen=True)
class ServiceSpec:
    """What the user wants of a replicated service. None = not named: keep the current value.

    The core fields mean the same on every driver (docs/contracts.md maps each to
    Swarm and to a Kubernetes Deployment + Service); `swarm` and `k8s` carry what
    only one engine has, and each driver reads only its own block.
    """

    name: str
    image: str | None = None
    replicas: int | None = None
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: Mapping[str, str] | None = None
    labels: Mapping[str, str] | None = None
    ports: tuple[Port, ...] | None = None
    resources: Resources | None = None
    healthcheck: HealthCheck | None = None
    stop_grace_period_s: float | None = None
    update_config: UpdatePolicy | None = None
    rollback_config: UpdatePolicy | None = None
    force_update: bool = False
    swarm: SwarmOptions = field(default_factory=SwarmOptions)
    k8s: K8sOptions = field(default_factory=K8sOptions)


@dataclass(frozen=True)
class Endpoint:
    """Where one running task answers: its node's address and host-mode published port."""

    node: str
    address: str
    port: int
    protocol: str = "tcp"


@dataclass(frozen=True)
class ServiceStatus:
    """A service as the cluster reports it."""

    name: str
    image: str
    desired: int
    running: int
    mode: str = "replicated"
    update_state: str | None = None
    update_message: str = ""
    per_node: Mapping[str, int] = field(default_factory=lambda: _EMPTY_COUNTS)
    endpoints: tuple[Endpoint, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        return self.running == self.desired


_EMPTY_COUNTS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True)
class NodeStatus:
    """One cluster node: role, state (ready/down...), availability, manager health."""

    id: str
    hostname: str
    role: Role
    state: str
    availability: str
    address: str = ""
    leader: bool = False
    reachability: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    engine_version: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "ready"


@dataclass(frozen=True)
class ClusterStatus:
    """The whole cluster as one manager sees it, plus warnings worth a human's eye."""

    source: str
    nodes: tuple[NodeStatus, ...]
    services: tuple[ServiceStatus, ...]
    warnings: tuple[str, ...] = ()

    @property
    def managers(self) -> tuple[NodeStatus, ...]:
        return tuple(n for n in self.nodes if n.role == "manager")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for --json and registered results)."""
        return {
            "source": self.source,
            "nodes": [
                {
                    "id": n.id,
                    "hostname": n.hostname,
                    "role": n.role,
                    "state": n.state,
                    "availability": n.availability,
                    "address": n.address,
                    "leader": n.leader,
                    "reachability": n.reachability,
                    "labels": dict(n.labels),
                    "engine_version": n.engine_version,
                }
                for n in self.nodes
            ],
            "services": [service_dict(s) for s in self.services],
            "warnings": list(self.warnings),
        }


def service_dict(s: ServiceStatus) -> dict[str, Any]:
    """A ServiceStatus as a JSON-ready mapping."""
    return {
        "name": s.name,
        "image": s.image,
        "mode": s.mode,
        "desired": s.desired,
        "running": s.running,
        "update_state": s.update_state,
        "update_message": s.update_message,
        "per_node": dict(s.per_node),
        "endpoints": [
            {"node": e.node, "address": e.address, "port": e.port, "protocol": e.protocol}
            for e in s.endpoints
        ],
        "errors": list(s.errors),
    }


@dataclass(frozen=True)
class Change:
    """What one operation did: changed honestly, failed with a reason, what it waited for."""

    changed: bool
    message: str
    failed: bool = False
    fields: tuple[str, ...] = ()
    status: ServiceStatus | None = None
    wait: WaitReport | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class WaitOptions:
    """Whether and how an operation waits for convergence."""

    wait: bool = True
    policy: WaitPolicy = field(default_factory=WaitPolicy)
    progress: ProgressCallback | None = None
    sleep: Callable[[float], None] = time.sleep


class Orchestrator(Protocol):
    """deploy, scale, update, rollback, status, drain: one interface, Swarm or Kubernetes.

    Every operation is idempotent and reports `changed` honestly; `check=True`
    predicts the change without making it. A convergence failure (tasks failing,
    a rollback by the engine, a timeout) is a Change with failed=True, not an
    exception; refusals and engine errors raise OrchestratorError.
    """

    def deploy(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        """Create the service, or update the fields spec names (the rest is kept)."""
        ...

    def update(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        """Like deploy, but the service must already exist."""
        ...

    def scale(self, name: str, replicas: int, wait: WaitOptions, *, check: bool = False) -> Change:
        """Set the replica count (0 allowed) and wait until that many tasks run."""
        ...

    def rollback(self, name: str, wait: WaitOptions, *, check: bool = False) -> Change:
        """Return the service to its previous spec and wait for it."""
        ...

    def remove(self, name: str, *, check: bool = False) -> Change:
        """Remove the service (ok when it does not exist)."""
        ...

    def drain(self, node: str, wait: WaitOptions, *, check: bool = False) -> Change:
        """Stop scheduling on node and wait until its tasks run elsewhere."""
        ...

    def status(self) -> ClusterStatus:
        """Nodes and services as the cluster reports them."""
        ...

    def close(self) -> None:
        """Release what the driver holds (API connections; never the host's SSH connection)."""
        ...
