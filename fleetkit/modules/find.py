"""find: files matching names, age, size, type, mode or content, as Ansible's `files` list.

One `find -printf` per path lists every entry with its inode fields; the walk is
then replayed as ansible-core 2.19's os.walk loop does it: each folder's files, then
its folders (readdir order), then the folders' own contents; `depth` stops the walk
below it; `examined` counts what each walked folder held; `limit` stops the walk at
the Nth match. Names (fnmatch or Python regexps), age, size (regular files), mode
(exact or any bit) are filtered here, content (file_type=file only) on the host with
grep -P (through iconv for `encoding`). Read-only: changed is always false.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import stat as st_mod
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult
from fleetkit.modules.remote import apply_symbolic, q

PRINTF = r"%y|%Y|%m|%s|%T@|%A@|%C@|%U|%G|%u|%g|%n|%i|%D|%p\n"
FIELDS = 15
KINDS = {"file": "f", "directory": "d", "link": "l"}
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SIZE_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
AGE = re.compile(r"^(-?\d+)([smhdw]?)$", re.I)
SIZE = re.compile(r"^(-?\d+)([bkmgt]?)$", re.I)
CHECKSUMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


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


def parse_mode(text: str) -> int:
    """find's mode: octal digits, else a symbolic mode applied to 0 (Ansible's mode_filter)."""
    try:
        return int(text, 8) & 0o7777
    except ValueError:
        return apply_symbolic(0, text)


@dataclass
class Node:
    """One entry of the listing, with its children when it is a walked folder."""

    entry: dict[str, Any]
    kind: str
    target_kind: str
    children: list[Node] = field(default_factory=list)


class Find(Module):
    name = "find"
    args: ClassVar[dict[str, Arg]] = {
        "paths": Arg("list", required=True, aliases=("name", "path")),
        "patterns": Arg("list", default=[], aliases=("pattern",)),
        "excludes": Arg("list", aliases=("exclude",)),
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
            "str", default="sha1", choices=CHECKSUMS, aliases=("checksum", "checksum_algo")
        ),
        "mode": Arg("raw"),
        "exact_mode": Arg("bool", default=True),
        "encoding": Arg("str"),
        "limit": Arg("int"),
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
        mode = args.get("mode")
        if mode is not None:
            if not isinstance(mode, str):
                errors.append(
                    "module find: argument 'mode' is not a string and conversion is not"
                    f" allowed, value is of type {type(mode).__name__}"
                )
            else:
                try:
                    parse_mode(mode)
                except ValueError as err:
                    errors.append(f"module find: {err}")
        limit = args.get("limit")
        if limit is not None and limit <= 0:
            errors.append(f"module find: limit cannot be {limit} (use None for unlimited)")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        files: list[dict[str, Any]] = []
        skipped: dict[str, str] = {}
        examined = 0
        msg = "All paths examined"
        warned = False
        now = time.time()
        limit = ctx.arg("limit")
        trees: list[Node] = []
        for path in [str(p) for p in ctx.arg("paths")]:
            res = ctx.run(self._script(ctx, path))
            if not res.ok:
                skipped[path] = res.stderr.strip() or f"rc={res.rc}"
                warned = True
                continue
            top, errors = _tree(path, res.stdout)
            skipped.update(errors)
            trees.append(top)
        hits: set[str] | None = None
        if ctx.arg("contains") is not None and ctx.arg("file_type") == "file":
            candidates: list[dict[str, Any]] = []
            for top in trees:
                self._walk(ctx, top, candidates, now, None, None)
            hits = self._containing(ctx, candidates)
        for top in trees:
            looked, hit_limit = self._walk(ctx, top, files, now, limit, hits)
            examined += looked
            if hit_limit:
                msg = "Limit of matches reached"
        if ctx.arg("get_checksum") and files:
            self._checksums(ctx, files)
        if warned:
            msg = "Not all paths examined, check warnings for details"
        data = {
            "files": files,
            "matched": len(files),
            "examined": examined,
            "skipped_paths": skipped,
        }
        return ModuleResult(msg=msg, data=data)

    def _script(self, ctx: ModuleContext, path: str) -> str:
        depth = ctx.arg("depth")
        if not ctx.arg("recurse"):
            limit = "-maxdepth 1"
        elif depth:
            limit = f"-maxdepth {int(depth) + 1}"
        else:
            limit = ""
        follow = "-L " if ctx.arg("follow") else ""
        return (
            f"p={q(path)}; case $p in '~'|'~/'*) p=\"$HOME${{p#\\~}}\";; esac;"
            ' if [ ! -d "$p" ]; then printf "%s" "'
            + "'$p' is not a directory"
            + '" >&2; exit 1; fi;'
            f' echo "$p"; e=$(mktemp); find {follow}"$p" -mindepth 1 {limit} -printf {q(PRINTF)}'
            ' 2>"$e"; sed "s/^/E|/" "$e"; rm -f "$e"; true'
        )

    def _walk(
        self,
        ctx: ModuleContext,
        top: Node,
        files: list[dict[str, Any]],
        now: float,
        limit: int | None,
        hits: set[str] | None,
    ) -> tuple[int, bool]:
        """Replay Ansible's os.walk loop over the listing: (entries examined, limit hit);
        hits: the paths whose content matched (None: no content filter)."""
        depth = ctx.arg("depth")
        recurse = bool(ctx.arg("recurse"))
        follow = bool(ctx.arg("follow"))
        looked = 0
        roots: list[tuple[Node, int]] = [(top, 0)]
        while roots:
            root, level = roots.pop(0)
            nondirs = [c for c in root.children if c.target_kind != "d"]
            dirs = [c for c in root.children if c.target_kind == "d"]
            looked += len(root.children)
            deeper = True
            for node in nondirs + dirs:
                if depth and level + 1 > depth:
                    deeper = False
                    continue
                base = posixpath.basename(node.entry["path"])
                if base.startswith(".") and not ctx.arg("hidden"):
                    continue
                if self._wanted(ctx, node, base, now) and (
                    hits is None or node.entry["path"] in hits
                ):
                    files.append(node.entry)
                if limit is not None and len(files) == limit:
                    return looked, True
            if not recurse:
                break
            if deeper:
                roots[0:0] = [(d, level + 1) for d in dirs if follow or d.kind != "l"]
        return looked, False

    def _wanted(self, ctx: ModuleContext, node: Node, base: str, now: float) -> bool:
        kind = str(ctx.arg("file_type"))
        entry = node.entry
        if kind != "any" and node.kind != KINDS[kind]:
            return False
        patterns = list(ctx.arg("patterns") or []) or [".*" if ctx.arg("use_regex") else "*"]
        if not _pfilter(base, patterns, ctx.arg("excludes"), bool(ctx.arg("use_regex"))):
            return False
        if ctx.arg("age") is not None:
            age = parse_age(str(ctx.arg("age")))
            since = now - float(entry[str(ctx.arg("age_stamp"))])
            if not ((age >= 0 and since >= abs(age)) or (age < 0 and since <= abs(age))):
                return False
        mode = ctx.arg("mode")
        if mode:
            want = parse_mode(str(mode))
            have = int(entry["mode"], 8)
            if not (have == want if ctx.arg("exact_mode") else bool(have & want)):
                return False
        if ctx.arg("size") is not None and node.kind == "f":
            size = parse_size(str(ctx.arg("size")))
            have_size = int(entry["size"])
            if not (
                (size >= 0 and have_size >= abs(size)) or (size < 0 and have_size <= abs(size))
            ):
                return False
        return True

    def _containing(self, ctx: ModuleContext, files: list[dict[str, Any]]) -> set[str]:
        """The paths of files with a line (or, read_whole_file, text) matching contains."""
        if not files:
            return set()
        pattern = str(ctx.arg("contains"))
        whole = bool(ctx.arg("read_whole_file"))
        flags = "-qzP" if whole else "-qP"
        rx = pattern if whole else f"^(?:{pattern})"
        encoding = ctx.arg("encoding")
        if encoding:
            decode = f'iconv -f {q(str(encoding))} -t UTF-8 -- "$f" 2>/dev/null'
            test = f"{decode} | grep {flags} -- {q(rx)}"
        else:
            test = f'grep {flags} -- {q(rx)} "$f" 2>/dev/null'
        listing = "".join(f"{f['path']}\n" for f in files).encode()
        res = ctx.run(
            f'while IFS= read -r f; do {test} && printf "%s\\n" "$f"; done; true', stdin=listing
        )
        return set(res.stdout.splitlines())

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


def _pfilter(name: str, patterns: list[Any], excludes: list[Any] | None, use_regex: bool) -> bool:
    """Ansible's pfilter: a pattern matches and no exclude does."""

    def hit(pattern: Any) -> bool:
        if use_regex:
            return re.match(str(pattern), name) is not None
        return fnmatch.fnmatch(name, str(pattern))

    if not any(hit(p) for p in patterns):
        return False
    return not any(hit(e) for e in excludes or [])


