"""The Docker SDK's APIClient, tunnelled over fleetkit's own SSH connection to a host.

Measured on the lab (bench/bench_swarm.py; Nagle off on the SSH socket, see
connection/ssh.py): a direct-streamlocal channel to /var/run/docker.sock plus the
version-negotiating /_ping costs ~3 ms per engine on the run's open connection
(~50 ms for the first one of a process); `docker system dial-stdio` on an exec
channel ~19 ms (it spawns the CLI on the host); the SDK's own
`DockerClient(base_url="ssh://...")` ~170 ms, because it opens a second SSH
connection per engine. Request latency is ~1 ms for all three.

Beyond speed, the SDK's ssh:// reads only a few ~/.ssh/config options, checks
host keys against ~/.ssh/known_hosts with RejectPolicy (the lab writes its own
known_hosts and never touches ~/.ssh) and ignores the inventory's user, key and
bastion; its shell-out mode needs them in ~/.ssh of the passwd home. The tunnel
reuses the connection the run already holds, with all of those.

So: the connection's unix-socket stream (SSH: direct-streamlocal, what `ssh -L
/local:/var/run/docker.sock` uses; no process on the host), and dial-stdio on a
command stream when that is refused (sshd may forbid stream-local forwarding).
The API version is negotiated from /_ping's Api-Version header and clamped to
[1.41, 1.45]: 1.41 is Docker 20.10's (Debian's engine in the lab, while the
machine's CLI is 28), the oldest with the `status=true` service counts used here.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any, Literal

from fleetkit.connection.base import CommandResult, Connection, Stream
from fleetkit.errors import StreamRefused
from fleetkit.orchestrators.base import Secret
from fleetkit.orchestrators.engine import (
    EngineConflict,
    EngineError,
    EngineUnreachable,
    Json,
)
from fleetkit.orchestrators.swarm_settle import Settle, is_settling

DOCKER_SOCKET = "/var/run/docker.sock"
API_MIN = "1.41"
API_MAX = "1.45"
REQUEST_TIMEOUT_S = 60.0
PING_TIMEOUT_S = 5.0
CHANNEL_TIMEOUT_S = 10.0
BASE_URL = "http+docker://fleetkit"

Tunnel = Literal["auto", "streamlocal", "dial-stdio"]
Opener = Callable[[], Any]
Runner = Callable[[str], CommandResult]


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split(".") if p.isdigit())


def choose_api_version(server: str | None) -> str:
    """The API version to speak: the server's, clamped to [API_MIN, API_MAX]."""
    if not server:
        return API_MIN
    if _version_tuple(server) < _version_tuple(API_MIN):
        raise EngineError(
            f"the Docker engine speaks API {server}; fleetkit's Swarm driver needs"
            f" {API_MIN} (Docker 20.10) or newer"
        )
    return server if _version_tuple(server) <= _version_tuple(API_MAX) else API_MAX


# --- tunnels ------------------------------------------------------------------------------


def dial_stdio_command(socket_path: str) -> str:
    """The command whose stdio is the engine's socket (docker CLI on the host)."""
    host = "" if socket_path == DOCKER_SOCKET else f"DOCKER_HOST=unix://{shlex.quote(socket_path)} "
    return f"{host}exec docker system dial-stdio"


def _refused_as_oserror(open_stream: Callable[[], Stream]) -> Opener:
    """open_stream, with a refused stream as an OSError: the SDK's requests report it as
    the engine not answering, while a lost host stays a ConnectionError."""

    def opener() -> Stream:
        try:
            return open_stream()
        except StreamRefused as err:
            raise ConnectionRefusedError(err.message) from None

    return opener


def tunnel_opener(
    conn: Connection, socket_path: str, tunnel: Tunnel
) -> tuple[Opener, str, str | None]:
    """An opener for new API connections, the tunnel kind it uses (auto tries both) and,
    when auto fell back to dial-stdio, why the socket stream was refused.

    Raises fleetkit.errors.ConnectionError when the host is lost, EngineUnreachable
    when the socket refused and no fallback is allowed.
    """
    dial = _refused_as_oserror(
        lambda: conn.open_command_stream(dial_stdio_command(socket_path), timeout=CHANNEL_TIMEOUT_S)
    )
    if tunnel == "dial-stdio":
        return dial, "dial-stdio", None
    try:
        first = conn.open_unix_stream(socket_path, timeout=CHANNEL_TIMEOUT_S)
    except StreamRefused as err:
        if tunnel == "streamlocal":
            raise EngineUnreachable(err.message) from None
        return dial, "dial-stdio", err.message
    spare = [first]
    stream = _refused_as_oserror(
        lambda: conn.open_unix_stream(socket_path, timeout=CHANNEL_TIMEOUT_S)
    )

    def opener() -> Stream:
        return spare.pop() if spare else stream()

    return opener, "streamlocal", None


