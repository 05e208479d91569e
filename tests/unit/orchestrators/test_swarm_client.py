"""DockerEngine through its tunnel adapter, against an HTTP server on a socketpair."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Secret
from fleetkit.orchestrators.engine import EngineConflict, EngineError, EngineUnreachable
from fleetkit.orchestrators.swarm_client import DockerEngine, choose_api_version, connect_api

from .conftest import DEADLINE, NO_LEADER, Clock

Route = Callable[[str, str, bytes], tuple[int, Any]]


class FakeDaemon:
    """Answers Engine API requests on socketpairs; records (method, path, body)."""

    def __init__(self, route: Route, api_version: str = "1.41") -> None:
        self.route = route
        self.api_version = api_version
        self.requests: list[tuple[str, str, bytes]] = []
        self.threads: list[threading.Thread] = []

    def opener(self) -> socket.socket:
        client, server = socket.socketpair()
        thread = threading.Thread(target=self._serve, args=(server,), daemon=True)
        thread.start()
        self.threads.append(thread)
        return client

    def _serve(self, sock: socket.socket) -> None:
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                daemon.requests.append((self.command, self.path, body))
                if self.path.endswith("/_ping"):
                    status, payload = 200, "OK"
                else:
                    status, payload = daemon.route(self.command, self.path, body)
                data = (
                    payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                )
                self.send_response(status)
                self.send_header("Api-Version", daemon.api_version)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

        try:
            Handler(sock, ("fake", 0), None)  # type: ignore[arg-type]
        except OSError:
            pass
        finally:
            sock.close()


def engine_on(daemon: FakeDaemon, api_version: str | None = None) -> DockerEngine:
    api = connect_api(daemon.opener, api_version=api_version, timeout=5.0)
    return DockerEngine("lab1", api)


@pytest.fixture
def ok_daemon() -> Iterator[FakeDaemon]:
    def route(method: str, path: str, body: bytes) -> tuple[int, Any]:
        if path.endswith("/info"):
            return 200, {"Swarm": {"LocalNodeState": "inactive"}}
        if path.endswith("/swarm/join"):
            return 200, ""
        if "/services/missing" in path:
            return 404, {"message": "service missing not found"}
        if "/update" in path:
            return 500, {"message": "rpc error: update out of sequence"}
        return 400, {"message": "bad request"}

    yield FakeDaemon(route)


@pytest.mark.parametrize(
    ("server", "spoken"), [(None, "1.41"), ("1.41", "1.41"), ("1.43", "1.43"), ("1.51", "1.45")]
)
def test_the_api_version_is_the_servers_clamped_to_what_the_driver_knows(
    server: str | None, spoken: str
) -> None:
    assert choose_api_version(server) == spoken


def test_an_engine_older_than_docker_20_10_is_refused() -> None:
    with pytest.raises(EngineError, match=r"needs 1\.41"):
        choose_api_version("1.40")


def test_requests_go_through_the_tunnel_with_the_negotiated_version(ok_daemon: FakeDaemon) -> None:
    ok_daemon.api_version = "1.43"
    engine = engine_on(ok_daemon)
    assert engine.info()["Swarm"]["LocalNodeState"] == "inactive"
    assert [r[1] for r in ok_daemon.requests] == ["/_ping", "/v1.43/info"]
    assert engine.calls == 2
    engine.close()


def test_a_pinned_version_is_used_as_given(ok_daemon: FakeDaemon) -> None:
    engine = engine_on(ok_daemon, api_version="1.41")
    engine.info()
    assert ok_daemon.requests[-1][1] == "/v1.41/info"


def test_the_join_token_travels_in_the_request_body_only(ok_daemon: FakeDaemon) -> None:
    engine = engine_on(ok_daemon)
    engine.swarm_join(
        remote_addrs=["198.18.0.2:2377"],
        token=Secret("SWMTKN-1-secret"),
        advertise_addr="198.18.0.3",
        listen_addr="0.0.0.0:2377",
    )
    method, path, body = ok_daemon.requests[-1]
    assert (method, path) == ("POST", "/v1.41/swarm/join")
    assert json.loads(body)["JoinToken"] == "SWMTKN-1-secret"


def test_a_missing_service_is_none_and_a_version_race_is_a_conflict(
    ok_daemon: FakeDaemon,
) -> None:
    engine = engine_on(ok_daemon)
    assert engine.service("missing") is None
    with pytest.raises(EngineConflict, match="out of sequence"):
        engine.service_update("abc", 3, {"Name": "web", "TaskTemplate": {}})


def test_other_api_errors_carry_the_engines_explanation(ok_daemon: FakeDaemon) -> None:
    engine = engine_on(ok_daemon)
    with pytest.raises(EngineError, match="lab1: node ls: bad request"):
        engine.nodes()


def test_an_engine_that_does_not_answer_is_unreachable() -> None:
    def refused() -> socket.socket:
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(EngineUnreachable, match="does not answer"):
        connect_api(refused, api_version=None, timeout=1.0)


def test_rollback_shells_out_to_the_docker_cli_on_the_manager(ok_daemon: FakeDaemon) -> None:
    from fleetkit.connection.base import CommandResult

    commands: list[str] = []

    def runner(command: str) -> CommandResult:
        commands.append(command)
        return CommandResult(0, "", "", 0.01)

    engine = DockerEngine(
        "lab1", connect_api(ok_daemon.opener, api_version=None, timeout=5.0), runner=runner
    )
    engine.service_rollback("web")
    assert commands == ["docker service rollback --detach --quiet web"]


# a swarm that is settling (swarm_settle) ------------------------------------------------


def settling_daemon(failures: list[tuple[int, str]]) -> FakeDaemon:
    """Answers node ls and node update with the given errors first, then succeeds."""

    def route(method: str, path: str, body: bytes) -> tuple[int, Any]:
        if failures:
            status, message = failures.pop(0)
            return status, {"message": message}
        return 200, [] if path.endswith("/nodes") else ""

    return FakeDaemon(route)


def settling_engine(
    daemon: FakeDaemon, timeout_s: float, clock: Clock, notes: list[str]
) -> DockerEngine:

    api = connect_api(daemon.opener, api_version=None, timeout=5.0)
    settle = clock.settle(timeout_s, notes)
    return DockerEngine("lab1", api, settle=settle)


def test_a_read_is_retried_while_the_swarm_settles_and_each_retry_is_shown() -> None:
    daemon = settling_daemon([(500, DEADLINE), (503, NO_LEADER)])
    clock, notes = Clock(), list[str]()
    engine = settling_engine(daemon, 60, clock, notes)
    assert engine.nodes() == []
    assert [r[1] for r in daemon.requests].count("/v1.41/nodes") == 3
    assert clock.slept == [2.0, 2.0]
    assert len(notes) == 2 and "lab1  the swarm is settling" in notes[0]
    assert "context deadline exceeded" in notes[0] and "does not have a leader" in notes[1]
    assert engine.calls == 4  # the ping and three node ls


def test_a_swarm_that_does_not_settle_in_time_fails_with_the_setting_named() -> None:
    daemon = settling_daemon([(500, DEADLINE)] * 100)
    clock, notes = Clock(), list[str]()
    engine = settling_engine(daemon, 10, clock, notes)
    with pytest.raises(EngineError, match=r"deadline exceeded \(the swarm did not settle in 10s"):
        engine.nodes()
    assert sum(clock.slept) <= 10 and len(notes) == 5


def test_writes_and_other_errors_are_not_retried() -> None:
    clock, notes = Clock(), list[str]()
    daemon = settling_daemon([(500, DEADLINE)])
    with pytest.raises(EngineError, match="node update: rpc error: code = DeadlineExceeded"):
        settling_engine(daemon, 60, clock, notes).node_update("n1", 3, {})
    daemon = settling_daemon([(400, "bad request")])
    with pytest.raises(EngineError, match="node ls: bad request"):
        settling_engine(daemon, 60, clock, notes).nodes()
    assert clock.slept == [] and notes == []


def test_no_budget_means_no_retry() -> None:
    clock, notes = Clock(), list[str]()
    daemon = settling_daemon([(500, DEADLINE)])
    with pytest.raises(EngineError, match=r"node ls: rpc error: .*exceeded$"):
        settling_engine(daemon, 0, clock, notes).nodes()
    assert clock.slept == []


@pytest.mark.parametrize(("value", "seconds"), [(None, 60.0), ("", 60.0), (0, 0.0), ("15", 15.0)])
def test_the_settle_timeout_variable(value: object, seconds: float) -> None:
    from fleetkit.orchestrators.swarm_settle import settle_timeout

    assert settle_timeout(value) == seconds


@pytest.mark.parametrize("value", ["soon", -1, "nan"])
def test_a_bad_settle_timeout_is_refused_by_name(value: object) -> None:
    from fleetkit.orchestrators.swarm_settle import settle_timeout

    with pytest.raises(OrchestratorError, match="swarm_settle_timeout must be a number"):
        settle_timeout(value)
