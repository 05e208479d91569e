"""A throwaway CA, server and client certificates for the tunnel's TLS tests (cryptography)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pki:
    ca_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes
    client_cert_pem: bytes
    client_key_pem: bytes

    def kubeconfig(self, server: str = "https://127.0.0.1:6443") -> str:
        """A kubeconfig shaped as k3s writes /etc/rancher/k3s/k3s.yaml."""

        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode()

        return (
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- cluster:\n    certificate-authority-data: {b64(self.ca_pem)}\n"
            f"    server: {server}\n  name: default\n"
            "contexts:\n- context:\n    cluster: default\n    user: default\n  name: default\n"
            "current-context: default\npreferences: {}\n"
            "users:\n- name: default\n  user:\n"
            f"    client-certificate-data: {b64(self.client_cert_pem)}\n"
            f"    client-key-data: {b64(self.client_key_pem)}\n"
        )


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    sans: tuple[str, ...] = (),
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        alt: list[x509.GeneralName] = []
        for san in sans:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                alt.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(signer, hashes.SHA256())


def make_pki(server_sans: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Pki:
    ca_key = _key()
    ca = _cert("k3s-server-ca", ca_key, None, ca_key, ca=True)
    server_key = _key()
    server = _cert("k3s", server_key, ca.subject, ca_key, sans=server_sans)
    client_key = _key()
    client = _cert("system:admin", client_key, ca.subject, ca_key)
    pem = serialization.Encoding.PEM
    return Pki(
        ca.public_bytes(pem),
        server.public_bytes(pem),
        _pem_key(server_key),
        client.public_bytes(pem),
        _pem_key(client_key),
    )