DENIED = re.compile("^E\\|find: [\u2018'](.*)[\u2019']: Permission denied$")


def _tree(path: str, stdout: str) -> tuple[Node, dict[str, str]]:
    """The listing as a tree under its top folder (the first line: the path searched),
    and the folders the walk could not read (as Ansible's skipped_paths words them)."""
    lines = stdout.split("\n")
    top_path = lines[0] if lines else path
    top = Node({"path": top_path}, "d", "d")
    nodes: dict[str, Node] = {posixpath.normpath(top_path): top}
    errors: dict[str, str] = {}
    for line in lines[1:]:
        denied = DENIED.match(line)
        if denied:
            errors[denied.group(1)] = f"[Errno 13] Permission denied: '{denied.group(1)}'"
            continue
        parsed = _entry(line)
        if parsed is None:
            continue
        entry, kind, target = parsed
        raw = str(entry["path"])
        entry["path"] = posixpath.normpath(raw)
        node = Node(entry, kind, target)
        nodes[entry["path"]] = node
        parent = nodes.get(posixpath.dirname(entry["path"]))
        if parent is not None:
            parent.children.append(node)
    return top, errors


def _entry(line: str) -> tuple[dict[str, Any], str, str] | None:
    parts = line.split("|", FIELDS - 1)
    if len(parts) < FIELDS:
        return None
    kind, target, mode_text = parts[0], parts[1], parts[2]
    mode = int(mode_text, 8)
    entry: dict[str, Any] = {
        "path": parts[14],
        "mode": f"0{mode:03o}",
        "isdir": kind == "d",
        "ischr": kind == "c",
        "isblk": kind == "b",
        "isreg": kind == "f",
        "isfifo": kind == "p",
        "islnk": kind == "l",
        "issock": kind == "s",
        "uid": int(parts[7]),
        "gid": int(parts[8]),
        "size": int(parts[3]),
        "inode": int(parts[12]),
        "dev": int(parts[13]),
        "nlink": int(parts[11]),
        "atime": float(parts[5]),
        "mtime": float(parts[4]),
        "ctime": float(parts[6]),
        "gr_name": parts[10],
        "pw_name": parts[9],
    }
    for who, shift in (("usr", 6), ("grp", 3), ("oth", 0)):
        for perm, bit in (("w", 2), ("r", 4), ("x", 1)):
            entry[f"{perm}{who}"] = bool(mode >> shift & bit)
    entry["isuid"] = bool(mode & st_mod.S_ISUID)
    entry["isgid"] = bool(mode & st_mod.S_ISGID)
    return entry, kind, target if target in "fdlcbps" and target else kind
