"""Serving /metrics: the WSGI app, the listen address and the web config (TLS, basic auth).

The app renders the registry once per snapshot and per format and keeps the
bytes, so a scrape is a dictionary lookup (milliseconds even for 200 hosts) and
never touches a host. `--web-config` takes the Prometheus exporter toolkit's
file format, so an existing one works unchanged:

    tls_server_config:
      cert_file: server.crt
      key_file: server.key
      client_ca_file: ca.crt              # optional: verify client certificates
      client_auth_type: RequireAndVerifyClientCert
    basic_auth_users:
      prometheus: $2y$10$...              # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':')
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from types import MappingProxyType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from fleetkit.errors import MonitoringError, Position
from fleetkit.yamlpos import load_yaml, position_of

DEFAULT_PORT = 9469
CLIENT_AUTH_TYPES: Mapping[str, ssl.VerifyMode] = MappingProxyType(
    {
        "NoClientCert": ssl.CERT_NONE,
        "RequestClientCert": ssl.CERT_OPTIONAL,
        "RequireAnyClientCert": ssl.CERT_REQUIRED,
        "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
        "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
    }
)

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


@dataclass(frozen=True)
class WebConfig:
    """TLS and basic auth for /metrics, as in the exporter toolkit's web config file."""

    cert_file: Path | None = None
    key_file: Path | None = None
    client_ca_file: Path | None = None
    client_auth_type: str = "NoClientCert"
    basic_auth_users: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def tls(self) -> bool:
        return self.cert_file is not None

    def ssl_context(self) -> ssl.SSLContext:
        """The server-side TLS context (TLS 1.2 at least)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        assert self.cert_file is not None and self.key_file is not None
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        ctx.verify_mode = CLIENT_AUTH_TYPES[self.client_auth_type]
        if self.client_ca_file is not None:
            ctx.load_verify_locations(cafile=str(self.client_ca_file))
        return ctx


def load_web_config(path: Path) -> WebConfig:
    """Read a web config file; every mistake is a MonitoringError at file:line."""
    data = load_yaml(path, MonitoringError)
    if data is None:
        return WebConfig()
    if not isinstance(data, dict):
        raise MonitoringError("web config: expected a mapping", position=Position(path))
    known = {"tls_server_config", "basic_auth_users", "http_server_config"}
    for key in data:
        if key not in known:
            raise MonitoringError(
                f"web config: unknown key {key!r} (known: {', '.join(sorted(known))})",
                position=position_of(data, key),
            )
    tls = data.get("tls_server_config") or {}
    users = data.get("basic_auth_users") or {}
    if not isinstance(tls, dict) or not isinstance(users, dict):
        raise MonitoringError(
            "web config: tls_server_config and basic_auth_users must be mappings",
            position=position_of(data) or Position(path),
        )

    def file(key: str) -> Path | None:
        value = tls.get(key)
        if value is None:
            return None
        p = Path(str(value))
        p = p if p.is_absolute() else path.parent / p
        if not p.is_file():
            raise MonitoringError(
                f"web config: {key} {p} does not exist", position=position_of(tls, key)
            )
        return p

    auth_type = str(tls.get("client_auth_type", "NoClientCert"))
    if auth_type not in CLIENT_AUTH_TYPES:
        raise MonitoringError(
            f"web config: client_auth_type {auth_type!r} is not one of"
            f" {', '.join(CLIENT_AUTH_TYPES)}",
            position=position_of(tls, "client_auth_type"),
        )
    cfg = WebConfig(
        cert_file=file("cert_file"),
        key_file=file("key_file"),
        client_ca_file=file("client_ca_file"),
        client_auth_type=auth_type,
        basic_auth_users=MappingProxyType({str(k): str(v) for k, v in users.items()}),
    )
    if (cfg.cert_file is None) != (cfg.key_file is None):
        raise MonitoringError(
            "web config: tls_server_config needs both cert_file and key_file",
            position=position_of(data, "tls_server_config"),
        )
    if cfg.tls:
        try:
            cfg.ssl_context()
        except (ssl.SSLError, OSError) as err:
            raise MonitoringError(
                f"web config: cannot load the TLS files: {err}",
                position=position_of(data, "tls_server_config"),
            ) from None
    return cfg


class BasicAuth:
    """Checks `Authorization: Basic` against bcrypt hashes; remembers good pairs.

    bcrypt is slow on purpose (~0.1 s); a scrape every few seconds must not pay
    it each time, so a verified (user, password) is remembered by its SHA-256.
    """

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)
        self._good: set[bytes] = set()
        self._lock = threading.Lock()

    def allows(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        hashed = self._users.get(user)
        if hashed is None:
            return False
        key = hashlib.sha256(f"{user}\0{password}\0{hashed}".encode()).digest()
        with self._lock:
            if key in self._good:
                return True
        import bcrypt

        try:
            ok = bcrypt.checkpw(password.encode(), hashed.encode())
        except ValueError:
            return False
        if ok:
            with self._lock:
                self._good.add(key)
        return ok


class MetricsApp:
    """WSGI app: /metrics from `render`, /-/healthy, /-/ready and a small index page."""

    def __init__(
        self,
        render: Render,
        *,
        ready: Callable[[], bool],
        auth: BasicAuth | None = None,
    ) -> None:
        self._render = render
        self._ready = ready
        self._auth = auth

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self._auth is not None and not self._auth.allows(environ.get("HTTP_AUTHORIZATION")):
            start_response(
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
            start_response("200 OK", headers)
            return [body]
        if path == "/-/healthy":
            return _text(start_response, "200 OK", "OK\n")
        if path == "/-/ready":
            if self._ready():
                return _text(start_response, "200 OK", "Ready\n")
            return _text(start_response, "503 Service Unavailable", "No cycle completed yet\n")
        if path == "/":
            page = (
                "<html><body><h1>fleetkit exporter</h1><a href='/metrics'>metrics</a></body></html>"
            )
            start_response("200 OK", [("Content-Type", "text/html")])
            return [page.encode()]
        return _text(start_response, "404 Not Found", "Not found\n")


def _text(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode()]


class _QuietHandler(WSGIRequestHandler):
    """No access log line per scrape."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingMixIn, WSGIServer):
    """A threaded WSGI server; TLS handshakes happen in the request thread."""

    daemon_threads = True
    tls_context: ssl.SSLContext | None = None

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address (no traffic out)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10)
        tls = self.tls_context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
            super().finish_request(tls, client_address)
        except (ssl.SSLError, OSError):
            return  # a client that does not speak TLS (or the right certificate)
        finally:
            tls.close()  # the wrapped socket owns the connection now


@dataclass
class Server:
    """A running /metrics server (stop it with shutdown())."""

    httpd: _Server
    thread: threading.Thread
    scheme: str

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{shown}:{port}/metrics"

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve(app: MetricsApp, host: str, port: int, web: WebConfig | None = None) -> Server:
    """Bind host:port and serve app from a daemon thread. MonitoringError if it cannot bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("_BoundServer", (_Server,), {"address_family": family})
    try:
        httpd = server_class((host, port), _QuietHandler)
    except OSError as err:
        raise MonitoringError(
            f"cannot listen on {host}:{port}: {err.strerror or err}",
            hint="choose another --listen address or stop what uses the port",
        ) from None
    httpd.set_app(app)
    if web is not None and web.tls:
        httpd.tls_context = web.ssl_context()
    thread = threading.Thread(target=httpd.serve_forever, name="fk-metrics", daemon=True)
    thread.start()
    return Server(httpd, thread, "https" if web is not None and web.tls else "http")
