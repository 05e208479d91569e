"""uri: an HTTP request and a status check, sent from the host (default) or the controller.

From the host (`run_on: host`), the request goes through curl, else wget
(GNU or busybox: GET and POST only); that is what "is the service up from
where it runs" means. From the controller (`run_on: controller`), Python's
urllib sends it directly. Requests change nothing here: changed is always false;
in check mode only GET and HEAD are sent, other methods are skipped.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q
from fleetkit.report.redact import mask_userinfo

SAFE_METHODS = ("GET", "HEAD")


def body_bytes(ctx: ModuleContext) -> bytes | None:
    body = ctx.arg("body")
    if body is None:
        return None
    if ctx.arg("body_format") == "json" and not isinstance(body, str):
        return json.dumps(body).encode()
    return str(body).encode()


def _curl_quoted(text: str) -> str:
    """text as a double-quoted curl config value."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line(data: str) -> bytes:
    return base64.b64encode(data.encode()) + b"\n"


def request_files(ctx: ModuleContext, has_body: bool) -> bytes:
    """The request's URL and headers as three lines for stdin (a curl config, a wgetrc,
    a URL list, each base64): `ps` shows command lines, so no credential goes there."""
    url = str(ctx.arg("url"))
    headers = _headers(ctx, has_body)
    curlrc = "".join(
        [f"url = {_curl_quoted(url)}\n"]
        + [f"header = {_curl_quoted(f'{k}: {v}')}\n" for k, v in headers.items()]
    )
    wgetrc = "".join(f"header = {k}: {v}\n" for k, v in headers.items())
    return _line(curlrc) + _line(wgetrc) + _line(url + "\n")


def _headers(ctx: ModuleContext, has_body: bool) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (ctx.arg("headers") or {}).items()}
    if ctx.arg("body_format") == "json" and has_body:
        headers.setdefault("Content-Type", "application/json")
    return headers


def host_command(ctx: ModuleContext, has_body: bool) -> str:
    """curl (else wget) reading URL and headers from 0600 files made from stdin's first
    lines; the body, if any, is the rest of stdin. busybox wget reads no config file:
    it gets the URL on its command line, and only when the request has no credentials."""
    url = str(ctx.arg("url"))
    method = str(ctx.arg("method"))
    timeout = int(float(ctx.arg("timeout")))
    private = bool(ctx.arg("headers")) or mask_userinfo(url) != url
    plain = "".join(f" {q(f'--header={k}: {v}')}" for k, v in _headers(ctx, has_body).items())
    wget_from = '--config="$t/wgetrc" -i "$t/urls"' if private else f"{plain.lstrip()} {q(url)}"
    insecure_curl = " -k" if not ctx.arg("validate_certs") else ""
    insecure_wget = " --no-check-certificate" if not ctx.arg("validate_certs") else ""
    data_curl = " --data-binary @-" if has_body else ""
    data_wget = ' --post-file="$t/body"' if has_body else ""
    return (
        "umask 077; t=$(mktemp -d) || exit 125\n"
        "trap 'rm -rf \"$t\"' EXIT\n"
        "for f in curlrc wgetrc urls; do\n"
        '  IFS= read -r l && printf %s "$l" | base64 -d > "$t/$f" || exit 125\n'
        "done\n"
        "if command -v curl >/dev/null 2>&1; then\n"
        f'  curl -sS -X {q(method)} -m {timeout}{insecure_curl} -K "$t/curlrc"{data_curl}'
        " -w '\\n%{http_code}'\n"
        "else\n"
        '  cat > "$t/body"\n'
        f'  wget -q -S -O - -T {timeout}{insecure_wget}{data_wget} {wget_from} 2>"$t/h"\n'
        "  echo; s=$(sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9]*\\).*/\\1/p' \"$t/h\" | tail -n1)\n"
        '  printf %s "${s:-000}"\n'
        "fi"
    )


class Uri(Module):
    name = "uri"
    args: ClassVar[dict[str, Arg]] = {
        "url": Arg("str", required=True),
        "method": Arg("str", default="GET"),
        "body": Arg("raw"),
        "body_format": Arg("str", default="raw", choices=("raw", "json")),
        "headers": Arg("dict"),
        "status_code": Arg("list", default=[200]),
        "return_content": Arg("bool", default=False),
        "timeout": Arg("float", default=30.0),
        "validate_certs": Arg("bool", default=True),
        "run_on": Arg("str", default="host", choices=("host", "controller")),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        for key, value in (args.get("headers") or {}).items():
            if any(c in f"{key}{value}" for c in "\r\n\0"):
                return [f"module uri: header {str(key)[:40]!r} holds a line break"]
        if any(c in str(args.get("url")) for c in "\r\n\0"):
            return ["module uri: url holds a line break"]
        try:
            [int(s) for s in args.get("status_code") or []]
        except (TypeError, ValueError):
            return ["module uri: status_code must be numbers"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        method = str(ctx.arg("method")).upper()
        if ctx.check and method not in SAFE_METHODS:
            return ModuleResult(skipped=True, msg=f"skipped in check mode (would send {method})")
        body = body_bytes(ctx)
        if ctx.arg("run_on") == "controller":
            got = self._from_controller(ctx, method, body)
        else:
            got = self._from_host(ctx, body)
        if isinstance(got, ModuleResult):
            return got
        status, content = got
        wanted = [int(s) for s in ctx.arg("status_code")]
        shown = mask_userinfo(str(ctx.arg("url")))
        data: dict[str, Any] = {"status": status, "url": shown}
        if ctx.arg("return_content"):
            data["content"] = content
            with contextlib.suppress(ValueError):
                data["json"] = json.loads(content)
        msg = f"{method} {shown} -> {status or 'no answer'}"
        if status not in wanted:
            return fail(f"{msg} (wanted {', '.join(map(str, wanted))})", data=data)
        return ModuleResult(msg=msg, data=data)

    def _from_host(self, ctx: ModuleContext, body: bytes | None) -> tuple[int, str] | ModuleResult:
        files = request_files(ctx, body is not None)
        res = ctx.run(host_command(ctx, body is not None), stdin=files + (body or b""))
        shown = mask_userinfo(str(ctx.arg("url")))
        if res.timed_out:
            return fail(f"{shown}: timed out")
        text, _, last = res.stdout.rpartition("\n")
        try:
            status = int(last.strip())
        except ValueError:
            return fail(
                f"{shown}: no HTTP answer ({mask_userinfo(res.stderr.strip()[-300:])})", rc=res.rc
            )
        return status, text

    def _from_controller(
        self, ctx: ModuleContext, method: str, body: bytes | None
    ) -> tuple[int, str] | ModuleResult:
        import ssl
        import urllib.error
        import urllib.request

        headers = _headers(ctx, body is not None)
        request = urllib.request.Request(
            str(ctx.arg("url")), data=body, headers=headers, method=method
        )
        context = None if ctx.arg("validate_certs") else ssl._create_unverified_context()
        try:
            with urllib.request.urlopen(
                request, timeout=float(ctx.arg("timeout")), context=context
            ) as resp:
                return int(resp.status), resp.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            return int(err.code), err.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as err:
            reason = mask_userinfo(str(getattr(err, "reason", err)))
            return fail(f"{mask_userinfo(str(ctx.arg('url')))}: {reason}")
