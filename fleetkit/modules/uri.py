"""uri: an HTTP request and a status check, sent from the host (default) or the controller.

From the host (`run_on: host`), the request goes through curl, else wget
(GNU or busybox: GET and POST only); that is what "is the service up from
where it runs" means. From the controller (`run_on: controller`), Python's
urllib sends it directly. Requests change nothing here: changed is always false;
in check mode only GET and HEAD are sent, other methods are skipped.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

SAFE_METHODS = ("GET", "HEAD")


def body_bytes(ctx: ModuleContext) -> bytes | None:
    body = ctx.arg("body")
    if body is None:
        return None
    if ctx.arg("body_format") == "json" and not isinstance(body, str):
        return json.dumps(body).encode()
    return str(body).encode()


def host_command(ctx: ModuleContext, has_body: bool) -> str:
    url = q(str(ctx.arg("url")))
    method = str(ctx.arg("method"))
    timeout = int(float(ctx.arg("timeout")))
    headers = dict(ctx.arg("headers") or {})
    if ctx.arg("body_format") == "json" and has_body:
        headers.setdefault("Content-Type", "application/json")
    curl_h = " ".join(f"-H {q(f'{k}: {v}')}" for k, v in headers.items())
    wget_h = " ".join(q(f"--header={k}: {v}") for k, v in headers.items())
    insecure_curl = " -k" if not ctx.arg("validate_certs") else ""
    insecure_wget = " --no-check-certificate" if not ctx.arg("validate_certs") else ""
    data_curl = " --data-binary @-" if has_body else ""
    data_wget = ' --post-file="$b"' if has_body else ""
    return (
        "if command -v curl >/dev/null 2>&1; then\n"
        f"  curl -sS -X {q(method)} -m {timeout}{insecure_curl} {curl_h}{data_curl}"
        f" -w '\\n%{{http_code}}' {url}\n"
        "else\n"
        '  h=$(mktemp); b=$(mktemp); cat > "$b"\n'
        f'  wget -q -S -O - -T {timeout}{insecure_wget} {wget_h}{data_wget} {url} 2>"$h"\n'
        "  echo; s=$(sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9]*\\).*/\\1/p' \"$h\" | tail -n1)\n"
        '  echo "${s:-000}"; rm -f "$h" "$b"\n'
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
        data: dict[str, Any] = {"status": status, "url": ctx.arg("url")}
        if ctx.arg("return_content"):
            data["content"] = content
            with contextlib.suppress(ValueError):
                data["json"] = json.loads(content)
        msg = f"{method} {ctx.arg('url')} -> {status or 'no answer'}"
        if status not in wanted:
            return fail(f"{msg} (wanted {', '.join(map(str, wanted))})", data=data)
        return ModuleResult(msg=msg, data=data)

    def _from_host(self, ctx: ModuleContext, body: bytes | None) -> tuple[int, str] | ModuleResult:
        res = ctx.run(host_command(ctx, body is not None), stdin=body)
        if res.timed_out:
            return fail(f"{ctx.arg('url')}: timed out")
        text, _, last = res.stdout.rpartition("\n")
        try:
            status = int(last.strip())
        except ValueError:
            return fail(
                f"{ctx.arg('url')}: no HTTP answer ({res.stderr.strip()[-300:]})", rc=res.rc
            )
        return status, text

    def _from_controller(
        self, ctx: ModuleContext, method: str, body: bytes | None
    ) -> tuple[int, str] | ModuleResult:
        import ssl
        import urllib.error
        import urllib.request

        headers = {str(k): str(v) for k, v in (ctx.arg("headers") or {}).items()}
        if ctx.arg("body_format") == "json" and body is not None:
            headers.setdefault("Content-Type", "application/json")
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
            return fail(f"{ctx.arg('url')}: {getattr(err, 'reason', err)}")
