"""Make the right connection for each host of a run, sharing what can be shared.

One factory per run: it parses ~/.ssh/config once, shares the known_hosts files
(each parsed once; accept-new appends are serialised) and opens each ProxyJump bastion once,
tunnelling every host behind it over that one connection. Every SSH connection
keeps at most `max_output` bytes per stream of each command (FLEETKIT_MAX_OUTPUT,
default 32 MiB; the exporter's probe pool uses less).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fleetkit.connection.base import Connection
from fleetkit.connection.local import LocalConnection
from fleetkit.connection.spec import ConnectionSpec, parse_jump

if TYPE_CHECKING:
    from fleetkit.connection.hostkeys import KnownHostsFiles


class ConnectionFactory:
    """Callable host name -> Connection for one run."""

    _keeper: Any = None  # the run's KeeperSession, made on first use when persistence is on

    def __init__(
        self, specs: Mapping[str, ConnectionSpec], *, max_output: int | None = None
    ) -> None:
        from fleetkit.connection.outputcap import max_output_from_env

        self._specs = specs
        self.max_output = max_output if max_output is not None else max_output_from_env(os.environ)
        self._fabric_config: Any = None
        self._known: KnownHostsFiles | None = None
        self._known_lock = threading.Lock()
        self._gateways: dict[str, Any] = {}
        self._lock = threading.Lock()

    def spec(self, host: str) -> ConnectionSpec:
        return self._specs[host]

    @property
    def _known_hosts(self) -> KnownHostsFiles:
        """The run's known_hosts stores, made with the first SSH connection (paramiko is
        imported only then: a run whose hosts are all in the keeper never needs it)."""
        if self._known is None:
            from fleetkit.connection.hostkeys import KnownHostsFiles

            with self._known_lock:
                if self._known is None:
                    self._known = KnownHostsFiles()
        return self._known

    def _config(self) -> Any:
        if self._fabric_config is None:
            from fabric import Config

            self._fabric_config = Config()
        return self._fabric_config

    def _gateway(self, spec: ConnectionSpec) -> Any:
        if not spec.jump:
            return None
        gw = self._gateways.get(spec.jump)
        if gw is None:
            from fleetkit.connection.ssh import SSHConnection

            user, host, port = parse_jump(spec.jump)
            gw_spec = ConnectionSpec(
                name=f"{spec.name}(jump {spec.jump})",
                address=host,
                port=port,
                user=user,
                ssh_key=spec.ssh_key,
                known_hosts=spec.known_hosts,
                host_key_policy=spec.host_key_policy,
                connect_timeout=spec.connect_timeout,
            )
            gw = SSHConnection(
                gw_spec, fabric_config=self._config(), known_hosts=self._known_hosts
            ).fabric
            self._gateways[spec.jump] = _LockedGateway(gw)
            gw = self._gateways[spec.jump]
        return gw

    def __call__(self, host: str, *, direct: bool = False) -> Connection:
        spec = self._specs[host]
        if spec.local:
            return LocalConnection(host)
        if not direct and (kept := self._kept(host, spec)) is not None:
            return kept
        from fleetkit.connection.ssh import SSHConnection

        with self._lock:
            config = self._config()
            gateway = self._gateway(spec)
        return SSHConnection(
            spec,
            fabric_config=config,
            known_hosts=self._known_hosts,
            gateway=gateway,
            max_output=self.max_output,
        )

    def _kept(self, host: str, spec: ConnectionSpec) -> Connection | None:
        """With persistence on (FLEETKIT_PERSIST), the keeper's connection for host: it
        holds the SSHConnection this factory would make (direct=True: the fallback)."""
        from fleetkit.keeper.settings import persist_seconds

        persist = persist_seconds()
        if persist is None:
            return None
        from fleetkit.keeper.client import KeeperSession, KeptConnection

        with self._lock:
            if self._keeper is None:
                self._keeper = KeeperSession(persist)
        return KeptConnection(spec, self._keeper, lambda: self(host, direct=True))

    def close(self) -> None:
        for gw in self._gateways.values():
            gw.close()
        if self._keeper is not None:
            self._keeper.close()  # the run's socket to the keeper (its connections stay)


class _LockedGateway:
    """A Fabric gateway Connection whose open() is safe from many threads at once."""

    def __init__(self, fab: Any) -> None:
        self._fab = fab
        self._lock = threading.Lock()

    def open(self) -> None:
        with self._lock:
            self._fab.open()

    @property
    def transport(self) -> Any:
        return self._fab.transport

    def close(self) -> None:
        self._fab.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fab, name)
