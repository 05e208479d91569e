"""k3s_install: put the k3s binary (and optionally the air-gap images tarball) on the host.

Air-gapped by default: the controller's files (`binary`, else $FLEETKIT_K3S_BINARY;
`images`, else $FLEETKIT_K3S_IMAGES) are hashed and compared with `sha256sum` on
the host first; a file is sent (over SFTP via `conn.put_file`) only when the
hashes differ, to a temporary name, verified on the host, then renamed, so a
broken transfer never replaces a working binary. With `url` + `sha256` the host
downloads instead and the same verification applies. A missing controller
binary is caught by `preflight`, before any host is touched.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from fleetkit.errors import TaskError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.k3s_common import (
    BINARY_ENV,
    DATA_DIR,
    IMAGES_ENV,
    binary_path,
    controller_path,
    file_sha256,
    missing_binary_message,
    remote_sha256,
)
from fleetkit.modules.remote import q

IMAGES_DIR = f"{DATA_DIR}/agent/images"


def sha256_arg(value: Any) -> str:
    """A pinned checksum: 64 hex digits, optionally prefixed 'sha256:'."""
    text = str(value or "").strip().lower().removeprefix("sha256:")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"sha256 must be 64 hex digits, got {value!r}")
    return text


class K3sInstall(Module):
    name = "k3s_install"
    args: ClassVar[dict[str, Arg]] = {
        "binary": Arg("path"),
        "images": Arg("path"),
        "url": Arg("str"),
        "sha256": Arg("str", aliases=("checksum",)),
        "bin_dir": Arg("path", default="/usr/local/bin"),
        "images_dir": Arg("path", default=IMAGES_DIR),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors: list[str] = []
        if args.get("sha256"):
            try:
                sha256_arg(args["sha256"])
            except ValueError as err:
                errors.append(f"module k3s_install: {err}")
        if args.get("url") and args.get("binary"):
            errors.append("module k3s_install: give binary or url, not both")
        if args.get("url") and not args.get("sha256"):
            errors.append("module k3s_install: url needs a pinned sha256 (checksum)")
        return errors

    def preflight(self, args: Mapping[str, Any], unknown: frozenset[str]) -> list[str]:
        """The controller files must exist before any host is touched."""
        if args.get("url") or {"binary", "url"} & unknown:
            return []
        binary = controller_path(args.get("binary"), BINARY_ENV)
        if not binary or not Path(binary).is_file():
            return [missing_binary_message(binary)]
        images = "" if "images" in unknown else controller_path(args.get("images"), IMAGES_ENV)
        if images and not Path(images).is_file():
            return [f"k3s images tarball {images} not found on the controller (k3s_images)"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        dest = binary_path(ctx.arg("bin_dir"))
        try:
            first = self._download(ctx, dest) if ctx.arg("url") else self._binary(ctx, dest)
            done = [first]
            images = controller_path(ctx.arg("images"), IMAGES_ENV)
            if images:
                name = posixpath.basename(images)
                target = posixpath.join(str(ctx.arg("images_dir")), name)
                done.append(self._send(ctx, Path(images), target, 0o644))
        except TaskError as err:
            return fail(err.message)
        changed = [d for d in done if d[1]]
        data = {"binary": dest, "sha256": done[0][2], "files_changed": [d[0] for d in changed]}
        if not changed:
            return ModuleResult(msg=f"{dest} up to date (sha256 {done[0][2][:12]})", data=data)
        verb = "would install" if ctx.check else "installed"
        return ModuleResult(
            changed=True, msg=f"{verb} {', '.join(d[0] for d in changed)}", data=data
        )

    def _binary(self, ctx: ModuleContext, dest: str) -> tuple[str, bool, str]:
        local = controller_path(ctx.arg("binary"), BINARY_ENV)
        if not local or not Path(local).is_file():
            raise TaskError(missing_binary_message(local))
        pinned = ctx.arg("sha256")
        if pinned:
            have = file_sha256(Path(local))
            if have != sha256_arg(pinned):
                raise TaskError(f"{local} has sha256 {have}, not the pinned {pinned}")
        return self._send(ctx, Path(local), dest, 0o755)

    @staticmethod
    def _send(ctx: ModuleContext, local: Path, dest: str, mode: int) -> tuple[str, bool, str]:
        """(dest, changed, sha256): hash-gated transfer, verified on the host before rename."""
        want = file_sha256(local)
        if remote_sha256(ctx, dest) == want:
            return dest, False, want
        if ctx.check:
            return dest, True, want
        tmp = f"{dest}.fleetkit-new"
        mk = ctx.run(f"mkdir -p {q(posixpath.dirname(dest))}")
        if not mk.ok:
            raise TaskError(f"cannot create {posixpath.dirname(dest)}: {mk.stderr.strip()}")
        ctx.conn.put_file(local, tmp, mode=mode, become=ctx.become)
        _verify_and_move(ctx, tmp, dest, want)
        return dest, True, want

    @staticmethod
    def _download(ctx: ModuleContext, dest: str) -> tuple[str, bool, str]:
        want = sha256_arg(ctx.arg("sha256"))
        if remote_sha256(ctx, dest) == want:
            return dest, False, want
        if ctx.check:
            return dest, True, want
        tmp = f"{dest}.fleetkit-new"
        url = q(str(ctx.arg("url")))
        get = (
            f"mkdir -p {q(posixpath.dirname(dest))} && "
            f"if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o {q(tmp)} {url};"
            f" else wget -q -O {q(tmp)} {url}; fi && chmod 0755 {q(tmp)}"
        )
        res = ctx.run(get)
        if not res.ok:
            ctx.run(f"rm -f {q(tmp)}")
            raise TaskError(f"download of {ctx.arg('url')} failed: {res.stderr.strip()[-300:]}")
        _verify_and_move(ctx, tmp, dest, want)
        return dest, True, want


def _verify_and_move(ctx: ModuleContext, tmp: str, dest: str, want: str) -> None:
    got = remote_sha256(ctx, tmp)
    if got != want:
        ctx.run(f"rm -f {q(tmp)}")
        raise TaskError(f"{dest}: sha256 on the host is {got or 'unreadable'}, wanted {want}")
    res = ctx.run(f"mv -f {q(tmp)} {q(dest)}")
    if not res.ok:
        raise TaskError(f"cannot move {tmp} to {dest}: {res.stderr.strip()}")
