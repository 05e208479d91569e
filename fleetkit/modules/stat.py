"""stat: what a path is on the host, as Ansible's `stat` result (`stat.exists`, ...).

One command reads the inode fields, access tests, checksum, MIME type and
attributes; nothing changes, so check mode runs it as it is.
"""

from __future__ import annotations

import stat as st_mod
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
FIELDS = "%f|%u|%g|%s|%X|%Y|%Z|%i|%d|%h|%b|%B|%t|%T|%U|%G"
ATTR_NAMES = {
    "a": "append",
    "A": "noatime",
    "c": "compressed",
    "C": "nocow",
    "d": "nodump",
    "D": "dirsync",
    "e": "extents",
    "E": "encrypted",
    "F": "casefold",
    "i": "immutable",
    "I": "indexed",
    "j": "journalled",
    "N": "inline_data",
    "P": "project_hierarchy",
    "s": "secure_delete",
    "S": "synchronous",
    "t": "notail",
    "T": "topdir",
    "u": "undelete",
    "V": "verity",
    "x": "dax",
}


def stat_script(
    path: str,
    *,
    follow: bool = False,
    checksum: str | None = "sha1",
    mime: bool = True,
    attributes: bool = True,
) -> str:
    """A shell script printing tagged lines about path (or 'T:missing')."""
    lflag = "-L " if follow else ""
    test = '[ -f "$p" ]' if follow else '[ -f "$p" ] && [ ! -L "$p" ]'
    parts = [
        f"p={q(path)}",
        'if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo T:missing; exit 0; fi',
        f'echo "S:$(stat {lflag}-c \'{FIELDS}\' -- "$p")"',
        'if [ -L "$p" ]; then echo "L:$(readlink -- "$p")"; echo "R:$(readlink -f -- "$p")"; fi',
        '[ -r "$p" ] && echo A:r; [ -w "$p" ] && echo A:w; [ -x "$p" ] && echo A:x',
    ]
    if checksum:
        parts.append(
            f'if {test} && [ -r "$p" ]; then echo "H:$({checksum}sum < "$p" | cut -d" " -f1)"; fi'
        )
    if mime:
        parts.append(
            'if command -v file >/dev/null; then echo "M:$(file -b --mime-type -- "$p")";'
            ' echo "E:$(file -b --mime-encoding -- "$p")"; fi'
        )
    if attributes:
        parts.append(
            "if command -v lsattr >/dev/null; then"
            ' echo "X:$(lsattr -d -- "$p" 2>/dev/null | cut -d" " -f1)"; fi'
        )
    parts.append("true")
    return "; ".join(parts)


def parse_stat(path: str, stdout: str) -> dict[str, Any]:
    """stat_script's output -> Ansible's `stat` dictionary."""
    tags: dict[str, str] = {}
    access: set[str] = set()
    for line in stdout.splitlines():
        if line == "T:missing":
            return {"exists": False}
        tag, _, value = line.partition(":")
        if tag == "A":
            access.add(value)
        elif tag:
            tags[tag] = value
    fields = tags.get("S", "").split("|")
    if len(fields) < 16:
        raise ValueError(f"unexpected stat output: {stdout[:200]!r}")
    raw = int(fields[0], 16)
    mode = st_mod.S_IMODE(raw)
    out: dict[str, Any] = {
        "exists": True,
        "path": path,
        "mode": f"{mode:04o}",
        "isdir": st_mod.S_ISDIR(raw),
        "ischr": st_mod.S_ISCHR(raw),
        "isblk": st_mod.S_ISBLK(raw),
        "isreg": st_mod.S_ISREG(raw),
        "isfifo": st_mod.S_ISFIFO(raw),
        "islnk": st_mod.S_ISLNK(raw),
        "issock": st_mod.S_ISSOCK(raw),
        "uid": int(fields[1]),
        "gid": int(fields[2]),
        "size": int(fields[3]),
        "atime": float(fields[4]),
        "mtime": float(fields[5]),
        "ctime": float(fields[6]),
        "inode": int(fields[7]),
        "dev": int(fields[8]),
        "nlink": int(fields[9]),
        "blocks": int(fields[10]),
        "block_size": int(fields[11]),
        "device_type": (int(fields[12], 16) << 8) + int(fields[13], 16),
        "pw_name": fields[14],
        "gr_name": "|".join(fields[15:]),
        "readable": "r" in access,
        "writeable": "w" in access,
        "executable": "x" in access,
    }
    for who, shift in (("usr", 6), ("grp", 3), ("oth", 0)):
        for perm, bit in (("r", 4), ("w", 2), ("x", 1)):
            out[f"{perm}{who}"] = bool(mode >> shift & bit)
    out["isuid"] = bool(mode & st_mod.S_ISUID)
    out["isgid"] = bool(mode & st_mod.S_ISGID)
    if "L" in tags:
        out["lnk_target"] = tags["L"]
        out["lnk_source"] = tags.get("R", "")
    if "H" in tags:
        out["checksum"] = tags["H"]
    if "M" in tags:
        out["mimetype"] = tags["M"]
        out["charset"] = tags.get("E", "")
    if tags.get("X"):
        flags = tags["X"].replace("-", "")
        out["attr_flags"] = flags
        out["attributes"] = [ATTR_NAMES.get(f, f) for f in flags]
    return out


class Stat(Module):
    name = "stat"
    args: ClassVar[dict[str, Arg]] = {
        "path": Arg("path", required=True, aliases=("dest", "name")),
        "follow": Arg("bool", default=False),
        "get_checksum": Arg("bool", default=True),
        "checksum_algorithm": Arg(
            "str", default="sha1", choices=ALGORITHMS, aliases=("checksum", "checksum_algo")
        ),
        "get_mime": Arg("bool", default=True, aliases=("mime", "mime_type", "mime-type")),
        "get_attributes": Arg("bool", default=True, aliases=("attr", "attributes")),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path"))
        script = stat_script(
            path,
            follow=bool(ctx.arg("follow")),
            checksum=str(ctx.arg("checksum_algorithm")) if ctx.arg("get_checksum") else None,
            mime=bool(ctx.arg("get_mime")),
            attributes=bool(ctx.arg("get_attributes")),
        )
        res = ctx.run(script)
        if not res.ok:
            return fail(f"cannot stat {path}: {res.stderr.strip() or res.rc}", rc=res.rc)
        try:
            info = parse_stat(path, res.stdout)
        except ValueError as err:
            return fail(str(err))
        msg = "exists" if info["exists"] else "does not exist"
        return ModuleResult(
            msg=f"{path} {msg}",
            data={"stat": info},
            registered={"changed": False, "failed": False, "stat": info},
        )
