"""What `lab up` and `lab status` return: frozen values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LabHost:
    """One lab host as last observed: identity, daemon pids and whether they live."""

    name: str
    address: str
    netns: str
    sshd_pid: int | None
    netns_alive: bool
    sshd_alive: bool
    dockerd_pid: int | None = None
    dockerd_alive: bool | None = None  # None: the lab runs no dockerd

    @property
    def alive(self) -> bool:
        """True when its namespaces exist and every daemon it should run is running."""
        return self.netns_alive and self.sshd_alive and self.dockerd_alive is not False

    def problems(self) -> tuple[str, ...]:
        """Human reasons why the host is not alive (empty when it is)."""
        out = []
        if not self.netns_alive:
            out.append("namespaces missing")
        if not self.sshd_alive:
            out.append("sshd not running")
        if self.dockerd_alive is False:
            out.append("dockerd not running")
        return tuple(out)


@dataclass(frozen=True)
class LabState:
    """The machine's lab: its hosts and the files a client needs to reach them."""

    hosts: tuple[LabHost, ...]
    inventory: Path | None
    key: Path
    known_hosts: Path
    docker: bool
    state_dir: Path
    created: float
    registry: str | None = None
    registry_alive: bool | None = None  # None: the lab runs no registry
    complete: bool = True  # False while being built or after a failed build

    @property
    def alive(self) -> bool:
        """True when the lab is complete and every host (and the registry) is alive."""
        return (
            self.complete
            and bool(self.hosts)
            and all(h.alive for h in self.hosts)
            and self.registry_alive is not False
        )

    def host(self, name: str) -> LabHost:
        """The host called `name` (KeyError if there is none)."""
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (paths as strings), as `fleetkit lab status --json` prints."""
        return {
            "alive": self.alive,
            "complete": self.complete,
            "docker": self.docker,
            "state_dir": str(self.state_dir),
            "inventory": str(self.inventory) if self.inventory else None,
            "key": str(self.key),
            "known_hosts": str(self.known_hosts),
            "created": self.created,
            "registry": self.registry,
            "registry_alive": self.registry_alive,
            "hosts": [
                {
                    "name": h.name,
                    "address": h.address,
                    "netns": h.netns,
                    "alive": h.alive,
                    "netns_alive": h.netns_alive,
                    "sshd_pid": h.sshd_pid,
                    "sshd_alive": h.sshd_alive,
                    "dockerd_pid": h.dockerd_pid,
                    "dockerd_alive": h.dockerd_alive,
                }
                for h in self.hosts
            ],
        }
