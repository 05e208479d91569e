"""The exporter toolkit's web config file (`--web-config`): read it, refuse what fleetkit cannot do.

Every key of prometheus/exporter-toolkit's format is either implemented with
its meaning there or refused when the file is read (a MonitoringError naming the
key and why, exit 2), never ignored: a web config that silently served plain
HTTP or let any client in would fail open. What Python's ssl cannot do exactly
(unverified client certificates, several curves, TLS 1.0/1.1) is refused.
Paths are relative to the file; inline PEM (`cert`, `key`, `client_ca`) works.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetkit.errors import MonitoringError, Position
from fleetkit.yamlpos import load_yaml, position_of

# client_auth_type -> verify mode; the two Go modes that accept a certificate without
# verifying it cannot be expressed with Python's ssl and are refused (UNVERIFIED).
CLIENT_AUTH_TYPES: Mapping[str, ssl.VerifyMode] = MappingProxyType(
    {
        "NoClientCert": ssl.CERT_NONE,
        "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
        "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
    }
)
UNVERIFIED_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert", "RequireClientCert")

TLS_VERSIONS: Mapping[str, ssl.TLSVersion] = MappingProxyType(
    {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
)
OLD_TLS_VERSIONS = ("TLS10", "TLS11")

# Go's tls.CipherSuites() names -> OpenSSL names (TLS 1.2 and below).
TLS12_CIPHERS: Mapping[str, str] = MappingProxyType(
    {
        "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    }
)
# TLS 1.3 suites: accepted names, not configurable (in Go either).
TLS13_CIPHERS = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")

CURVES: Mapping[str, str] = MappingProxyType(
    {
        "CurveP256": "prime256v1",
        "CurveP384": "secp384r1",
        "CurveP521": "secp521r1",
        "X25519": "X25519",
    }
)

# http_server_config.headers: the only headers exporter-toolkit lets you set, with the
# values it allows (None: any value).
EXTRA_HEADERS: Mapping[str, tuple[str, ...] | None] = MappingProxyType(
    {
        "Strict-Transport-Security": None,
        "X-Content-Type-Options": ("nosniff",),
        "X-Frame-Options": ("deny", "sameorigin"),
        "X-XSS-Protection": None,
        "Content-Security-Policy": None,
    }
)

BCRYPT_HASH = re.compile(r"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

TOP_KEYS = ("tls_server_config", "http_server_config", "basic_auth_users", "rate_limit")
TLS_KEYS = (
    "cert",
    "key",
    "client_ca",
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "client_allowed_sans",
    "min_version",
    "max_version",
    "cipher_suites",
    "prefer_server_cipher_suites",
    "curve_preferences",
)
HTTP_KEYS = ("http2", "headers")
RATE_KEYS = ("interval", "burst")


@dataclass(frozen=True)
class WebConfig:
    """TLS, headers, rate limit and basic auth for /metrics (exporter-toolkit's web config)."""

    cert_file: Path | None = None
    key_file: Path | None = None
    cert: str | None = None
    key: str | None = None
    client_ca_file: Path | None = None
    client_ca: str | None = None
    client_auth_type: str = "NoClientCert"
    client_allowed_sans: tuple[str, ...] | None = None
    min_version: str = "TLS12"
    max_version: str = "TLS13"
    cipher_suites: tuple[str, ...] = ()
    prefer_server_cipher_suites: bool = True
    curve_preferences: tuple[str, ...] = ()
    http2: bool = True
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    rate_limit_interval_s: float = 0.0
    rate_limit_burst: int = 0
    basic_auth_users: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def tls(self) -> bool:
        """TLS is on when any TLS key is set (as exporter-toolkit's IsEnabled)."""
        return any(
            v is not None
            for v in (
                self.cert_file,
                self.key_file,
                self.cert,
                self.key,
                self.client_ca_file,
                self.client_ca,
            )
        ) or (self.client_auth_type != "NoClientCert")

    def ssl_context(self) -> ssl.SSLContext:
        """The server-side TLS context this config describes (MonitoringError if it cannot be)."""
        try:
            return self._ssl_context()
        except (ssl.SSLError, OSError, ValueError) as err:
            raise MonitoringError(f"web config: cannot set up TLS: {err}") from None

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = TLS_VERSIONS[self.min_version]
        ctx.maximum_version = TLS_VERSIONS[self.max_version]
        if self.cipher_suites:
            tls12 = [TLS12_CIPHERS[c] for c in self.cipher_suites if c in TLS12_CIPHERS]
            if tls12:
                ctx.set_ciphers(":".join(tls12))
            else:  # only TLS 1.3 suites named: no TLS 1.2 suite is allowed, as in Go
                ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if self.prefer_server_cipher_suites:
            ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        else:
            ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        if self.curve_preferences:
            ctx.set_ecdh_curve(CURVES[self.curve_preferences[0]])
        _load_chain(ctx, self)
        ctx.verify_mode = CLIENT_AUTH_TYPES[self.client_auth_type]
        if self.client_ca_file is not None:
            ctx.load_verify_locations(cafile=str(self.client_ca_file))
        elif self.client_ca is not None:
            ctx.load_verify_locations(cadata=self.client_ca)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def client_allowed(self, peercert: Mapping[str, Any] | None) -> bool:
        """True when client_allowed_sans is unset or the verified client certificate has
        one of its SANs (DNS, e-mail, IP or URI, exact match as exporter-toolkit)."""
        if self.client_allowed_sans is None:
            return True
        if not peercert:
            return False
        allowed = set(self.client_allowed_sans)
        for kind, raw in peercert.get("subjectAltName", ()):
            value = str(ipaddress.ip_address(raw.strip())) if kind == "IP Address" else raw
            if kind in ("DNS", "email", "IP Address", "URI") and value in allowed:
                return True
        return False


def _load_chain(ctx: ssl.SSLContext, cfg: WebConfig) -> None:
    """Load the server certificate and key from files or inline PEM (via a private temp dir)."""
    if cfg.cert_file is not None and cfg.key_file is not None:
        ctx.load_cert_chain(str(cfg.cert_file), str(cfg.key_file))
        return
    with tempfile.TemporaryDirectory(prefix="fk-webcfg-") as folder:
        cert = cfg.cert_file or _private_file(Path(folder) / "cert.pem", cfg.cert or "")
        key = cfg.key_file or _private_file(Path(folder) / "key.pem", cfg.key or "")
        ctx.load_cert_chain(str(cert), str(key))


def _private_file(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return path


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration ('1s', '500ms', '1m30s') -> seconds; ValueError if not one."""
    text = text.strip()
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise ValueError(text)
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not text:
        raise ValueError(text)
    return total


class _Reader:
    """Reads one web config file, raising MonitoringError at the key's file:line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, message: str, where: object = None, key: object = None) -> MonitoringError:
        return MonitoringError(
            f"web config: {message}", position=position_of(where, key) or Position(self.path)
        )

    def section(self, data: Mapping[str, Any], name: str, known: tuple[str, ...]) -> dict[str, Any]:
        value = data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{name} must be a mapping", data, name)
        for key in value:
            if key not in known:
                raise self.fail(
                    f"unknown key {key!r} in {name} (known: {', '.join(known)})", value, key
                )
        return value

    def string(self, section: Mapping[str, Any], key: str) -> str | None:
        value = section.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(f"{key} must be a string", section, key)
        return value

    def strings(self, section: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
        value = section.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{key} must be a list of strings", section, key)
        return tuple(value)

    def boolean(self, section: Mapping[str, Any], key: str, default: bool) -> bool:
        value = section.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{key} must be true or false", section, key)
        return value

    def file(self, section: Mapping[str, Any], key: str) -> Path | None:
        value = self.string(section, key)
        if value is None:
            return None
        p = Path(value)
        p = p if p.is_absolute() else self.path.parent / p
        if not p.is_file():
            raise self.fail(f"{key} {p} does not exist", section, key)
        return p


def load_web_config(path: Path) -> WebConfig:
    """Read a web config file; every mistake or unsupported key is a MonitoringError."""
    r = _Reader(path)
    data = load_yaml(path, MonitoringError)
    if data is None:
        return WebConfig()
    if not isinstance(data, dict):
        raise r.fail("expected a mapping", data)
    for key in data:
        if key not in TOP_KEYS:
            raise r.fail(f"unknown key {key!r} (known: {', '.join(TOP_KEYS)})", data, key)
    tls = r.section(data, "tls_server_config", TLS_KEYS)
    http = r.section(data, "http_server_config", HTTP_KEYS)
    rate = r.section(data, "rate_limit", RATE_KEYS)
    interval, burst = _rate_limit(r, rate)
    cfg = WebConfig(
        cert_file=r.file(tls, "cert_file"),
        key_file=r.file(tls, "key_file"),
        cert=r.string(tls, "cert"),
        key=r.string(tls, "key"),
        client_ca_file=r.file(tls, "client_ca_file"),
        client_ca=r.string(tls, "client_ca"),
        client_auth_type=_client_auth(r, tls),
        client_allowed_sans=r.strings(tls, "client_allowed_sans"),
        min_version=_version(r, tls, "min_version", "TLS12"),
        max_version=_version(r, tls, "max_version", "TLS13"),
        cipher_suites=_ciphers(r, tls),
        prefer_server_cipher_suites=r.boolean(tls, "prefer_server_cipher_suites", True),
        curve_preferences=_curves(r, tls),
        http2=r.boolean(http, "http2", True),
        headers=MappingProxyType(_headers(r, http)),
        rate_limit_interval_s=interval,
        rate_limit_burst=burst,
        basic_auth_users=MappingProxyType(_users(r, data)),
    )
    _check_tls(r, cfg, data, tls)
    return cfg


def _client_auth(r: _Reader, tls: Mapping[str, Any]) -> str:
    auth = r.string(tls, "client_auth_type") or "NoClientCert"
    if auth in UNVERIFIED_CLIENT_AUTH:
        raise r.fail(
            f"client_auth_type {auth} is not supported: Python's ssl verifies every client"
            " certificate it accepts; use RequireAndVerifyClientCert (or VerifyClientCertIfGiven)",
            tls,
            "client_auth_type",
        )
    if auth not in CLIENT_AUTH_TYPES:
        raise r.fail(
            f"client_auth_type {auth!r} is not one of {', '.join(CLIENT_AUTH_TYPES)}",
            tls,
            "client_auth_type",
        )
    return auth


def _version(r: _Reader, tls: Mapping[str, Any], key: str, default: str) -> str:
    value = r.string(tls, key) or default
    if value in OLD_TLS_VERSIONS:
        raise r.fail(
            f"{key} {value} is not supported: fleetkit serves TLS 1.2 and 1.3 only"
            " (the system OpenSSL refuses older versions at its default security level)",
            tls,
            key,
        )
    if value not in TLS_VERSIONS:
        raise r.fail(f"{key} {value!r} is not one of TLS12, TLS13", tls, key)
    return value


def _ciphers(r: _Reader, tls: Mapping[str, Any]) -> tuple[str, ...]:
    names = r.strings(tls, "cipher_suites") or ()
    for name in names:
        if name not in TLS12_CIPHERS and name not in TLS13_CIPHERS:
            raise r.fail(
                f"cipher_suites: unknown or insecure cipher {name!r} (Go's tls.CipherSuites names)",
                tls,
                "cipher_suites",
            )
    return names


def _curves(r: _Reader, tls: Mapping[str, Any]) -> tuple[str, ...]:
    names = r.strings(tls, "curve_preferences") or ()
    for name in names:
        if name not in CURVES:
            raise r.fail(
                f"curve_preferences: unknown curve {name!r} (one of {', '.join(CURVES)})",
                tls,
                "curve_preferences",
            )
    if len(names) > 1:
        raise r.fail(
            "curve_preferences lists several curves; fleetkit can offer exactly one"
            " (Python's ssl sets a single curve): list only the one to use",
            tls,
            "curve_preferences",
        )
    return names


def _headers(r: _Reader, http: Mapping[str, Any]) -> dict[str, str]:
    raw = http.get("headers") or {}
    if not isinstance(raw, dict):
        raise r.fail("headers must be a mapping", http, "headers")
    out: dict[str, str] = {}
    for name, value in raw.items():
        if name not in EXTRA_HEADERS:
            raise r.fail(
                f"HTTP header {name!r} can not be configured (one of {', '.join(EXTRA_HEADERS)})",
                raw,
                name,
            )
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise r.fail(f"header {name} must be a one-line string", raw, name)
        allowed = EXTRA_HEADERS[name]
        if allowed is not None and value not in allowed:
            raise r.fail(
                f"invalid value for {name}: expected one of {', '.join(allowed)}, got {value!r}",
                raw,
                name,
            )
        if value:
            out[str(name)] = value
    return out


def _rate_limit(r: _Reader, rate: Mapping[str, Any]) -> tuple[float, int]:
    if not rate:
        return 0.0, 0
    interval_raw = rate.get("interval", "0")
    burst = rate.get("burst", 0)
    try:
        interval = parse_duration(str(interval_raw))
    except ValueError:
        raise r.fail(f"rate_limit interval {interval_raw!r} is not a duration", rate) from None
    if not isinstance(burst, int) or isinstance(burst, bool) or burst < 0:
        raise r.fail("rate_limit burst must be a whole number >= 0", rate, "burst")
    return interval, burst


def _users(r: _Reader, data: Mapping[str, Any]) -> dict[str, str]:
    users = data.get("basic_auth_users") or {}
    if not isinstance(users, dict):
        raise r.fail("basic_auth_users must be a mapping", data, "basic_auth_users")
    out: dict[str, str] = {}
    for user, hashed in users.items():
        if not isinstance(user, str) or ":" in user or not user:
            raise r.fail(
                f"basic_auth_users: user {user!r} can never log in (a name with ':' or empty)",
                users,
                user,
            )
        if not isinstance(hashed, str) or not BCRYPT_HASH.match(hashed):
            raise r.fail(
                f"basic_auth_users: the password of {user!r} is not a bcrypt hash"
                " ($2a$/$2b$/$2y$, cost 04-31; htpasswd -nBC 10 \"\" | tr -d ':\\n')",
                users,
                user,
            )
        out[user] = hashed
    return out


def _check_tls(r: _Reader, cfg: WebConfig, data: Mapping[str, Any], tls: Mapping[str, Any]) -> None:
    """Cross-key rules (as exporter-toolkit's ConfigToTLSConfig), then build the context once."""
    if not cfg.tls:
        if tls:  # exporter-toolkit would serve plain HTTP and ignore these: refuse instead
            raise r.fail(
                f"{', '.join(tls)} given without a certificate (cert_file/cert, key_file/key):"
                " TLS would not be on",
                data,
                "tls_server_config",
            )
        return
    for file_key, inline_key in (
        ("cert_file", "cert"),
        ("key_file", "key"),
        ("client_ca_file", "client_ca"),
    ):
        if tls.get(file_key) and tls.get(inline_key):
            raise r.fail(f"give {file_key} or {inline_key}, not both", tls, inline_key)
    if cfg.cert_file is None and cfg.cert is None:
        raise r.fail("missing one of cert or cert_file", data, "tls_server_config")
    if cfg.key_file is None and cfg.key is None:
        raise r.fail("missing one of key or key_file", data, "tls_server_config")
    has_ca = cfg.client_ca_file is not None or cfg.client_ca is not None
    if has_ca and cfg.client_auth_type == "NoClientCert":
        raise r.fail(
            "client CA's have been configured without a client_auth_type", data, "tls_server_config"
        )
    if cfg.client_auth_type != "NoClientCert" and not has_ca:
        raise r.fail(
            f"client_auth_type {cfg.client_auth_type} needs client_ca_file or client_ca"
            " (fleetkit does not trust the system CAs for client certificates)",
            tls,
            "client_auth_type",
        )
    if cfg.client_allowed_sans is not None and cfg.client_auth_type != "RequireAndVerifyClientCert":
        raise r.fail(
            "client_allowed_sans requires client_auth_type RequireAndVerifyClientCert",
            tls,
            "client_allowed_sans",
        )
    if TLS_VERSIONS[cfg.min_version] > TLS_VERSIONS[cfg.max_version]:
        raise r.fail("min_version is above max_version", tls, "min_version")
    if (
        cfg.cipher_suites
        and not any(c in TLS12_CIPHERS for c in cfg.cipher_suites)
        and cfg.max_version != "TLS13"
    ):
        raise r.fail(
            "cipher_suites names only TLS 1.3 suites but max_version is TLS12: no suite is left",
            tls,
            "cipher_suites",
        )
    try:
        cfg._ssl_context()
    except (ssl.SSLError, OSError, ValueError) as err:
        raise r.fail(f"cannot load the TLS settings: {err}", data, "tls_server_config") from None
