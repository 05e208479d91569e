"""archive (community.general): paths on the host packed into a tar/zip or compressed.

The archive is built reproducibly (tar --sort=name, gzip -n, zip -X) and its
checksum compared with dest first, so an unchanged source reports ok and
dest is replaced only when its content would differ.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import RemoteError, attrs_differ, q, resolve_mode, set_attrs, stat

FORMATS = ("bz2", "gz", "tar", "xz", "zip")
COMPRESS = {"gz": "gzip -n", "bz2": "bzip2", "xz": "xz", "tar": "cat"}
EXTENSION = {"gz": ".tar.gz", "bz2": ".tar.bz2", "xz": ".tar.xz", "tar": ".tar", "zip": ".zip"}


class Archive(Module):
    name = "archive"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("list", required=True),
        "dest": Arg("path"),
        "format": Arg("str", default="gz", choices=FORMATS),
        "exclude_path": Arg("list", default=[]),
        "exclusion_patterns": Arg("list", default=[]),
        "force_archive": Arg("bool", default=False),
        "remove": Arg("bool", default=False),
        "mode": Arg("mode"),
        "owner": Arg("str"),
        "group": Arg("str"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        paths = args.get("path") or []
        if args.get("dest") is None and (len(paths) != 1 or any("*" in str(p) for p in paths)):
            return ["module archive: dest is required for several paths or a glob"]
        if any(not str(p).startswith("/") for p in paths):
            return ["module archive: path entries must be absolute"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        fmt = str(ctx.arg("format"))
        listing = ctx.run(_expand_script(ctx.arg("path"), ctx.arg("exclude_path")))
        if not listing.ok:
            return fail(f"cannot list paths: {listing.stderr.strip()}", rc=listing.rc)
        found = [ln[2:] for ln in listing.stdout.splitlines() if ln.startswith("F:")]
        missing = [ln[2:] for ln in listing.stdout.splitlines() if ln.startswith("M:")]
        dirs = {ln[2:] for ln in listing.stdout.splitlines() if ln.startswith("D:")}
        if not found:
            return fail(f"no source paths were found: {', '.join(missing)}")
        compress = (
            len(found) == 1
            and found[0] not in dirs
            and fmt not in ("zip", "tar")
            and not ctx.arg("force_archive")
        )
        dest = str(ctx.arg("dest") or found[0] + ("." + fmt if compress else EXTENSION[fmt]))
        arcroot = posixpath.dirname(posixpath.commonpath(found)) if len(found) > 1 else ""
        if not arcroot:
            arcroot = posixpath.dirname(found[0])
        data: dict[str, Any] = {
            "dest": dest,
            "archived": found,
            "missing": missing,
            "expanded_paths": found,
            "expanded_exclude_paths": [str(p) for p in ctx.arg("exclude_path")],
            "arcroot": arcroot.rstrip("/") + "/",
            "state": "compress" if compress else ("incomplete" if missing else "archive"),
        }
        build = _build(found, arcroot, dest, fmt, compress, ctx.arg("exclusion_patterns"))
        res = ctx.run(_compare_script(build, dest))
        if not res.ok:
            return fail(f"cannot build the archive: {res.stderr.strip()[-300:]}", rc=res.rc)
        same = res.stdout.strip() == "same"
        try:
            if same:
                return self._finish(ctx, dest, found, data, changed=False, msg="archive as wanted")
            if ctx.check:
                return ModuleResult(changed=True, msg=f"would have written {dest}", data=data)
            done = ctx.run(_write_script(build, dest))
            if not done.ok:
                return fail(f"cannot write {dest}: {done.stderr.strip()[-300:]}", rc=done.rc)
            return self._finish(ctx, dest, found, data, changed=True, msg=f"wrote {dest}")
        except RemoteError as err:
            return fail(str(err))

    def _finish(
        self,
        ctx: ModuleContext,
        dest: str,
        found: list[str],
        data: dict[str, Any],
        *,
        changed: bool,
        msg: str,
    ) -> ModuleResult:
        st = stat(ctx, dest, checksum=False)
        mode = resolve_mode(st.mode, ctx.arg("mode"))
        changes = attrs_differ(st, mode, ctx.arg("owner"), ctx.arg("group"))
        if changes and not ctx.check:
            set_attrs(ctx, dest, mode, ctx.arg("owner"), ctx.arg("group"))
        if ctx.arg("remove"):
            if not ctx.check:
                rm = ctx.run("rm -rf -- " + " ".join(q(p) for p in found if p != dest))
                if not rm.ok:
                    return fail(f"cannot remove the sources: {rm.stderr.strip()}", rc=rm.rc)
            changed = True
        data["dest_state"] = "compress" if data["state"] == "compress" else "archive"
        return ModuleResult(changed=changed or bool(changes), msg=msg, data=data)


def _expand_script(paths: list[Any], excludes: list[Any]) -> str:
    """List each path (globs expanded) as F: found, M: missing, D: directory."""
    ex = " ".join(q(str(e)) for e in excludes)
    lines = [
        f'excluded() {{ for e in {ex}; do [ "$1" = "$e" ] && return 0; done; return 1; }}',
    ]
    for path in paths:
        text = str(path)
        word = _glob_word(text)
        lines.append(
            f'found=0; for f in {word}; do if [ -e "$f" ] || [ -L "$f" ]; then found=1;'
            ' excluded "$f" && continue; echo "F:$f"; [ -d "$f" ] && echo "D:$f"; fi; done;'
            f" [ $found = 1 ] || echo {q('M:' + text)}"
        )
    return "\n".join(lines)


def _glob_word(path: str) -> str:
    """Quote path for the shell, keeping *, ? and [ unquoted so they expand."""
    out = ""
    for ch in path:
        out += ch if ch in "*?[]" else q(ch) if not ch.isalnum() and ch not in "/._-" else ch
    return out


def _build(
    found: list[str], arcroot: str, dest: str, fmt: str, compress: bool, patterns: list[Any]
) -> str:
    """A command writing the archive to stdout."""
    if compress:
        return f"{COMPRESS[fmt]} -c < {q(found[0])}"
    rel = " ".join(q(posixpath.relpath(p, arcroot)) for p in found)
    rel_dest = posixpath.relpath(dest, arcroot)
    excl = " ".join(f"--exclude={q(str(p))}" for p in patterns)
    if fmt == "zip":
        xopts = " ".join(f"-x {q(str(p))}" for p in patterns)
        return f"cd {q(arcroot)} && zip -X -r -q - {rel} -x {q(rel_dest)} {xopts}".rstrip()
    return (
        f"cd {q(arcroot)} && tar --sort=name --exclude={q(rel_dest)} {excl} -cf - {rel}"
        f" | {COMPRESS[fmt]}"
    )


def _compare_script(build: str, dest: str) -> str:
    """Print 'same' when the archive build would write equals dest, else 'differ'."""
    d = q(dest)
    return (
        "sf=$(mktemp); trap 'rm -f \"$sf\"' EXIT;"
        f' new=$( {{ ( {build} ) || echo failed > "$sf"; }} | sha256sum | cut -d" " -f1);'
        ' if [ -s "$sf" ]; then exit 1; fi;'
        f' old=$( [ -f {d} ] && sha256sum < {d} | cut -d" " -f1);'
        ' if [ "$new" = "$old" ]; then echo same; else echo differ; fi'
    )


def _write_script(build: str, dest: str) -> str:
    """Write the archive to dest atomically, through a pipe as _compare_script reads it
    (zip writes differently to a seekable file)."""
    d = q(dest)
    return (
        f'set -e; tmp=$(mktemp "$(dirname {d})/.fleetkit.XXXXXX"); sf=$(mktemp);'
        ' trap \'rm -f "$tmp" "$sf"\' EXIT;'
        f' {{ ( {build} ) || echo failed > "$sf"; }} | cat > "$tmp";'
        ' if [ -s "$sf" ]; then exit 1; fi; chmod 0644 "$tmp";'
        f' if [ -f {d} ]; then chmod "$(stat -c %a {d})" "$tmp"; fi; mv -f "$tmp" {d}'
    )
