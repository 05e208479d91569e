"""get_url: a file downloaded on the host (curl, else wget), verified against a checksum.

As in Ansible the host downloads it, not the controller. With force off, an
existing dest that matches the checksum is kept without a download, and one
without a checksum is fetched only if newer (If-Modified-Since); a download
replaces dest only when its content differs. Check mode downloads to a temp
file and compares, so its prediction is exact and dest untouched. Credentials
go to curl on stdin, never on a command line.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import (
    RemoteError,
    RemoteStat,
    attrs_differ,
    owner_spec,
    q,
    resolve_mode,
    set_attrs,
    stat,
)

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
HEX = re.compile(r"^[0-9a-fA-F]+$")
HTTP = ("http", "https")


def parse_checksum(text: str) -> tuple[str, str]:
    """'sha256:ab12..' -> ('sha256', 'ab12..'); ValueError when malformed."""
    algo, sep, digest = text.partition(":")
    if not sep or algo not in ALGORITHMS:
        raise ValueError(f"checksum {text!r} is not like 'sha256:<hex digest>'")
    if digest.startswith(("http://", "https://", "ftp://", "file://")):
        raise ValueError("checksum URLs are not supported: give the digest itself")
    if not HEX.match(digest):
        raise ValueError(f"checksum digest {digest!r} is not hexadecimal")
    return algo, digest.lower()


def _curl_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class GetUrl(Module):
    name = "get_url"
    args: ClassVar[dict[str, Arg]] = {
        "url": Arg("str", required=True),
        "dest": Arg("path", required=True),
        "checksum": Arg("str"),
        "force": Arg("bool", default=False, aliases=("thirsty",)),
        "timeout": Arg("int", default=10),
        "headers": Arg("dict", default={}),
        "url_username": Arg("str", aliases=("username",)),
        "url_password": Arg("str", secret=True, aliases=("password",)),
        "force_basic_auth": Arg("bool", default=False),
        "validate_certs": Arg("bool", default=True),
        "http_agent": Arg("str", default="fleetkit-get_url"),
        "backup": Arg("bool", default=False),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        scheme = urlsplit(str(args.get("url"))).scheme
        if scheme not in ("http", "https", "ftp", "file"):
            errors.append(f"module get_url: url must be http(s), ftp or file, got {scheme!r}")
        if args.get("checksum"):
            try:
                parse_checksum(str(args["checksum"]))
            except ValueError as err:
                errors.append(f"module get_url: {err}")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        url = str(ctx.arg("url"))
        dest = str(ctx.arg("dest"))
        checksum = parse_checksum(str(ctx.arg("checksum"))) if ctx.arg("checksum") else None
        try:
            st = stat(ctx, dest)
            if st.exists and st.kind == "directory":
                name = posixpath.basename(urlsplit(url).path) or "index.html"
                dest = posixpath.join(dest, name)
                st = stat(ctx, dest)
            data: dict[str, Any] = {"url": url, "dest": dest, "state": "file"}
            if (
                st.exists
                and not ctx.arg("force")
                and checksum is not None
                and self._digest(ctx, dest, checksum[0]) == checksum[1]
            ):
                return self._keep(ctx, dest, st, {**data, "msg": "file already exists"})
            return self._download(ctx, url, dest, st, checksum, data)
        except RemoteError as err:
            return fail(str(err))

    @staticmethod
    def _digest(ctx: ModuleContext, path: str, algo: str) -> str:
        res = ctx.run(f"{algo}sum < {q(path)} | cut -d' ' -f1")
        return res.stdout.strip().lower()

    def _keep(
        self, ctx: ModuleContext, dest: str, st: RemoteStat, data: dict[str, Any]
    ) -> ModuleResult:
        mode = resolve_mode(st.mode, ctx.arg("mode"))
        owner, group = ctx.arg("owner"), ctx.arg("group")
        changes = attrs_differ(st, mode, owner, group)
        if not changes:
            return ModuleResult(msg=str(data.get("msg", "file as wanted")), data=data)
        if not ctx.check:
            set_attrs(ctx, dest, mode, owner, group)
        verb = "would change" if ctx.check else "changed"
        return ModuleResult(changed=True, msg=f"{verb} {', '.join(changes)}", data=data)

    def _config(self, ctx: ModuleContext, url: str) -> bytes:
        lines = [
            f"url = {_curl_quote(url)}",
            f"user-agent = {_curl_quote(str(ctx.arg('http_agent')))}",
        ]
        for key, value in dict(ctx.arg("headers") or {}).items():
            lines.append(f"header = {_curl_quote(f'{key}: {value}')}")
        if ctx.arg("url_username") is not None:
            user = f"{ctx.arg('url_username')}:{ctx.arg('url_password') or ''}"
            lines.append(f"user = {_curl_quote(user)}")
            if ctx.arg("force_basic_auth"):
                lines.append("basic")
        if not ctx.arg("validate_certs"):
            lines.append("insecure")
        return ("\n".join(lines) + "\n").encode()

    def _download(
        self,
        ctx: ModuleContext,
        url: str,
        dest: str,
        st: RemoteStat,
        checksum: tuple[str, str] | None,
        data: dict[str, Any],
    ) -> ModuleResult:
        timeout = int(ctx.arg("timeout"))
        wget_ok = ctx.arg("url_username") is None and not ctx.arg("headers")
        # an existing dest without a checksum is fetched only when newer (If-Modified-Since)
        conditional = st.exists and not ctx.arg("force") and urlsplit(url).scheme in HTTP
        since = f"-z {q(dest)} " if conditional else ""
        algo = checksum[0] if checksum else "sha1"
        d = q(dest)
        script = (
            f'[ -d "$(dirname {d})" ] || {{ echo "Destination $(dirname {d}) does not exist" >&2;'
            " exit 3; };"
            f' tmp=$(mktemp "$(dirname {d})/.fleetkit-get_url.XXXXXX") || exit 3;'
            " if command -v curl >/dev/null; then"
            f" code=$(curl --fail --silent --show-error --location --max-time {timeout} {since}"
            ' -o "$tmp" -w "%{http_code}" -K - 2>"$tmp.err"); rc=$?;'
            + (
                f' elif command -v wget >/dev/null; then wget -q -T {timeout} -O "$tmp"'
                f" {'--no-check-certificate ' if not ctx.arg('validate_certs') else ''}"
                f'{q(url)} 2>"$tmp.err"; rc=$?; code=$([ $rc = 0 ] && echo 200 || echo 0);'
                if wget_ok
                else ""
            )
            + ' else rm -f "$tmp"; echo "neither curl nor wget on the host" >&2; exit 4; fi;'
            ' echo "C:$code"; echo "R:$rc"; echo "T:$tmp";'
            ' if [ "$rc" != 0 ]; then echo "X:$(head -c 300 "$tmp.err")";'
            ' rm -f "$tmp" "$tmp.err"; exit 0; fi; rm -f "$tmp.err";'
            ' echo "H:$(sha1sum < "$tmp" | cut -d" " -f1)";'
            ' echo "W:$(sha256sum < "$tmp" | cut -d" " -f1)";'
            ' echo "M:$(md5sum < "$tmp" | cut -d" " -f1)";'
            f' echo "A:$({algo}sum < "$tmp" | cut -d" " -f1)"; echo "S:$(stat -c %s "$tmp")"'
        )
        started = time.monotonic()
        res = ctx.run(script, stdin=self._config(ctx, url))
        if not res.ok:
            return fail(f"cannot download {url}: {res.stderr.strip() or res.rc}", rc=res.rc)
        tags = dict(ln.split(":", 1) for ln in res.stdout.splitlines() if ":" in ln)
        code = int(tags.get("C", "0") or 0)
        if code == 0 and tags.get("R") == "0":
            code = 200  # file:// and ftp:// have no HTTP status: Ansible reports 200 too
        data.update(status_code=code, elapsed=int(time.monotonic() - started))
        if tags.get("R") != "0":
            why = tags.get("X", "").strip() or f"curl/wget exit {tags.get('R')}"
            return ModuleResult(failed=True, msg=f"Request failed: {why}", data=data)
        tmp = tags["T"]
        if conditional and code == 304:
            ctx.run(f"rm -f -- {q(tmp)}")
            return self._keep(ctx, dest, st, {**data, "msg": "Not Modified"})
        size = int(tags.get("S", "0"))
        data.update(checksum_src=tags.get("H", ""), size=size, src=tmp)
        if checksum and tags.get("A", "").lower() != checksum[1]:
            ctx.run(f"rm -f -- {q(tmp)}")
            return ModuleResult(
                failed=True,
                msg=f"The checksum for {dest} did not match {checksum[1]}; it was {tags.get('A')}.",
                data=data,
            )
        data.update(checksum_dest=tags.get("H", ""), md5sum=tags.get("M", ""))
        if st.exists and st.kind == "file" and st.sha256 == tags.get("W"):
            ctx.run(f"rm -f -- {q(tmp)}")
            return self._keep(ctx, dest, st, {**data, "msg": f"OK ({size} bytes), unchanged"})
        if ctx.check:
            # the download went to a temp file only: dest is untouched, the prediction exact
            ctx.run(f"rm -f -- {q(tmp)}")
            return ModuleResult(changed=True, msg=f"would write {size} bytes to {dest}", data=data)
        mode = resolve_mode(st.mode if st.exists else 0o644, ctx.arg("mode"))
        final = mode if mode is not None else (st.mode if st.exists else 0o644)
        steps = [f"t={q(tmp)}", f"p={d}", f'chmod {final:04o} "$t"']
        chown = owner_spec(ctx.arg("owner"), ctx.arg("group"))
        if chown:
            steps.append(f'chown {q(chown)} "$t"')
        elif st.exists:
            steps.append(f'chown {st.uid}:{st.gid} "$t" 2>/dev/null || true')
        if ctx.arg("backup") and st.exists:
            steps.append('b="$p.$(date +%Y%m%d%H%M%S)~"; cp -p "$p" "$b"; echo "B:$b"')
        steps.append('mv -f "$t" "$p" || { rm -f "$t"; exit 1; }')
        moved = ctx.run("set -e; " + "; ".join(steps))
        if not moved.ok:
            ctx.run(f"rm -f -- {q(tmp)}")
            return fail(f"cannot write {dest}: {moved.stderr.strip()}", rc=moved.rc)
        for line in moved.stdout.splitlines():
            if line.startswith("B:"):
                data["backup_file"] = line[2:]
        return ModuleResult(changed=True, msg=f"OK ({size} bytes)", data=data)
