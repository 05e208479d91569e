"""open_orchestrator: the one place that picks a driver from a host's variables.

Modules and the CLI ask for an `Orchestrator` here and never see Docker or
Kubernetes types. A driver is a module with `open_driver(ctx) -> Orchestrator`,
named in DRIVERS and imported only when a host asks for it (so `fleetkit --help`
and Swarm-only runs never import the Kubernetes client, and the reverse).
A new driver is its own files plus one line here.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, cast

from fleetkit.connection.base import CommandResult, Connection
from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Orchestrator

if TYPE_CHECKING:
    from fleetkit.orchestrators.engine import Engine


@dataclass(frozen=True)
class Driver:
    """A driver's module (imported on use) and the groups whose hosts can describe its cluster."""

    module: str
    server_groups: tuple[str, ...]


DRIVERS: Mapping[str, Driver] = MappingProxyType(
    {
        "swarm": Driver("fleetkit.orchestrators.swarm_driver", ("managers", "swarm_managers")),
        "k8s": Driver("fleetkit.orchestrators.k8s_driver", ("k8s_servers",)),
    }
)
DEFAULT_DRIVER = "swarm"
ALIASES: Mapping[str, str] = MappingProxyType(
    {"docker": "swarm", "kubernetes": "k8s", "k3s": "k8s"}
)

Runner = Callable[[str], CommandResult]


@dataclass(frozen=True)
class DriverContext:
    """What a driver needs to reach its cluster through one host.

    `conn` is the host's open connection (streams to its sockets and loopback
    ports ride on it); `run` runs a shell command there with the task's become;
    `variables` are the host's merged variables (driver settings live there);
    `docker_engine`, when given, opens the host's Docker engine instead of the
    SSH tunnel (a run's injected factory: tests and bench pass a fake swarm's).
    """

    host: str
    conn: Connection
    run: Runner
    variables: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    become: bool = False
    docker_engine: EngineOpener | None = None


EngineOpener = Callable[[DriverContext], "Engine"]
"""Opens the Docker engine of a DriverContext's host (injected into a run by tests)."""


class DriverModule(Protocol):
    def open_driver(self, ctx: DriverContext) -> Orchestrator: ...


K8S_GROUPS = ("k8s_servers", "k8s_agents")


def driver_name(variables: Mapping[str, Any]) -> str:
    """The host's `orchestrator` variable, checked against DRIVERS.

    Unset, a host in k8s_servers/k8s_agents (and not in the Swarm `managers`
    group) means k8s; anything else swarm, as before Kubernetes existed.
    """
    raw = variables.get("orchestrator")
    if raw in (None, ""):
        groups = set(variables.get("group_names") or ())
        k8s = bool(groups & set(K8S_GROUPS)) and "managers" not in groups
        return "k8s" if k8s else DEFAULT_DRIVER
    name = str(raw).strip().lower()
    name = ALIASES.get(name, name)
    if name not in DRIVERS:
        close = next(iter(difflib.get_close_matches(name, list(DRIVERS), n=1, cutoff=0.5)), None)
        raise OrchestratorError(
            f"orchestrator {raw!r} is not known (known: {', '.join(DRIVERS)})",
            hint=f"did you mean {close!r}?"
            if close
            else "set the inventory variable orchestrator: swarm or orchestrator: k8s",
        )
    return name


def open_orchestrator(ctx: DriverContext, *, name: str | None = None) -> Orchestrator:
    """The driver for ctx's host (or the one named), connected through ctx.conn."""
    chosen = name or driver_name(ctx.variables)
    module = cast(DriverModule, importlib.import_module(DRIVERS[chosen].module))
    return module.open_driver(ctx)
