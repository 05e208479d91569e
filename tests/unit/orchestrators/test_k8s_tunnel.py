"""The API tunnel: real TLS (a throwaway CA) over a real socketpair, as over an SSH channel.

Not a mock: a TLS server thread holds one end of a socketpair, the transport gets
the other end from its opener (where the driver passes conn.open_tcp_stream).
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator

import httpx2
import pytest
from tests.unit.orchestrators.k8s_pki import Pki, make_pki

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.k8s_kubeconfig import client_ssl_context, parse_kubeconfig
from fleetkit.orchestrators.k8s_tunnel import TunnelTransport

pytestmark = pytest.mark.unit


def _server_context(pki: Pki) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "s.crt"), os.path.join(tmp, "s.key")
        with open(cert, "wb") as f:
            f.write(pki.server_cert_pem)
        with open(key, "wb") as f:
            f.write(pki.server_key_pem)
        ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cadata=pki.ca_pem.decode())
    ctx.verify_mode = ssl.CERT_REQUIRED  # the API server asks for the client certificate
    return ctx


class TLSServer:
    """Serves HTTP/1.1 over TLS on socketpair ends; `handler` writes each response."""

    def __init__(self, pki: Pki, handler: Callable[[ssl.SSLSocket, bytes], None]) -> None:
        self.ctx = _server_context(pki)
        self.handler = handler
        self.peers: list[str] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.opened = 0

    def open(self, timeout: float) -> socket.socket:
        self.opened += 1
        ours, theirs = socket.socketpair()
        thread = threading.Thread(target=self._serve, args=(theirs,), daemon=True)
        thread.start()
        self.threads.append(thread)
        return ours

    def _serve(self, sock: socket.socket) -> None:
        try:
            with self.ctx.wrap_socket(sock, server_side=True) as tls:
                cert = tls.getpeercert() or {}
                subject = dict(x[0] for x in cert.get("subject", ()))
                self.peers.append(str(subject.get("commonName", "")))
                data = b""
                while True:
                    while b"\r\n\r\n" not in data:
                        chunk = tls.recv(4096)
                        if not chunk:
                            return
                        data += chunk
                    head, _, data = data.partition(b"\r\n\r\n")
                    self.handler(tls, head)
        except (ssl.SSLError, OSError) as err:
            self.errors.append(err)

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=5)


def _ok(tls: ssl.SSLSocket, head: bytes) -> None:
    line = head.split(b"\r\n", 1)[0].decode()
    body = f'{{"seen": "{line}"}}'.encode()
    tls.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


Factory = Callable[..., tuple[httpx2.Client, TLSServer]]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
def client_factory(pki: Pki) -> Iterator[Factory]:
    made: list[tuple[httpx2.Client, TLSServer]] = []

    def make(
        handler: Callable[[ssl.SSLSocket, bytes], None] = _ok,
        *,
        server_pki: Pki | None = None,
        host: str = "127.0.0.1",
        max_read_s: float = 5.0,
    ) -> tuple[httpx2.Client, TLSServer]:
        server = TLSServer(server_pki or pki, handler)
        ctx = client_ssl_context(parse_kubeconfig(pki.kubeconfig()))
        transport = TunnelTransport(server.open, ctx, max_read_s=max_read_s)
        client = httpx2.Client(base_url=f"https://{host}:6443", transport=transport)
        made.append((client, server))
        return client, server

    yield make
    for client, server in made:
        client.close()
        server.join()


def test_requests_ride_tls_over_the_stream_with_the_client_certificate(
    client_factory: Factory,
) -> None:
    client, server = client_factory()
    first = client.get("/api/v1/nodes")
    second = client.get("/apis/apps/v1/deployments")
    assert first.json() == {"seen": "GET /api/v1/nodes HTTP/1.1"}
    assert second.json() == {"seen": "GET /apis/apps/v1/deployments HTTP/1.1"}
    assert server.peers == ["system:admin"]  # one stream, reused; the server saw our cert
    assert server.opened == 1


def test_a_server_signed_by_another_ca_is_refused(client_factory: Factory) -> None:
    client, _ = client_factory(server_pki=make_pki())
    with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get("/version")


def test_the_server_name_is_checked_against_the_certificate(client_factory: Factory) -> None:
    client, _ = client_factory(server_pki=make_pki(server_sans=("10.9.9.9",)))
    with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get("/version")


def test_localhost_is_in_the_k3s_serving_cert_too(client_factory: Factory) -> None:
    client, _ = client_factory(host="localhost")
    assert client.get("/version").status_code == 200


def test_a_silent_stream_times_out_even_when_httpx_asks_for_no_read_timeout(
    client_factory: Factory,
) -> None:
    def silent(tls: ssl.SSLSocket, head: bytes) -> None:
        time.sleep(1.5)

    client, _ = client_factory(silent, max_read_s=0.3)
    started = time.monotonic()
    with pytest.raises(httpx2.ReadTimeout):
        client.get("/watch", timeout=httpx2.Timeout(5.0, read=None))  # as lightkube's watch
    assert time.monotonic() - started < 1.2


def test_kubeconfig_parsing_keeps_the_key_secret(pki: Pki) -> None:
    creds = parse_kubeconfig(pki.kubeconfig("https://127.0.0.1:6443"))
    assert (creds.host, creds.port) == ("127.0.0.1", 6443)
    assert creds.ca_pem == pki.ca_pem and creds.cert_pem == pki.client_cert_pem
    assert "PRIVATE" not in repr(creds) and "PRIVATE" not in str(creds)
    assert creds.key_pem.reveal().encode() == pki.client_key_pem


def test_kubeconfig_without_embedded_data_is_refused_with_a_reason() -> None:
    text = (
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443',"
        " certificate-authority: /etc/ca.crt}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
        "users: [{name: u, user: {token: abc}}]\n"
    )
    with pytest.raises(OrchestratorError, match="certificate-authority-data"):
        parse_kubeconfig(text)


def test_a_key_that_does_not_match_the_certificate_is_refused_without_showing_it(
    pki: Pki,
) -> None:
    other = make_pki()
    mixed = Pki(
        pki.ca_pem,
        pki.server_cert_pem,
        pki.server_key_pem,
        pki.client_cert_pem,
        other.client_key_pem,
    )
    with pytest.raises(OrchestratorError, match="do not load") as err:
        client_ssl_context(parse_kubeconfig(mixed.kubeconfig()))
    assert "PRIVATE" not in str(err.value) and "BEGIN" not in str(err.value)
