"""The k3s server's kubeconfig (/etc/rancher/k3s/k3s.yaml): API address and client credentials.

fleetkit reads it over the host's connection (it is root-only), keeps the client
key in memory as a Secret and builds one TLS context from it: the cluster CA to
verify the server (hostname checked against the serving cert's SANs; k3s's
includes 127.0.0.1 and localhost), the client certificate to authenticate.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import Secret

K3S_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
DEFAULT_API_PORT = 6443


@dataclass(frozen=True)
class KubeCredentials:
    """What the driver needs from a kubeconfig: where the API is and how to prove who we are."""

    server: str  # https://127.0.0.1:6443 as k3s writes it
    ca_pem: bytes
    cert_pem: bytes
    key_pem: Secret  # PEM text of the client key; never logged

    @property
    def host(self) -> str:
        return urlsplit(self.server).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.server).port or DEFAULT_API_PORT


def _field(entry: Any, key: str, where: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise OrchestratorError(f"kubeconfig {where} has no {key}")
    return entry[key]


def _data(entry: dict[str, Any], key: str, where: str) -> bytes:
    raw = entry.get(f"{key}-data")
    if not isinstance(raw, str) or not raw:
        raise OrchestratorError(
            f"kubeconfig {where} has no {key}-data",
            hint="fleetkit reads k3s's own kubeconfig, which embeds its certificates",
        )
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise OrchestratorError(f"kubeconfig {where}: {key}-data is not base64") from None


def _named(items: Any, name: str, kind: str) -> dict[str, Any]:
    for item in items or ():
        if isinstance(item, dict) and item.get("name") == name:
            body = item.get(kind)
            if isinstance(body, dict):
                return body
    raise OrchestratorError(f"kubeconfig has no {kind} named {name!r}")


def parse_kubeconfig(text: str | bytes) -> KubeCredentials:
    """The current context's server, CA, client certificate and key (embedded data only)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise OrchestratorError("kubeconfig is not valid YAML") from None
    if not isinstance(doc, dict):
        raise OrchestratorError("kubeconfig is not a mapping")
    current = doc.get("current-context")
    contexts = doc.get("contexts") or []
    if not current and len(contexts) == 1 and isinstance(contexts[0], dict):
        current = contexts[0].get("name")
    context = _named(contexts, str(current), "context")
    cluster = _named(doc.get("clusters"), str(_field(context, "cluster", "context")), "cluster")
    user = _named(doc.get("users"), str(_field(context, "user", "context")), "user")
    server = str(_field(cluster, "server", "cluster"))
    ca = _data(cluster, "certificate-authority", "cluster")
    cert = _data(user, "client-certificate", "user")
    key = _data(user, "client-key", "user")
    return KubeCredentials(server, ca, cert, Secret(key.decode("ascii", "replace")))


def client_ssl_context(creds: KubeCredentials) -> ssl.SSLContext:
    """Verify the server with the cluster CA and present the client certificate.

    `ssl` loads a key only from a file: it is written to a 0600 file in a private
    temporary directory and removed as soon as it is loaded.
    """
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=creds.ca_pem.decode("ascii"))
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    with tempfile.TemporaryDirectory(prefix="fleetkit-k8s-") as tmp:
        cert_path = os.path.join(tmp, "client.crt")
        key_path = os.path.join(tmp, "client.key")
        for path, data in (
            (cert_path, creds.cert_pem),
            (key_path, creds.key_pem.reveal().encode()),
        ):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError:
            raise OrchestratorError(
                "the kubeconfig's client certificate and key do not load"
            ) from None
    return ctx
