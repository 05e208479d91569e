"""open_driver end to end on one machine: kubeconfig read over the connection, the API
through conn.open_tcp_stream with real TLS, HTTP served by the in-memory API model.

The FakeConnection's listener for 127.0.0.1:6443 is a TLS server (a throwaway CA,
k8s_pki) that hands each HTTP request to k8s_model.FakeKube, so the driver's
requests cross a real socket, real TLS and real HTTP/1.1 (chunked watch streams).
Nothing here is a Kubernetes API server.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import tempfile
import threading
from typing import BinaryIO

import httpx2
import pytest
from tests.unit.orchestrators.k8s_model import FakeKube
from tests.unit.orchestrators.k8s_pki import Pki, make_pki

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import ServiceSpec, WaitOptions
from fleetkit.orchestrators.convergence import WaitPolicy
from fleetkit.orchestrators.factory import DriverContext, open_orchestrator
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"


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
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class ApiBridge:
    """HTTP/1.1 over TLS on the host's end of a stream, answered by FakeKube."""

    def __init__(self, pki: Pki, kube: FakeKube) -> None:
        self.ctx = _server_context(pki)
        self.kube = kube
        self.lock = threading.Lock()
        self.clients: list[str] = []

    def __call__(self, sock: socket.socket) -> None:
        try:
            with self.ctx.wrap_socket(sock, server_side=True) as tls:
                subject = dict(x[0] for x in (tls.getpeercert() or {}).get("subject", ()))
                self.clients.append(str(subject.get("commonName")))
                reader = tls.makefile("rb")
                while self._one(tls, reader):
                    pass
        except (ssl.SSLError, OSError):
            return

    def _one(self, tls: ssl.SSLSocket, reader: BinaryIO) -> bool:
        line = reader.readline()
        if not line:
            return False
        method, target, _ = line.decode().split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            h = reader.readline().decode().strip()
            if not h:
                break
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = reader.read(int(headers.get("content-length", "0")))
        request = httpx2.Request(
            method, f"https://127.0.0.1:6443{target}", headers=headers, content=body
        )
        with self.lock:
            response = self.kube.handle(request)
        head = f"HTTP/1.1 {response.status_code} OK\r\nContent-Type: application/json\r\n"
        tls.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        chunks = (
            iter([response.content])
            if isinstance(response.stream, httpx2.ByteStream)
            else response.iter_raw()
        )
        try:
            for chunk in chunks:
                if chunk:
                    tls.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except httpx2.ReadTimeout:
            return False  # the model has nothing more to say: drop the stream
        tls.sendall(b"0\r\n\r\n")
        return True


@pytest.fixture
def pki() -> Pki:
    return make_pki()


def _context(
    pki: Pki, kube: FakeKube, **variables: object
) -> tuple[DriverContext, FakeConnection, ApiBridge]:
    bridge = ApiBridge(pki, kube)
    encoded = base64.b64encode(pki.kubeconfig().encode()).decode()

    def handler(call: FakeCall) -> tuple[int, str, str]:
        if call.command == f"base64 < {KUBECONFIG}" and call.become:
            return 0, encoded, ""
        return 1, "", "permission denied"

    conn = FakeConnection("k3s-1", handler, listeners={("tcp", 6443): bridge})
    ctx = DriverContext(
        host="k3s-1",
        conn=conn,
        run=conn.run,
        variables={"orchestrator": "k8s", **variables},
    )
    return ctx, conn, bridge


def test_open_driver_tunnels_the_api_through_the_connection(pki: Pki) -> None:
    kube = FakeKube()
    ctx, conn, bridge = _context(pki, kube)
    k8s = open_orchestrator(ctx)
    try:
        wait = WaitOptions(policy=WaitPolicy(timeout_s=30))
        created = k8s.deploy(ServiceSpec("web", image="reg/web:v1", replicas=2), wait)
        assert created.changed and not created.failed, created.message
        updated = k8s.deploy(ServiceSpec("web", image="reg/web:v2"), wait)
        assert updated.fields == ("image",) and not updated.failed, updated.message
        assert [n.hostname for n in k8s.status().nodes] == ["k3s-1", "k3s-2", "k3s-3"]
    finally:
        k8s.close()
    assert {(s.kind, s.target) for s in conn.streams} == {("tcp", 6443)}
    assert set(bridge.clients) == {"system:admin"}  # the kubeconfig's client certificate
    assert conn.calls[0].become  # k3s.yaml is root's
    assert all("PRIVATE KEY" not in c.command for c in conn.calls)


def test_a_host_without_the_kubeconfig_is_a_clear_error(pki: Pki) -> None:
    ctx, _, _ = _context(pki, FakeKube(), k8s_kubeconfig="/nope/k3s.yaml")
    with pytest.raises(OrchestratorError, match=r"cannot read the kubeconfig /nope/k3s\.yaml"):
        open_orchestrator(ctx)


def test_the_api_port_is_a_host_variable(pki: Pki) -> None:
    ctx, conn, _ = _context(pki, FakeKube(), k8s_api_port=16443)
    k8s = open_orchestrator(ctx)
    try:
        with pytest.raises(OrchestratorError, match=r"ConnectError: .*127\.0\.0\.1:16443 refused"):
            k8s.status()
    finally:
        k8s.close()
    assert conn.streams == []  # 16443 has no listener: the stream was refused