def _adapter(opener: Opener, timeout: float) -> Any:
    """A requests adapter whose HTTP connections are channels from opener."""
    import urllib3
    from docker.transport.basehttpadapter import BaseHTTPAdapter

    class ChannelConnection(urllib3.connection.HTTPConnection):
        def connect(self) -> None:
            sock = opener()
            sock.settimeout(timeout)
            self.sock = sock

    class ChannelPool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = ChannelConnection

    class TunnelAdapter(BaseHTTPAdapter):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self._pool = ChannelPool("localhost", timeout=timeout, maxsize=4)

        def get_connection(self, url: Any, proxies: Any = None) -> Any:
            return self._pool

        def close(self) -> None:
            super().close()
            self._pool.close()

    return TunnelAdapter()


# --- the engine ---------------------------------------------------------------------------


class DockerEngine:
    """One host's engine through the SDK's APIClient; counts calls, maps errors."""

    def __init__(
        self,
        host: str,
        api: Any,
        *,
        runner: Runner | None = None,
        tunnel: str = "",
        settle: Settle | None = None,
    ) -> None:
        self.host = host
        self.api = api
        self.calls = 1  # the /_ping that negotiated the version
        self.tunnel = tunnel
        self._runner = runner
        self._settle = settle or Settle()

    # plumbing ----------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One API call; a read the swarm cannot answer yet is retried (swarm_settle)."""
        settle = self._settle
        start = settle.clock()
        while True:
            try:
                return self._call_once(what, fn, *args, **kwargs)
            except EngineError as err:
                if type(err) is not EngineError or not is_settling(what, err.message):
                    raise
                if settle.retry(start, f"{self.host}  the swarm is settling ({err.message})"):
                    continue
                if settle.timeout_s > 0:
                    raise EngineError(
                        f"{err.message} (the swarm did not settle in"
                        f" {settle.timeout_s:g}s: swarm_settle_timeout)"
                    ) from None
                raise

    def _call_once(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import docker.errors
        import requests

        self.calls += 1
        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound:
            raise
        except docker.errors.APIError as err:
            explanation = str(err.explanation or err)
            if err.status_code == 500 and "update out of sequence" in explanation:
                raise EngineConflict(f"{self.host}: {what}: {explanation}") from None
            raise EngineError(f"{self.host}: {what}: {explanation}") from None
        except (requests.exceptions.ConnectionError, OSError) as err:
            raise EngineUnreachable(
                f"{self.host}: the Docker engine does not answer ({what}): {_reason(err)}"
            ) from None
        except requests.exceptions.Timeout:
            raise EngineUnreachable(f"{self.host}: the Docker engine timed out ({what})") from None

    def close(self) -> None:
        self.api.close()

    # swarm -------------------------------------------------------------------------------

    def info(self) -> Json:
        return dict(self._call("info", self.api.info))

    def swarm_inspect(self) -> Json:
        return dict(self._call("swarm inspect", self.api.inspect_swarm))

    def swarm_init(self, *, advertise_addr: str, listen_addr: str) -> str:
        return str(
            self._call(
                "swarm init",
                self.api.init_swarm,
                advertise_addr=advertise_addr,
                listen_addr=listen_addr,
            )
        )

    def swarm_join(
        self, *, remote_addrs: list[str], token: Secret, advertise_addr: str, listen_addr: str
    ) -> None:
        # The token goes in the JSON body of POST /swarm/join over the tunnel: never argv.
        self._call(
            "swarm join",
            self.api.join_swarm,
            remote_addrs=remote_addrs,
            join_token=token.reveal(),
            listen_addr=listen_addr,
            advertise_addr=advertise_addr,
        )

    def swarm_leave(self, *, force: bool = False) -> None:
        self._call("swarm leave", self.api.leave_swarm, force=force)

    def nodes(self) -> list[Json]:
        return list(self._call("node ls", self.api.nodes))

    def node(self, node_id: str) -> Json:
        return dict(self._call("node inspect", self.api.inspect_node, node_id))

    def node_update(self, node_id: str, version: int, spec: Json) -> None:
        self._call("node update", self.api.update_node, node_id, version, spec)

    def node_remove(self, node_id: str, *, force: bool = False) -> None:
        self._call("node rm", self.api.remove_node, node_id, force=force)

    # services ----------------------------------------------------------------------------

    def services(self, *, service_id: str | None = None) -> list[Json]:
        filters = {"id": [service_id]} if service_id else None
        return list(self._call("service ls", self.api.services, filters=filters, status=True))

    def service(self, name: str) -> Json | None:
        import docker.errors

        try:
            return dict(self._call("service inspect", self.api.inspect_service, name))
        except docker.errors.NotFound:
            return None

    def service_create(self, spec: Json) -> str:
        result = self._call(
            "service create",
            self.api.create_service,
            spec["TaskTemplate"],
            name=spec["Name"],
            labels=spec.get("Labels"),
            mode=spec.get("Mode"),
            update_config=spec.get("UpdateConfig"),
            endpoint_spec=spec.get("EndpointSpec"),
            rollback_config=spec.get("RollbackConfig"),
        )
        return str(result.get("ID", ""))

    def service_update(self, service_id: str, version: int, spec: Json) -> list[str]:
        result = self._call(
            "service update",
            self.api.update_service,
            service_id,
            version,
            task_template=spec["TaskTemplate"],
            name=spec["Name"],
            labels=spec.get("Labels") or {},
            mode=spec.get("Mode"),
            update_config=spec.get("UpdateConfig"),
            endpoint_spec=spec.get("EndpointSpec") or {},
            rollback_config=spec.get("RollbackConfig"),
        )
        return [str(w) for w in (result or {}).get("Warnings") or []]

    def service_rollback(self, name: str) -> None:
        # The SDK has no `rollback=previous` on service update: the docker CLI on the
        # manager asks the engine for its own rollback (UpdateStatus rollback_*).
        if self._runner is None:
            raise EngineError(f"{self.host}: rollback needs a shell on the manager")
        self.calls += 1
        res = self._runner(f"docker service rollback --detach --quiet {shlex.quote(name)}")
        if not res.ok:
            why = res.stderr.strip() or res.stdout.strip() or f"rc={res.rc}"
            raise EngineError(f"{self.host}: docker service rollback {name}: {why}")

    def service_remove(self, service_id: str) -> None:
        self._call("service rm", self.api.remove_service, service_id)

    def tasks(self, *, service_id: str | None = None, node_id: str | None = None) -> list[Json]:
        filters: dict[str, list[str]] = {}
        if service_id:
            filters["service"] = [service_id]
        if node_id:
            filters["node"] = [node_id]
        return list(self._call("task ls", self.api.tasks, filters=filters))


def _reason(err: BaseException) -> str:
    text = str(err)
    return text[:200] if text else type(err).__name__


def connect_api(
    opener: Opener, *, api_version: str | None, timeout: float, ping_timeout: float = PING_TIMEOUT_S
) -> Any:
    """An APIClient on a tunnel: /_ping negotiates the version (or checks the pinned one).

    The ping has a short timeout of its own: a frozen or hung dockerd still accepts
    connections on its socket, and failover should not wait a full request timeout.
    """
    import docker
    import requests

    adapter = _adapter(opener, timeout)
    session = requests.Session()
    session.mount(BASE_URL, adapter)
    try:
        resp = session.get(f"{BASE_URL}/_ping", timeout=min(timeout, ping_timeout))
    except (requests.exceptions.RequestException, OSError) as err:
        adapter.close()
        raise EngineUnreachable(f"the Docker engine does not answer: {_reason(err)}") from None
    if resp.status_code != 200:
        adapter.close()
        raise EngineUnreachable(f"the Docker engine answered /_ping with {resp.status_code}")
    version = api_version or choose_api_version(resp.headers.get("Api-Version"))
    api = docker.APIClient(base_url="tcp://127.0.0.1:9", version=version, timeout=timeout)
    api.mount(BASE_URL, adapter)
    api.base_url = BASE_URL
    api._custom_adapter = adapter  # the SDK reads it for attach/logs sockets
    return api


def engine_for(
    conn: Connection,
    *,
    host: str,
    runner: Runner | None = None,
    socket_path: str = DOCKER_SOCKET,
    tunnel: Tunnel = "auto",
    api_version: str | None = None,
    timeout: float = REQUEST_TIMEOUT_S,
    settle: Settle | None = None,
) -> DockerEngine:
    """A DockerEngine for host over its open connection (a stream to the engine's socket).

    Raises fleetkit.errors.ConnectionError when the host is unreachable and
    EngineUnreachable when the host answers but its engine does not.
    """
    conn.open()
    opener, kind, refused = tunnel_opener(conn, socket_path, tunnel)
    try:
        api = connect_api(opener, api_version=api_version, timeout=timeout)
    except EngineError as err:
        also = f" (and the socket stream: {refused})" if refused else ""
        raise type(err)(f"{host}: {err.message}{also}") from None
    return DockerEngine(host, api, runner=runner or conn.run, tunnel=kind, settle=settle)
