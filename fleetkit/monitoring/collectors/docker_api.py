"""Docker's Engine API over a stream to the host's socket: the exporter's container list.

The docker CLI costs ~22 ms of CPU per call on a host (a Go binary starting); the
engine answers the same questions over its socket in about a millisecond. This
speaks the smallest HTTP/1.1 that dockerd needs (GET, keep-alive, Content-Length or
chunked replies) on one stream: /containers/json?all=1, then /containers/ID/json for
each container (restarts, health and the main pid exist only in inspect). The answer
is the same "C|..." lines the CLI's inspect template prints, so the probe's cgroup
awk and the parser are shared and the metrics cannot differ between the two paths.
"""

from __future__ import annotations

import json
from typing import Any

from fleetkit.connection.base import Stream

DOCKER_SOCKET = "/var/run/docker.sock"
REQUEST_TIMEOUT_S = 3.0  # as the CLI path's `timeout 3`: a hung dockerd costs its metrics only
MAX_REPLY = 16 << 20  # bytes: inspect of a few hundred containers is a few MiB


class EngineAPIError(Exception):
    """The engine's socket did not give a usable answer (the caller falls back to the CLI)."""


class _Reader:
    """Buffered reads from a stream: lines for the head, exact counts for the body."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._buf = b""
        self._total = 0

    def _fill(self) -> None:
        chunk = self._stream.recv(65536)
        if not chunk:
            raise EngineAPIError("the engine closed the connection mid-reply")
        self._total += len(chunk)
        if self._total > MAX_REPLY:
            raise EngineAPIError(f"engine reply over {MAX_REPLY >> 20} MiB")
        self._buf += chunk

    def line(self) -> bytes:
        while b"\r\n" not in self._buf:
            self._fill()
        out, self._buf = self._buf.split(b"\r\n", 1)
        return out

    def exactly(self, n: int) -> bytes:
        while len(self._buf) < n:
            self._fill()
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _get(stream: Stream, reader: _Reader, path: str) -> Any:
    """One GET on the keep-alive stream -> the decoded JSON body (200 only)."""
    stream.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\n\r\n".encode("ascii"))
    status = reader.line().split(b" ", 2)
    if len(status) < 2 or not status[0].startswith(b"HTTP/1."):
        raise EngineAPIError(f"not an HTTP reply: {b' '.join(status)[:80]!r}")
    headers: dict[str, str] = {}
    while line := reader.line():
        key, _, value = line.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while size := int(reader.line().split(b";", 1)[0], 16):
            parts.append(reader.exactly(size))
            reader.line()
        while reader.line():  # trailers, then the empty line
            pass
        body = b"".join(parts)
    else:
        body = reader.exactly(int(headers.get("content-length", "0")))
    if status[1] != b"200":
        raise EngineAPIError(f"GET {path}: HTTP {status[1].decode('latin-1')}: {body[:120]!r}")
    return json.loads(body)


def _clean(value: object) -> str:
    """A field for a "|"-separated line: no line breaks (names and images never have them)."""
    return str(value).replace("\n", " ").replace("\r", " ")


def inspect_line(info: dict[str, Any]) -> str:
    """One inspect reply -> the line containers.INSPECT_FORMAT prints for it."""
    state = info.get("State") or {}
    health = state.get("Health")
    status = (health.get("Status") or "") if isinstance(health, dict) else "none"
    fields = (
        info["Id"],
        info.get("Name", ""),
        (info.get("Config") or {}).get("Image", ""),
        state.get("Status", ""),
        info.get("RestartCount", 0),
        status,
        state.get("Pid", 0),
    )
    return "C|" + "|".join(_clean(f) for f in fields)


def container_lines(stream: Stream, timeout: float = REQUEST_TIMEOUT_S) -> list[str]:
    """Every container on the engine behind stream, as inspect lines (closes the stream)."""
    try:
        stream.settimeout(timeout)
        reader = _Reader(stream)
        listed = _get(stream, reader, "/containers/json?all=1")
        if not isinstance(listed, list):
            raise EngineAPIError("container list is not a JSON list")
        lines = []
        for entry in listed:
            cid = str(entry["Id"])
            if not cid.isalnum():
                raise EngineAPIError(f"unexpected container id {cid[:80]!r}")
            lines.append(inspect_line(_get(stream, reader, f"/containers/{cid}/json")))
        return lines
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise EngineAPIError(f"engine API: {err}") from err
    finally:
        stream.close()
