"""The Engine API path of the container collector: HTTP framing, the lines it makes,
the awk section they feed, and the fall back to the CLI when the socket refuses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Mapping

import pytest

from fleetkit.connection.base import STREAM_TIMEOUT_S, Stream
from fleetkit.monitoring.collectors import containers, docker_api
from fleetkit.monitoring.cycle import Collection, Targets
from fleetkit.testing.fake_connection import FakeConnection, Listener

from .conftest import FakeFleet
from .helpers import probe_answer

pytestmark = pytest.mark.unit

CID = "a" * 64
LISTED = [{"Id": CID, "Names": ["/web"]}]
INSPECT = {
    "Id": CID,
    "Name": "/web",
    "Config": {"Image": "reg:5000/web:v1"},
    "RestartCount": 2,
    "State": {"Status": "running", "Pid": 4242, "Health": {"Status": "healthy"}},
}


def _read_request(sock: socket.socket, buf: bytes) -> tuple[str, bytes]:
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            return "", b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.split(b" ")[1].decode(), rest


def dockerd(answers: Mapping[str, tuple[int, object]], *, chunked: bool = True) -> Listener:
    """A listener speaking HTTP/1.1 like dockerd: keep-alive, chunked or sized bodies."""

    def serve(sock: socket.socket) -> None:
        buf = b""
        while True:
            path, buf = _read_request(sock, buf)
            if not path:
                return
            code, obj = answers.get(path, (404, {"message": "no such container"}))
            body = json.dumps(obj).encode()
            head = f"HTTP/1.1 {code} X\r\nContent-Type: application/json\r\n"
            if chunked:
                half = len(body) // 2
                parts = [body[:half], body[half:]]
                framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
                sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode() + framed)
            else:
                sock.sendall((head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body)

    return serve


OK: dict[str, tuple[int, object]] = {
    "/containers/json?all=1": (200, LISTED),
    f"/containers/{CID}/json": (200, INSPECT),
}


@pytest.mark.parametrize("chunked", [True, False])
def test_lines_match_the_cli_inspect_template(chunked: bool) -> None:
    conn = FakeConnection(
        "h", listeners={("unix", docker_api.DOCKER_SOCKET): dockerd(OK, chunked=chunked)}
    )
    stream = conn.open_unix_stream(docker_api.DOCKER_SOCKET)
    assert docker_api.container_lines(stream) == [
        f"C|{CID}|/web|reg:5000/web:v1|running|2|healthy|4242"
    ]


def test_no_health_check_is_none_and_an_error_status_is_an_api_error() -> None:
    plain = dict(INSPECT, State={"Status": "exited", "Pid": 0})
    assert docker_api.inspect_line(plain).endswith("|exited|2|none|0")
    broken: dict[str, tuple[int, object]] = {"/containers/json?all=1": (500, {"message": "boom"})}
    conn = FakeConnection("h", listeners={("unix", docker_api.DOCKER_SOCKET): dockerd(broken)})
    with pytest.raises(docker_api.EngineAPIError, match="HTTP 500"):
        docker_api.container_lines(conn.open_unix_stream(docker_api.DOCKER_SOCKET))
    assert containers.engine_section(conn) is None  # this cycle uses the CLI


def test_api_section_reads_the_cgroup_of_the_pid_like_the_cli_path() -> None:
    line = f"C|{CID}|/web|img|running|0|none|{os.getpid()}"
    script = "out=$(\n" + containers.api_section([line]) + ")\nprintf '%s\\n' \"$out\"\n"
    out = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, check=True)
    parsed = containers.parse_containers(out.stdout)
    assert parsed is not None and len(parsed) == 1
    (c,) = parsed
    assert (c.name, c.state, c.health) == ("web", "running", "none")
    assert c.memory_bytes is not None and c.memory_bytes > 0  # this process's own cgroup
    assert containers.api_section([]) == ""


def test_cycle_sends_the_api_answers_instead_of_the_cli(fake_fleet: FakeFleet) -> None:
    conn = FakeConnection(
        "a", probe_answer(), listeners={("unix", docker_api.DOCKER_SOCKET): dockerd(OK)}
    )
    coll = Collection(Targets(hosts=("a",)), fake_fleet({"a": conn}))
    assert coll.cycle().hosts[0].up
    script = conn.calls[-1].command
    assert f"C|{CID}|/web|reg:5000/web:v1|running|2|healthy|4242" in script
    assert "ps -aq" not in script
    off = FakeConnection(
        "b", probe_answer(), listeners={("unix", docker_api.DOCKER_SOCKET): dockerd(OK)}
    )
    Collection(Targets(hosts=("b",)), fake_fleet({"b": off}), docker_api=False).cycle()
    assert "ps -aq" in off.calls[-1].command and not off.streams


class CountingFake(FakeConnection):
    attempts = 0

    def open_unix_stream(self, path: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        self.attempts += 1
        return super().open_unix_stream(path, timeout=timeout)


def test_refused_socket_falls_back_to_the_cli_and_is_not_asked_again(
    fake_fleet: FakeFleet,
) -> None:
    conn = CountingFake("a", probe_answer())  # no listener: the socket refuses
    coll = Collection(Targets(hosts=("a",)), fake_fleet({"a": conn}))
    for _ in range(3):
        assert coll.cycle().hosts[0].up
        assert "ps -aq" in conn.calls[-1].command
    assert conn.attempts == 1
