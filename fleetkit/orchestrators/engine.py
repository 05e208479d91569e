"""The few Docker Engine API calls the Swarm driver needs, as a narrow protocol.

Values are the Engine API's own JSON (dicts), so the driver's logic is tested
against an in-memory fake (fleetkit/testing/fake_swarm.py) and runs against the real SDK client
(swarm_client.py) unchanged. Every call counts in `calls`, so a convergence
wait can report how many API calls it cost.
"""

from __future__ import annotations

from typing import Any, Protocol

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Secret

Json = dict[str, Any]


class EngineError(OrchestratorError):
    """The Docker engine refused a request or could not be reached."""


class EngineUnreachable(EngineError):
    """The engine does not answer (dockerd stopped, socket missing, tunnel refused)."""


class EngineConflict(EngineError):
    """An update raced another one (the object's version moved): fetch and retry."""


class Engine(Protocol):
    """One Docker engine (one host); its swarm calls are answered only by managers."""

    host: str
    calls: int

    def info(self) -> Json: ...

    def swarm_inspect(self) -> Json: ...

    def swarm_init(self, *, advertise_addr: str, listen_addr: str) -> str: ...

    def swarm_join(
        self, *, remote_addrs: list[str], token: Secret, advertise_addr: str, listen_addr: str
    ) -> None: ...

    def swarm_leave(self, *, force: bool = False) -> None: ...

    def nodes(self) -> list[Json]: ...

    def node(self, node_id: str) -> Json: ...

    def node_update(self, node_id: str, version: int, spec: Json) -> None: ...

    def node_remove(self, node_id: str, *, force: bool = False) -> None: ...

    def services(self, *, service_id: str | None = None) -> list[Json]:
        """Services with their ServiceStatus counts (API 1.41 `status=true`)."""
        ...

    def service(self, name: str) -> Json | None: ...

    def service_create(self, spec: Json) -> str: ...

    def service_update(self, service_id: str, version: int, spec: Json) -> list[str]: ...

    def service_rollback(self, name: str) -> None: ...

    def service_remove(self, service_id: str) -> None: ...

    def tasks(self, *, service_id: str | None = None, node_id: str | None = None) -> list[Json]: ...

    def close(self) -> None: ...
