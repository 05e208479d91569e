"""find: files matching names, age, size, type or content, as Ansible's `files` list.

One `find -printf` per path lists candidates with their inode fields; names,
age and size are filtered here (fnmatch or Python regexps, as Ansible does),
content on the host with `grep -P`. Read-only: changed is always false.
"""

from __future__ import annotations

import fnmatch
import re
import stat as st_mod
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult
from fleetkit.modules.remote import q

PRINTF = r"%y|%m|%s|%T@|%A@|%C@|%U|%G|%u|%g|%n|%i|%D|%p\n"
TYPES = {"file": "f", "directory": "d", "link": "l"}
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SIZE_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
AGE = re.compile(r"^(-?\d+)([smhdw]?)$", re.I)
SIZE = re.compile(r"^(-?\d+)([bkmgt]?)$", re.I)


def parse_age(text: str) -> int:
    """'2d', '-1w', '30' (seconds) -> signed seconds."""
    m = AGE.match(text.strip())
    if not m:
        raise ValueError(f"age {text!r} is not like 30, 2h, 1d or -1w")
    return int(m.group(1)) * AGE_UNITS[(m.group(2) or "s").lower()]


def parse_size(text: str) -> int:
    """'10k', '-1m', '512' (bytes) -> signed bytes."""
    m = SIZE.match(text.strip())
    if not m:
        raise ValueError(f"size {text!r} is not like 512, 10k, 1m or -1g")
    return int(m.group(1)) * SIZE_UNITS[(m.group(2) or "b").lower()]


