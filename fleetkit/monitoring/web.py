"""Serving /metrics: the listen address, the app, and the server with its web config.

The app renders the registry once per snapshot and per format and keeps the
bytes, so a scrape is a dictionary lookup (milliseconds even for 200 hosts) and
never touches a host. `--web-config` takes the Prometheus exporter toolkit's
file format (fleetkit/monitoring/webconfig.py: every key implemented or refused),
served by fleetkit/monitoring/httpserver.py (bounded connections and threads,
read timeouts). `Server.reload()` applies a changed web config (SIGHUP).
"""

from __future__ import annotations

import gzip
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fleetkit.errors import MonitoringError
from fleetkit.monitoring.basicauth import BasicAuth
from fleetkit.monitoring.httpserver import HttpServer, Limits, Request, Response, TlsSettings
from fleetkit.monitoring.webconfig import WebConfig, load_web_config

__all__ = [
    "DEFAULT_PORT",
    "BasicAuth",
    "Guard",
    "Limits",
    "MetricsApp",
    "RateLimiter",
    "Server",
    "WebConfig",
    "load_web_config",
    "parse_listen",
    "serve",
]

DEFAULT_PORT = 9469
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Render = Callable[[str], tuple[bytes, str]]  # Accept header -> (body, content type)


def parse_listen(text: str) -> tuple[str, int]:
    """'ADDR:PORT', ':PORT' (all interfaces), '[::1]:PORT' or 'ADDR' -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_s = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_s = text.split(":")
    elif ":" in text:
        host, port_s = text, ""  # a bare IPv6 address
    else:
        host, port_s = text, ""
    try:
        port = int(port_s) if port_s else DEFAULT_PORT
    except ValueError:
        raise MonitoringError(
            f"--listen {text!r}: port must be a number", hint="e.g. --listen 127.0.0.1:9469"
        ) from None
    if not 0 <= port <= 65535:
        raise MonitoringError(f"--listen {text!r}: port out of range")
    return host or "0.0.0.0", port


class RateLimiter:
    """A token bucket (exporter-toolkit's rate_limit): one request per interval, up to burst."""

    def __init__(self, interval_s: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self._interval = interval_s
        self._burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) / self._interval)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class Guard:
    """What every request passes (rate limit, basic auth) and the headers every answer gets."""

    auth: BasicAuth | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    limiter: RateLimiter | None = None

    @classmethod
    def from_config(cls, web: WebConfig | None) -> Guard:
        if web is None:
            return cls()
        return cls(
            auth=BasicAuth(web.basic_auth_users) if web.basic_auth_users else None,
            headers=web.headers,
            limiter=RateLimiter(web.rate_limit_interval_s, web.rate_limit_burst)
            if web.rate_limit_interval_s > 0
            else None,
        )


class MetricsApp:
    """WSGI app: /metrics from `render`, /-/healthy, /-/ready and a small index page.

    GET and HEAD only (405 with Allow otherwise); `reconfigure()` swaps the guard
    (a reloaded web config) for the requests that follow.
    """

    def __init__(
        self,
        render: Render,
        *,
        ready: Callable[[], bool],
        auth: BasicAuth | None = None,
        guard: Guard | None = None,
    ) -> None:
        self._render = render
        self._ready = ready
        self._guard = guard or Guard(auth=auth)

    def reconfigure(self, guard: Guard) -> None:
        self._guard = guard

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        guard = self._guard
        extra = list(guard.headers.items())

        def respond(status: str, headers: list[tuple[str, str]]) -> Any:
            return start_response(status, headers + extra)

        if guard.limiter is not None and not guard.limiter.allow():
            return _text(respond, "429 Too Many Requests", "Too Many Requests\n")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            respond(
                "405 Method Not Allowed",
                [("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"Method Not Allowed\n"]
        if guard.auth is not None and not guard.auth.allows(environ.get("HTTP_AUTHORIZATION")):
            respond(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="fleetkit"'), ("Content-Type", "text/plain")],
            )
            return [b"Unauthorized\n"]
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            body, ctype = self._render(environ.get("HTTP_ACCEPT", ""))
            headers = [("Content-Type", ctype)]
            if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
                body = gzip.compress(body, compresslevel=1)
                headers.append(("Content-Encoding", "gzip"))
            headers.append(("Content-Length", str(len(body))))
            respond("200 OK", headers)
            return [body]
        if path == "/-/healthy":
            return _text(respond, "200 OK", "OK\n")
        if path == "/-/ready":
            if self._ready():
                return _text(respond, "200 OK", "Ready\n")
            return _text(respond, "503 Service Unavailable", "No cycle completed yet\n")
        if path == "/":
            page = (
                "<html><body><h1>fleetkit exporter</h1><a href='/metrics'>metrics</a></body></html>"
            )
            respond("200 OK", [("Content-Type", "text/html")])
            return [page.encode()]
        return _text(respond, "404 Not Found", "Not found\n")


def _text(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode()]


def wsgi_handler(app: MetricsApp) -> Callable[[Request], Response]:
    """Adapt the WSGI app to the HTTP server's Request -> Response."""

    def handle(request: Request) -> Response:
        path, _, query = request.target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": urllib.parse.unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": request.peer[0],
            "wsgi.url_scheme": request.scheme,
        }
        for name, value in request.headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            started.append((status, headers))

        body = b"".join(app(environ, start_response))
        status, headers = started[-1]
        return Response(status, headers, body)

    return handle


def tls_settings(web: WebConfig) -> TlsSettings:
    return TlsSettings(web.ssl_context(), web.client_allowed)


class Server:
    """A running /metrics server (stop it with shutdown(), apply a new web config with reload())."""

    def __init__(self, httpd: HttpServer, app: MetricsApp, web: WebConfig | None) -> None:
        self.httpd = httpd
        self.app = app
        self.web = web
        self.thread = threading.Thread(target=httpd.serve_forever, name="fk-metrics", daemon=True)
        self.thread.start()

    @property
    def scheme(self) -> str:
        return "https" if self.web is not None and self.web.tls else "http"

    @property
    def address(self) -> tuple[str, int]:
        return self.httpd.address

    @property
    def url(self) -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{shown}:{port}/metrics"

    def reload(self, web: WebConfig | None) -> None:
        """Use a new web config for new connections and requests; TLS cannot be switched on
        or off by a reload (MonitoringError, the old config stays)."""
        was_tls = self.web is not None and self.web.tls
        if was_tls != (web is not None and web.tls):
            raise MonitoringError(
                "web config reload: TLS cannot be turned on or off while running; restart"
            )
        tls = tls_settings(web) if web is not None and web.tls else None
        guard = Guard.from_config(web)
        self.httpd.tls = tls
        self.app.reconfigure(guard)
        self.web = web

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.thread.join(timeout=5)


def serve(
    app: MetricsApp,
    host: str,
    port: int,
    web: WebConfig | None = None,
    *,
    limits: Limits | None = None,
) -> Server:
    """Bind host:port and serve app from a daemon thread. MonitoringError if it cannot bind."""
    tls = tls_settings(web) if web is not None and web.tls else None
    if web is not None:
        app.reconfigure(Guard.from_config(web))
    try:
        httpd = HttpServer(host, port, wsgi_handler(app), tls=tls, limits=limits)
    except OSError as err:
        raise MonitoringError(
            f"cannot listen on {host}:{port}: {err.strerror or err}",
            hint="choose another --listen address or stop what uses the port",
        ) from None
    return Server(httpd, app, web)
