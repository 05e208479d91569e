"""Serving /metrics: listen addresses, the web config (TLS, basic auth) and the app."""

from __future__ import annotations

import base64
import datetime
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fleetkit.errors import MonitoringError
from fleetkit.monitoring import web


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":9469", ("0.0.0.0", 9469)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:9000", ("::1", 9000)),
        ("0.0.0.0", ("0.0.0.0", 9469)),
        ("::", ("::", 9469)),
    ],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert web.parse_listen(text) == expected


@pytest.mark.parametrize("text", ["host:port", "1.2.3.4:70000"])
def test_bad_listen_addresses_are_bad_input(text: str) -> None:
    with pytest.raises(MonitoringError) as err:
        web.parse_listen(text)
    assert err.value.exit_code == 2


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    crt, pem = folder / "server.crt", folder / "server.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return crt, pem


HASH = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()


def test_web_config_with_tls_and_users_loads(tmp_path: Path) -> None:
    self_signed(tmp_path)
    cfg_file = tmp_path / "web.yml"
    cfg_file.write_text(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        f"basic_auth_users:\n  prom: '{HASH}'\n"
    )
    cfg = web.load_web_config(cfg_file)
    assert cfg.tls and cfg.cert_file == tmp_path / "server.crt"
    assert dict(cfg.basic_auth_users) == {"prom": HASH}


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("tls_server_config: {}\nbasic_auth: {}\n", 2, "unknown key 'basic_auth'"),
        ("tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n", 2, "does not exist"),
        ("tls_server_config:\n  client_auth_type: Maybe\n", 2, "client_auth_type"),
    ],
)
def test_web_config_mistakes_name_file_and_line(
    tmp_path: Path, text: str, line: int, match: str
) -> None:
    cfg_file = tmp_path / "web.yml"
    cfg_file.write_text(text)
    with pytest.raises(MonitoringError, match=match) as err:
        web.load_web_config(cfg_file)
    assert str(err.value).startswith(f"{cfg_file}:{line}")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_checks_bcrypt_and_remembers_good_passwords() -> None:
    auth = web.BasicAuth({"prom": HASH})
    assert auth.allows(basic("prom", "s3cret"))
    assert auth.allows(basic("prom", "s3cret"))
    assert not auth.allows(basic("prom", "wrong"))
    assert not auth.allows(basic("eve", "s3cret"))
    assert not auth.allows("Basic !!!notbase64")
    assert not auth.allows(None)


@pytest.fixture
def server() -> Iterator[web.Server]:
    cycles = {"ready": False}
    app = web.MetricsApp(
        lambda accept: (b"fleetkit_host_up 1\n", "text/plain; version=0.0.4"),
        ready=lambda: cycles["ready"],
    )
    srv = web.serve(app, "127.0.0.1", 0)
    srv.ready_flag = cycles  # type: ignore[attr-defined]
    yield srv
    srv.shutdown()


def get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read()


def test_metrics_index_health_and_readiness(server: web.Server) -> None:
    base = server.url.removesuffix("/metrics")
    assert get(server.url) == (200, b"fleetkit_host_up 1\n")
    assert get(base + "/-/healthy")[0] == 200
    assert get(base + "/-/ready")[0] == 503
    server.ready_flag["ready"] = True  # type: ignore[attr-defined]
    assert get(base + "/-/ready")[0] == 200
    assert get(base + "/")[0] == 200
    assert get(base + "/nope")[0] == 404


def test_gzip_when_asked(server: web.Server) -> None:
    request = urllib.request.Request(server.url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"


def test_tls_and_basic_auth_protect_metrics(tmp_path: Path) -> None:
    crt, key = self_signed(tmp_path)
    cfg = web.WebConfig(cert_file=crt, key_file=key, basic_auth_users={"prom": HASH})
    app = web.MetricsApp(
        lambda accept: (b"x 1\n", "text/plain"),
        ready=lambda: True,
        auth=web.BasicAuth(cfg.basic_auth_users),
    )
    srv = web.serve(app, "127.0.0.1", 0, cfg)
    try:
        assert srv.url.startswith("https://127.0.0.1:")
        ctx = ssl.create_default_context(cafile=str(crt))
        ctx.check_hostname = False
        url = srv.url
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx))
        with pytest.raises(urllib.error.HTTPError) as denied:
            opener.open(url, timeout=5)
        assert denied.value.code == 401
        denied.value.close()
        request = urllib.request.Request(url, headers={"Authorization": basic("prom", "s3cret")})
        with opener.open(request, timeout=5) as resp:
            assert resp.read() == b"x 1\n"
        with pytest.raises(OSError):  # plain HTTP to the TLS port gets no answer
            urllib.request.urlopen(url.replace("https", "http"), timeout=5)
    finally:
        srv.shutdown()


def test_a_port_in_use_is_a_clear_error(server: web.Server) -> None:
    host, port = server.address
    app = web.MetricsApp(lambda accept: (b"", "text/plain"), ready=lambda: True)
    with pytest.raises(MonitoringError, match=f"cannot listen on {host}:{port}"):
        web.serve(app, host, port)