class Find(Module):
    name = "find"
    args: ClassVar[dict[str, Arg]] = {
        "paths": Arg("list", required=True, aliases=("name", "path")),
        "patterns": Arg("list", default=[], aliases=("pattern",)),
        "excludes": Arg("list", default=[], aliases=("exclude",)),
        "contains": Arg("str"),
        "read_whole_file": Arg("bool", default=False),
        "file_type": Arg("str", default="file", choices=("file", "directory", "link", "any")),
        "recurse": Arg("bool", default=False),
        "depth": Arg("int"),
        "hidden": Arg("bool", default=False),
        "age": Arg("str"),
        "age_stamp": Arg("str", default="mtime", choices=("atime", "ctime", "mtime")),
        "size": Arg("str"),
        "use_regex": Arg("bool", default=False),
        "follow": Arg("bool", default=False),
        "get_checksum": Arg("bool", default=False),
        "checksum_algorithm": Arg(
            "str", default="sha1", choices=("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
        ),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        for key, parse in (("age", parse_age), ("size", parse_size)):
            if args.get(key) is not None:
                try:
                    parse(str(args[key]))
                except ValueError as err:
                    errors.append(f"module find: {err}")
        regexps = list(args.get("patterns") or []) + list(args.get("excludes") or [])
        if args.get("use_regex"):
            for pattern in regexps:
                try:
                    re.compile(str(pattern))
                except re.error as err:
                    errors.append(f"module find: {pattern!r} is not a valid regexp: {err}")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        files: list[dict[str, Any]] = []
        skipped: dict[str, str] = {}
        examined = 0
        now = time.time()
        for path in [str(p) for p in ctx.arg("paths")]:
            res = ctx.run(self._script(ctx, path))
            if not res.ok:
                skipped[path] = res.stderr.strip() or f"rc={res.rc}"
                continue
            for line in res.stdout.splitlines():
                entry = _entry(line)
                if entry is None:
                    continue
                examined += 1
                if self._wanted(ctx, entry, now):
                    files.append(entry)
        if ctx.arg("contains") and files:
            files = self._containing(ctx, files)
        if ctx.arg("get_checksum") and files:
            self._checksums(ctx, files)
        msg = "All paths examined" if not skipped else "Not all paths examined"
        data = {
            "files": files,
            "matched": len(files),
            "examined": examined,
            "skipped_paths": skipped,
        }
        return ModuleResult(msg=msg, data=data)

    def _script(self, ctx: ModuleContext, path: str) -> str:
        depth = ""
        if not ctx.arg("recurse"):
            depth = "-maxdepth 1"
        elif ctx.arg("depth") is not None:
            depth = f"-maxdepth {int(ctx.arg('depth'))}"
        follow = "-L " if ctx.arg("follow") else ""
        p = q(path)
        return (
            f"if [ ! -d {p} ]; then echo '{path} was skipped as it does not seem to be a valid"
            f" directory or it cannot be accessed' >&2; exit 1; fi;"
            f" find {follow}{p} -mindepth 1 {depth} -printf {q(PRINTF)}"
        )

    def _wanted(self, ctx: ModuleContext, entry: dict[str, Any], now: float) -> bool:
        kind = str(ctx.arg("file_type"))
        found = entry.pop("_type")
        if kind != "any" and found != TYPES[kind]:
            return False
        base = str(entry["path"]).rsplit("/", 1)[-1]
        if base.startswith(".") and not ctx.arg("hidden"):
            return False
        if not _matches(base, ctx.arg("patterns") or ["*"], bool(ctx.arg("use_regex"))):
            return False
        if ctx.arg("excludes") and _matches(base, ctx.arg("excludes"), bool(ctx.arg("use_regex"))):
            return False
        if ctx.arg("age") is not None:
            age = parse_age(str(ctx.arg("age")))
            since = now - float(entry[str(ctx.arg("age_stamp"))])
            if (age >= 0 and since < age) or (age < 0 and since > -age):
                return False
        if ctx.arg("size") is not None:
            size = parse_size(str(ctx.arg("size")))
            have = int(entry["size"])
            if (size >= 0 and have < size) or (size < 0 and have > -size):
                return False
        return True

    def _containing(self, ctx: ModuleContext, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        regular = [f for f in files if f["isreg"]]
        if not regular:
            return []
        pattern = str(ctx.arg("contains"))
        flags = "-lzP" if ctx.arg("read_whole_file") else "-lP"
        rx = pattern if ctx.arg("read_whole_file") else f"^(?:{pattern})"
        listing = "".join(f"{f['path']}\n" for f in regular).encode()
        res = ctx.run(f"xargs -d '\\n' grep {flags} -- {q(rx)} 2>/dev/null; true", stdin=listing)
        hits = set(res.stdout.splitlines())
        return [f for f in regular if f["path"] in hits]

    def _checksums(self, ctx: ModuleContext, files: list[dict[str, Any]]) -> None:
        tool = f"{ctx.arg('checksum_algorithm')}sum"
        listing = "".join(f"{f['path']}\n" for f in files if f["isreg"]).encode()
        res = ctx.run(f"xargs -r -d '\\n' {tool} -- 2>/dev/null; true", stdin=listing)
        sums = {}
        for line in res.stdout.splitlines():
            digest, _, name = line.partition("  ")
            sums[name] = digest
        for f in files:
            if f["path"] in sums:
                f["checksum"] = sums[f["path"]]


def _matches(name: str, patterns: list[Any], use_regex: bool) -> bool:
    for pattern in patterns:
        if use_regex:
            if re.match(str(pattern), name):
                return True
        elif fnmatch.fnmatch(name, str(pattern)):
            return True
    return False


def _entry(line: str) -> dict[str, Any] | None:
    parts = line.split("|", 13)
    if len(parts) < 14:
        return None
    kind, mode_text = parts[0], parts[1]
    mode = int(mode_text, 8)
    entry: dict[str, Any] = {
        "_type": kind,
        "path": parts[13],
        "mode": f"{mode:04o}",
        "isdir": kind == "d",
        "isreg": kind == "f",
        "islnk": kind == "l",
        "ischr": kind == "c",
        "isblk": kind == "b",
        "isfifo": kind == "p",
        "issock": kind == "s",
        "size": int(parts[2]),
        "mtime": float(parts[3]),
        "atime": float(parts[4]),
        "ctime": float(parts[5]),
        "uid": int(parts[6]),
        "gid": int(parts[7]),
        "pw_name": parts[8],
        "gr_name": parts[9],
        "nlink": int(parts[10]),
        "inode": int(parts[11]),
        "dev": int(parts[12]),
    }
    for who, shift in (("usr", 6), ("grp", 3), ("oth", 0)):
        for perm, bit in (("r", 4), ("w", 2), ("x", 1)):
            entry[f"{perm}{who}"] = bool(mode >> shift & bit)
    entry["isuid"] = bool(mode & st_mod.S_ISUID)
    entry["isgid"] = bool(mode & st_mod.S_ISGID)
    return entry
