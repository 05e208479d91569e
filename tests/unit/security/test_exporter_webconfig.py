"""Finding 5: --web-config fails closed. Each exporter-toolkit key is honoured or refused.

Every test serves real TLS on loopback with certificates made here, and asks
with Python's own client: what is refused must not get metrics, what is
unsupported must not load (MonitoringError, exit 2, naming the key).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import ssl
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from tests.unit.security.certs import CA, Pem

from fleetkit.errors import MonitoringError
from fleetkit.monitoring import web
from fleetkit.monitoring.basicauth import BasicAuth

pytestmark = pytest.mark.unit

HASH = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()


@pytest.fixture
def ca(tmp_path: Path) -> CA:
    return CA(tmp_path)


@pytest.fixture
def server_pem(ca: CA) -> Pem:
    return ca.server()


def load(tmp_path: Path, text: str) -> web.WebConfig:
    cfg = tmp_path / "web.yml"
    cfg.write_text(text)
    return web.load_web_config(cfg)


def refused(tmp_path: Path, text: str, match: str) -> MonitoringError:
    with pytest.raises(MonitoringError, match=match) as err:
        load(tmp_path, text)
    assert err.value.exit_code == 2
    assert str(tmp_path / "web.yml") in str(err.value)
    return err.value


def tls_block(pem: Pem, extra: str = "") -> str:
    return f"tls_server_config:\n  cert_file: {pem.cert}\n  key_file: {pem.key}\n{extra}"


@pytest.fixture
def serving() -> Iterator[list[web.Server]]:
    servers: list[web.Server] = []
    yield servers
    for s in servers:
        s.shutdown()


def start(serving: list[web.Server], cfg: web.WebConfig | None) -> web.Server:
    app = web.MetricsApp(lambda accept: (b"x 1\n", "text/plain"), ready=lambda: True)
    srv = web.serve(app, "127.0.0.1", 0, cfg)
    serving.append(srv)
    return srv


def client(
    ca: CA,
    *,
    cert: Pem | None = None,
    min_v: ssl.TLSVersion | None = None,
    max_v: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    curve: str | None = None,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(ca.path))
    if cert is not None:
        ctx.load_cert_chain(str(cert.cert), str(cert.key))
    if min_v is not None:
        ctx.minimum_version = min_v
    if max_v is not None:
        ctx.maximum_version = max_v
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    if curve is not None:
        ctx.set_ecdh_curve(curve)
    return ctx


def fetch(
    srv: web.Server, ctx: ssl.SSLContext | None, path: str = "/metrics", **headers: str
) -> tuple[int, bytes, http.client.HTTPResponse]:
    host, port = srv.address
    conn: http.client.HTTPConnection
    if ctx is None:
        conn = http.client.HTTPConnection(host, port, timeout=5)
    else:
        conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), resp
    finally:
        conn.close()


def handshake(srv: web.Server, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    import socket

    raw = socket.create_connection(srv.address, timeout=5)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def denied(srv: web.Server, ctx: ssl.SSLContext) -> bool:
    """True when the server gives this client no metrics (handshake refused or closed)."""
    try:
        status, body, _ = fetch(srv, ctx)
    except (ssl.SSLError, OSError, http.client.HTTPException):
        return True
    return status != 200 or body != b"x 1\n"


# --- tls_server_config: certificates ----------------------------------------------


def test_cert_and_key_files_serve_tls_only(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    srv = start(serving, load(tmp_path, tls_block(server_pem)))
    assert srv.url.startswith("https://")
    assert fetch(srv, client(ca))[:2] == (200, b"x 1\n")
    with pytest.raises((OSError, http.client.HTTPException)):
        fetch(srv, None)


def test_inline_cert_and_key_serve_tls_not_plain_http(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    cert = "\n".join("    " + line for line in server_pem.cert_text.splitlines())
    key = "\n".join("    " + line for line in server_pem.key_text.splitlines())
    cfg = load(tmp_path, f"tls_server_config:\n  cert: |\n{cert}\n  key: |\n{key}\n")
    assert cfg.tls
    srv = start(serving, cfg)
    assert fetch(srv, client(ca))[:2] == (200, b"x 1\n")
    with pytest.raises((OSError, http.client.HTTPException)):
        fetch(srv, None)


def test_a_file_and_its_inline_twin_together_are_refused(tmp_path: Path, server_pem: Pem) -> None:
    refused(tmp_path, tls_block(server_pem, "  cert: inline\n"), "cert_file or cert")


def test_tls_keys_without_a_certificate_are_refused_not_plain_http(tmp_path: Path, ca: CA) -> None:
    refused(
        tmp_path,
        f"tls_server_config:\n  client_ca_file: {ca.path}\n"
        "  client_auth_type: RequireAndVerifyClientCert\n",
        "missing one of cert or cert_file",
    )
    refused(tmp_path, "tls_server_config:\n  min_version: TLS13\n", "without a certificate")


# --- client certificates --------------------------------------------------------------


@pytest.mark.parametrize("inline", [False, True])
def test_require_and_verify_client_cert(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server], inline: bool
) -> None:
    if inline:
        text = "\n".join("    " + line for line in ca.path.read_text().splitlines())
        ca_line = f"  client_ca: |\n{text}\n"
    else:
        ca_line = f"  client_ca_file: {ca.path}\n"
    cfg = load(
        tmp_path,
        tls_block(server_pem, ca_line + "  client_auth_type: RequireAndVerifyClientCert\n"),
    )
    srv = start(serving, cfg)
    good = ca.issue("prom", [x509.DNSName("prometheus.example")], client=True)
    other_ca = CA(tmp_path / "..", "other-ca")
    stranger = other_ca.issue("stranger", [x509.DNSName("prometheus.example")], client=True)
    assert fetch(srv, client(ca, cert=good))[:2] == (200, b"x 1\n")
    assert denied(srv, client(ca))
    assert denied(srv, client(ca, cert=stranger))


def test_verify_client_cert_if_given(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    cfg = load(
        tmp_path,
        tls_block(
            server_pem,
            f"  client_ca_file: {ca.path}\n  client_auth_type: VerifyClientCertIfGiven\n",
        ),
    )
    srv = start(serving, cfg)
    stranger = CA(tmp_path / "..", "other-ca").issue("s", [x509.DNSName("x")], client=True)
    assert fetch(srv, client(ca))[0] == 200
    assert denied(srv, client(ca, cert=stranger))


@pytest.mark.parametrize("mode", ["RequestClientCert", "RequireAnyClientCert", "RequireClientCert"])
def test_client_auth_types_that_skip_verification_are_refused(
    tmp_path: Path, ca: CA, server_pem: Pem, mode: str
) -> None:
    refused(
        tmp_path,
        tls_block(server_pem, f"  client_ca_file: {ca.path}\n  client_auth_type: {mode}\n"),
        f"client_auth_type {mode} is not supported",
    )


def test_client_ca_without_client_auth_and_auth_without_ca_are_refused(
    tmp_path: Path, ca: CA, server_pem: Pem
) -> None:
    refused(tmp_path, tls_block(server_pem, f"  client_ca_file: {ca.path}\n"), "without a client")
    refused(
        tmp_path,
        tls_block(server_pem, "  client_auth_type: RequireAndVerifyClientCert\n"),
        "needs client_ca_file or client_ca",
    )


def test_client_allowed_sans_lets_in_only_a_listed_san(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    cfg = load(
        tmp_path,
        tls_block(
            server_pem,
            f"  client_ca_file: {ca.path}\n  client_auth_type: RequireAndVerifyClientCert\n"
            "  client_allowed_sans: [prometheus.example, 10.0.0.7, spiffe://fk/prom,"
            " ops@example.com]\n",
        ),
    )
    srv = start(serving, cfg)
    for i, san in enumerate(
        [
            x509.DNSName("prometheus.example"),
            x509.IPAddress(ipaddress.ip_address("10.0.0.7")),
            x509.UniformResourceIdentifier("spiffe://fk/prom"),
            x509.RFC822Name("ops@example.com"),
        ]
    ):
        allowed = ca.issue(f"ok{i}", [san], client=True)
        assert fetch(srv, client(ca, cert=allowed))[:2] == (200, b"x 1\n"), san
    other = ca.issue("other", [x509.DNSName("other.example")], client=True)
    assert denied(srv, client(ca, cert=other))  # CA-signed, wrong SAN: no metrics


def test_client_allowed_sans_needs_a_required_verified_certificate(
    tmp_path: Path, ca: CA, server_pem: Pem
) -> None:
    refused(
        tmp_path,
        tls_block(
            server_pem,
            f"  client_ca_file: {ca.path}\n  client_auth_type: VerifyClientCertIfGiven\n"
            "  client_allowed_sans: [a]\n",
        ),
        "client_allowed_sans requires",
    )


# --- versions, ciphers, curves ----------------------------------------------------------


def test_min_version_tls13_refuses_a_tls12_client(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    srv = start(serving, load(tmp_path, tls_block(server_pem, "  min_version: TLS13\n")))
    assert denied(srv, client(ca, max_v=ssl.TLSVersion.TLSv1_2))
    assert fetch(srv, client(ca))[0] == 200


def test_max_version_tls12_refuses_a_tls13_only_client(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    srv = start(serving, load(tmp_path, tls_block(server_pem, "  max_version: TLS12\n")))
    assert denied(srv, client(ca, min_v=ssl.TLSVersion.TLSv1_3))
    with handshake(srv, client(ca)) as tls:
        assert tls.version() == "TLSv1.2"


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("  min_version: TLS10\n", "min_version TLS10 is not supported"),
        ("  max_version: TLS11\n", "max_version TLS11 is not supported"),
        ("  min_version: TLS99\n", "min_version 'TLS99' is not one of"),
        ("  min_version: TLS13\n  max_version: TLS12\n", "min_version is above max_version"),
    ],
)
def test_versions_that_cannot_be_served_are_refused(
    tmp_path: Path, server_pem: Pem, extra: str, match: str
) -> None:
    refused(tmp_path, tls_block(server_pem, extra), match)


def test_cipher_suites_limit_tls12_ciphers(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    cfg = load(
        tmp_path,
        tls_block(
            server_pem,
            "  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n",
        ),
    )
    srv = start(serving, cfg)
    with handshake(srv, client(ca)) as tls:
        assert tls.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"
    assert denied(srv, client(ca, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"))


@pytest.mark.parametrize(("prefer", "chosen"), [(True, "AES256"), (False, "AES128")])
def test_prefer_server_cipher_suites(
    tmp_path: Path,
    ca: CA,
    server_pem: Pem,
    serving: list[web.Server],
    prefer: bool,
    chosen: str,
) -> None:
    cfg = load(
        tmp_path,
        tls_block(
            server_pem,
            "  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"
            " TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n"
            f"  prefer_server_cipher_suites: {str(prefer).lower()}\n",
        ),
    )
    srv = start(serving, cfg)
    ctx = client(ca, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384")
    with handshake(srv, ctx) as tls:
        assert tls.cipher()[0] == f"ECDHE-ECDSA-{chosen}-GCM-SHA" + (
            "384" if chosen == "AES256" else "256"
        )


def test_only_tls13_cipher_suites_mean_no_tls12(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    srv = start(
        serving,
        load(tmp_path, tls_block(server_pem, "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")),
    )
    assert denied(srv, client(ca, max_v=ssl.TLSVersion.TLSv1_2))
    assert fetch(srv, client(ca))[0] == 200
    refused(
        tmp_path,
        tls_block(server_pem, "  max_version: TLS12\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"),
        "no suite is left",
    )


def test_unknown_and_insecure_ciphers_are_refused(tmp_path: Path, server_pem: Pem) -> None:
    refused(
        tmp_path,
        tls_block(server_pem, "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"),
        "unknown or insecure cipher",
    )


def test_curve_preferences_one_curve_is_enforced(
    tmp_path: Path, ca: CA, server_pem: Pem, serving: list[web.Server]
) -> None:
    srv = start(
        serving, load(tmp_path, tls_block(server_pem, "  curve_preferences: [CurveP384]\n"))
    )
    assert denied(srv, client(ca, curve="prime256v1"))
    assert fetch(srv, client(ca, curve="secp384r1"))[0] == 200


def test_several_or_unknown_curves_are_refused(tmp_path: Path, server_pem: Pem) -> None:
    refused(
        tmp_path,
        tls_block(server_pem, "  curve_preferences: [X25519, CurveP256]\n"),
        "several curves",
    )
    refused(tmp_path, tls_block(server_pem, "  curve_preferences: [P999]\n"), "unknown curve")


# --- http_server_config ---------------------------------------------------------------


@pytest.mark.parametrize("http2", ["true", "false"])
def test_http2_is_accepted_and_http11_is_negotiated(
    tmp_path: Path,
    ca: CA,
    server_pem: Pem,
    serving: list[web.Server],
    http2: str,
) -> None:
    cfg = load(tmp_path, tls_block(server_pem) + f"http_server_config:\n  http2: {http2}\n")
    srv = start(serving, cfg)
    ctx = client(ca)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with handshake(srv, ctx) as tls:
        assert tls.selected_alpn_protocol() == "http/1.1"


def test_headers_are_sent_on_every_answer(tmp_path: Path, serving: list[web.Server]) -> None:
    cfg = load(
        tmp_path,
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
        "    X-Content-Type-Options: nosniff\n    Content-Security-Policy: default-src 'none'\n"
        f"basic_auth_users:\n  prom: '{HASH}'\n",
    )
    srv = start(serving, cfg)
    status, _, resp = fetch(srv, None)
    assert status == 401
    assert resp.headers["X-Frame-Options"] == "deny"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'"


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ("    Server: nginx\n", "can not be configured"),
        ("    X-Frame-Options: allow\n", "invalid value for X-Frame-Options"),
        ("    X-Content-Type-Options: sniff\n", "invalid value for X-Content-Type-Options"),
    ],
)
def test_headers_that_exporter_toolkit_refuses_are_refused(
    tmp_path: Path, headers: str, match: str
) -> None:
    refused(tmp_path, f"http_server_config:\n  headers:\n{headers}", match)


# --- rate_limit, unknown keys --------------------------------------------------------


def test_rate_limit_answers_429_past_the_burst(tmp_path: Path, serving: list[web.Server]) -> None:
    srv = start(serving, load(tmp_path, "rate_limit:\n  interval: 1h\n  burst: 2\n"))
    assert [fetch(srv, None)[0] for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("tls_server_config: {}\nbasic_auth: {}\n", 2),
        ("tls_server_config:\n  cert_fil: x\n", 2),
        ("http_server_config:\n  http3: true\n", 2),
        ("rate_limit:\n  every: 1s\n", 2),
    ],
)
def test_unknown_keys_are_refused_at_their_line(tmp_path: Path, text: str, line: int) -> None:
    err = refused(tmp_path, text, "unknown key")
    assert str(err).startswith(f"{tmp_path / 'web.yml'}:{line}")


# --- basic_auth_users ----------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    ["prom: s3cret", "prom: '$1$abc$0123456789'", "prom: '$2y$10$short'", "'a:b': '" + HASH + "'"],
)
def test_entries_that_can_never_log_in_are_refused(tmp_path: Path, entry: str) -> None:
    refused(tmp_path, f"basic_auth_users:\n  {entry}\n", "basic_auth_users")


def basic(user: str, password: str, scheme: str = "Basic") -> str:
    return f"{scheme} " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_the_basic_scheme_is_case_insensitive(scheme: str) -> None:
    auth = BasicAuth({"prom": HASH})
    assert auth.allows(basic("prom", "s3cret", scheme))
    assert not auth.allows(basic("prom", "wrong", scheme))


def test_a_2y_hash_from_htpasswd_logs_in() -> None:
    auth = BasicAuth({"prom": HASH.replace("$2b$", "$2y$", 1)})
    assert auth.allows(basic("prom", "s3cret"))


def _median_ms(auth: BasicAuth, user: str, tries: int = 5) -> float:
    times = []
    for i in range(tries):
        start_t = time.perf_counter()
        assert not auth.allows(basic(user, f"wrong-{user}-{i}"))
        times.append((time.perf_counter() - start_t) * 1000)
    return statistics.median(times)


def test_unknown_and_known_users_take_the_same_time() -> None:
    auth = BasicAuth({"prom": bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=9)).decode()})
    known = _median_ms(auth, "prom")
    unknown = _median_ms(auth, "eve")
    assert known > 5  # bcrypt really ran
    assert 0.5 < unknown / known < 2.0, (unknown, known)


def test_good_and_bad_checks_are_cached() -> None:
    auth = BasicAuth({"prom": HASH})
    for _ in range(3):
        assert auth.allows(basic("prom", "s3cret"))
        assert not auth.allows(basic("prom", "wrong"))
        assert not auth.allows(basic("eve", "x"))
    assert auth.bcrypt_runs == 3


def test_the_cache_is_bounded() -> None:
    auth = BasicAuth({"prom": HASH}, cache_size=4)
    for i in range(10):
        auth.allows(basic("prom", f"guess{i}"))
    assert auth.allows(basic("prom", "s3cret"))
    assert len(auth._cache) == 4


def test_bcrypt_runs_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent checks never run bcrypt side by side (observed around the real checkpw)."""
    real = bcrypt.checkpw
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def checkpw(password: bytes, hashed: bytes) -> bool:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.02)  # widen the window an unserialised caller would overlap in
            return real(password, hashed)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    auth = BasicAuth({"prom": HASH})
    threads = [
        threading.Thread(target=auth.allows, args=(basic("prom", f"parallel{i}"),))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["most"] == 1
