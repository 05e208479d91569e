"""Orchestrators behind one interface: Docker Swarm now, Kubernetes (k3s) later.

`base` holds the interface and its frozen values; `swarm` drives Docker Swarm
through an `Engine` (the Docker SDK tunnelled over SSH in `swarm_client`, or the
in-memory `fleetkit.testing.fake_swarm` for tests). Nothing here imports docker until an engine
is opened.
"""

from fleetkit.orchestrators.base import (
    Change,
    ClusterStatus,
    NodeStatus,
    Orchestrator,
    Port,
    Secret,
    ServiceSpec,
    ServiceStatus,
    WaitOptions,
)
from fleetkit.orchestrators.convergence import WaitPolicy, WaitReport

__all__ = [
    "Change",
    "ClusterStatus",
    "NodeStatus",
    "Orchestrator",
    "Port",
    "Secret",
    "ServiceSpec",
    "ServiceStatus",
    "WaitOptions",
    "WaitPolicy",
    "WaitReport",
]
