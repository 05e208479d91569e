"""Remote file primitives shared by file-changing modules, each in one round trip.

`stat` reads type, mode, owner, checksum (and content when a diff or an edit
needs it) with one command; `write_file` replaces a file atomically (temp file in
the same directory, chmod/chown, optional backup, rename). Modules compare what
`stat` returns with the wanted state and call `write_file` only when they differ.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
import shlex
from dataclasses import dataclass
from typing import Any

from fleetkit.connection.base import CommandResult
from fleetkit.modules.base import ModuleContext

MAX_DIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class RemoteStat:
    """What a path is on the host; `exists` False means nothing is there."""

    exists: bool
    kind: str = ""  # file | directory | link | other
    mode: int = 0
    uid: int = -1
    gid: int = -1
    owner: str = ""
    group: str = ""
    size: int = 0
    sha256: str = ""
    target: str = ""
    content: bytes | None = None
    umask: int = 0o022
    """The umask the host's shell runs with (a symbolic mode without a user class)."""


class RemoteError(Exception):
    """A remote file operation failed (the message says which and why)."""


class ValidationFailed(RemoteError):
    """A `validate` command refused the new content; the file was left as it was."""

    def __init__(self, path: str, rc: int, stdout: str, stderr: str) -> None:
        super().__init__(
            f"validation of {path} failed (rc {rc}): {stderr.strip() or stdout.strip()}"
        )
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


_TMP_MARK = "__FLEETKIT_VALIDATE_TMP__"


def validate_command(validate: str) -> str:
    """Ansible's `validate` as a shell command on "$tmp": `validate % tmpfile`, then split as
    run_command splits a string (shlex, no shell), each word quoted.

    ValueError when there is no %s (Ansible's "validate must contain %s") or the
    %-format is bad."""
    if "%s" not in validate:
        raise ValueError(f"validate must contain %s: {validate}")
    try:
        formatted = validate % _TMP_MARK
    except (TypeError, ValueError) as err:
        raise ValueError(f"validate {validate!r}: {err}") from None
    words = shlex.split(formatted)
    quoted = ("'" + w.replace("'", "'\\''") + "'" for w in words)
    return " ".join(quoted).replace(_TMP_MARK, "'\"$tmp\"'")


def q(text: str) -> str:
    """Shell-quote text."""
    return shlex.quote(text)


def stat_script(path: str, *, checksum: bool = True, content: bool = False) -> str:
    p = q(path)
    parts = [
        f"p={p}",
        'echo "U:$(umask)"',
        'if [ -L "$p" ]; then t=link; elif [ -d "$p" ]; then t=directory;'
        ' elif [ -f "$p" ]; then t=file; elif [ -e "$p" ]; then t=other;'
        " else echo T:missing; exit 0; fi",
        'echo "T:$t"',
        'echo "S:$(stat -c \'%a %u %g %U %G %s\' "$p")"',
        'if [ "$t" = link ]; then echo "L:$(readlink "$p")"; fi',
    ]
    if checksum:
        parts.append('if [ "$t" = file ]; then echo "H:$(sha256sum < "$p" | cut -d" " -f1)"; fi')
    if content:
        parts.append('if [ "$t" = file ]; then echo C:; base64 < "$p"; fi')
    return "; ".join(parts)


def parse_stat(stdout: str) -> RemoteStat:
    """Parse stat_script's output."""
    kind = ""
    fields: list[str] = []
    sha = ""
    target = ""
    content: bytes | None = None
    umask = 0o022
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("U:") and line[2:].strip().isdigit():
            umask = int(line[2:].strip(), 8)
        elif line.startswith("T:"):
            kind = line[2:]
        elif line.startswith("S:"):
            fields = line[2:].split()
        elif line.startswith("L:"):
            target = line[2:]
        elif line.startswith("H:"):
            sha = line[2:]
        elif line == "C:":
            content = base64.b64decode("".join(lines[i + 1 :]))
            break
    if kind in ("", "missing"):
        return RemoteStat(exists=False, umask=umask)
    if len(fields) < 6:
        raise RemoteError(f"unexpected stat output: {stdout[:200]!r}")
    return RemoteStat(
        exists=True,
        kind=kind,
        mode=int(fields[0], 8),
        uid=int(fields[1]),
        gid=int(fields[2]),
        owner=fields[3],
        group=fields[4],
        size=int(fields[5]),
        sha256=sha,
        target=target,
        content=content,
        umask=umask,
    )


def stat(
    ctx: ModuleContext, path: str, *, checksum: bool = True, content: bool = False
) -> RemoteStat:
    """Stat path on the host in one round trip; RemoteError when the command fails."""
    res = ctx.run(stat_script(path, checksum=checksum, content=content))
    if not res.ok:
        raise RemoteError(f"cannot stat {path}: {_why(res)}")
    return parse_stat(res.stdout)


def _why(res: CommandResult) -> str:
    if res.timed_out:
        return "timed out"
    return res.stderr.strip() or res.stdout.strip() or f"rc={res.rc}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def owner_spec(owner: str | None, group: str | None) -> str:
    """The chown argument for owner and/or group ('' when neither is wanted)."""
    if owner and group:
        return f"{owner}:{group}"
    if owner:
        return owner
    if group:
        return f":{group}"
    return ""


@dataclass(frozen=True)
class Written:
    """What write_file did: the backup made ('' if none), the temporary file the data
    went through and the file's stat once in place."""

    backup: str
    source: str
    stat: RemoteStat


def write_file(
    ctx: ModuleContext,
    path: str,
    data: bytes,
    *,
    mode: int | str | None,
    owner: str | None = None,
    group: str | None = None,
    backup: bool = False,
    keep: RemoteStat | None = None,
    validate: str | None = None,
) -> Written:
    """Replace path with data atomically: what was done (backup, temporary file, the
    file's stat once in place), in one round trip.

    `keep` is the file's current stat: its owner is kept (best effort) unless
    owner/group say otherwise, since a rename would otherwise hand it to us.
    `validate` (Ansible's, with %s for the file) runs on the temporary file once it has
    its mode and owner; when it fails nothing is replaced and ValidationFailed says why.
    """
    p = q(path)
    steps = [
        "set -e",
        f"p={p}",
        'd=$(dirname "$p")',
        'tmp=$(mktemp "$d/.fleetkit.XXXXXX")',
        "trap 'rm -f \"$tmp\"' EXIT",
        'cat > "$tmp"',
        f'chmod {_mode_arg(mode)} "$tmp"',
    ]
    chown = owner_spec(owner, group)
    if chown:
        steps.append(f'chown {q(chown)} "$tmp"')
    elif keep is not None and keep.exists:
        steps.append(f'chown {keep.uid}:{keep.gid} "$tmp" 2>/dev/null || true')
    if validate is not None:
        try:
            check = validate_command(validate)
        except ValueError as err:
            raise RemoteError(str(err)) from None
        steps += [
            'vo=$(mktemp); ve=$(mktemp); trap \'rm -f "$tmp" "$vo" "$ve"\' EXIT',
            f'vrc=0; {check} >"$vo" 2>"$ve" < /dev/null || vrc=$?',
            'if [ "$vrc" != 0 ]; then echo "V:$vrc"; echo "VO:$(base64 < "$vo" | tr -d \'\\n\')";'
            ' echo "VE:$(base64 < "$ve" | tr -d \'\\n\')"; exit 0; fi',
        ]
    if backup:
        steps.append(
            'if [ -f "$p" ]; then b="$p.$(date +%Y%m%d%H%M%S)~"; cp -p "$p" "$b"; echo "B:$b"; fi'
        )
    steps.append('mv -f "$tmp" "$p"')
    steps.append('echo "W:$tmp"; echo T:file')
    steps.append('echo "S:$(stat -c \'%a %u %g %U %G %s\' "$p")"')
    res = ctx.run("; ".join(steps), stdin=data)
    if not res.ok:
        raise RemoteError(f"cannot write {path}: {_why(res)}")
    made, source = "", ""
    lines = res.stdout.splitlines()
    if lines and lines[0].startswith("V:"):
        out = dict(line.split(":", 1) for line in lines[1:3] if ":" in line)
        raise ValidationFailed(
            path,
            int(lines[0][2:]),
            base64.b64decode(out.get("VO", "")).decode(errors="replace"),
            base64.b64decode(out.get("VE", "")).decode(errors="replace"),
        )
    for line in lines:
        if line.startswith("B:"):
            made = line[2:]
        elif line.startswith("W:"):
            source = line[2:]
    try:
        after = parse_stat(res.stdout)
    except RemoteError:
        after = RemoteStat(exists=False)
    return Written(made, source, after)


def stat_keys(st: RemoteStat) -> dict[str, Any]:
    """The stat keys Ansible's file and copy register for a path that exists."""
    return {
        "uid": st.uid,
        "gid": st.gid,
        "owner": st.owner,
        "group": st.group,
        "mode": f"0{st.mode:03o}",
        "size": st.size,
        "state": st.kind if st.kind in ("file", "directory", "link") else "file",
    }


def _mode_arg(mode: int | str | None) -> str:
    if mode is None:
        return "0644"
    if isinstance(mode, int):
        return f"{mode:04o}"
    return q(mode)


def resolve_mode(
    current: int, wanted: int | str | None, *, is_dir: bool = False, umask: int = 0o022
) -> int | None:
    """The numeric mode `wanted` gives when applied to `current` (None: leave as is);
    umask: the host's, for a symbolic mode without a user class (RemoteStat.umask)."""
    if wanted is None:
        return None
    if isinstance(wanted, int):
        return wanted
    return apply_symbolic(current, wanted, is_dir=is_dir, umask=umask)


_SYMBOLIC_USERS = re.compile(r"^[ugo]+$")
_SYMBOLIC_PERMS = re.compile(r"^[rwxXstugo]*$")
_EQ_MASK = {"u": 0o4700, "g": 0o2070, "o": 0o1007}
"""What `=` clears for each user class (its rwx bits and its s/t bit), as Ansible."""
_SHIFT = {"u": 6, "g": 3, "o": 0}


def apply_symbolic(current: int, spec: str, *, is_dir: bool = False, umask: int = 0o022) -> int:
    """Apply a chmod symbolic mode ('u+x,go-w', 'g=u', '=rw') to a numeric mode, as
    ansible's _symbolic_mode_to_octal does: clauses in order, each user class in turn
    (so a copy like `g=u` reads what the earlier ones made); `X` where the path is a
    directory or already has an x bit; no user class means all of them less the umask's
    bits (for r, w and x). ValueError for a malformed mode."""
    mode = current & 0o7777
    for clause in spec.split(","):
        parts = re.split(r"[+=-]", clause)
        ops = re.findall(r"[+=-]", clause)
        users = parts.pop(0)
        use_umask = users == ""
        if users in ("", "a"):
            users = "ugo"
        if not _SYMBOLIC_USERS.match(users):
            raise ValueError(f"bad symbolic permission for mode: {clause}")
        for op, perms in zip(ops, parts, strict=True):
            if not _SYMBOLIC_PERMS.match(perms):
                raise ValueError(f"bad symbolic permission for mode: {clause}")
            for user in users:
                bits = 0
                for perm in perms:
                    bits |= _perm_bits(user, perm, mode, is_dir=is_dir, umask=umask, all_=use_umask)
                if op == "=":
                    mode = (mode & ~_EQ_MASK[user]) | bits
                elif op == "+":
                    mode |= bits
                else:
                    mode &= ~bits
    return mode & 0o7777


def _perm_bits(user: str, perm: str, mode: int, *, is_dir: bool, umask: int, all_: bool) -> int:
    """The bits one permission letter means for one user class (Ansible's table)."""
    shift = _SHIFT[user]
    if perm in "rwx":
        bit = {"r": 4, "w": 2, "x": 1}[perm] << shift
        return bit & ~umask if all_ else bit
    if perm == "X":
        return (1 << shift) if is_dir or mode & 0o111 else 0
    if perm == "s":
        return {"u": 0o4000, "g": 0o2000, "o": 0}[user]
    if perm == "t":
        return 0o1000 if user == "o" else 0
    copied = (mode >> _SHIFT[perm]) & 0o7  # u, g, o: that class's rwx
    return copied << shift


def attrs_differ(
    st: RemoteStat, mode: int | None, owner: str | None, group: str | None
) -> list[str]:
    """Which of mode/owner/group differ from the stat (names, for messages)."""
    out: list[str] = []
    if mode is not None and st.mode != mode:
        out.append(f"mode {st.mode:04o} -> {mode:04o}")
    if owner is not None and owner not in (st.owner, str(st.uid)):
        out.append(f"owner {st.owner} -> {owner}")
    if group is not None and group not in (st.group, str(st.gid)):
        out.append(f"group {st.group} -> {group}")
    return out


def set_attrs(
    ctx: ModuleContext, path: str, mode: int | None, owner: str | None, group: str | None
) -> None:
    """chmod/chown path as wanted, in one round trip."""
    steps: list[str] = []
    if mode is not None:
        steps.append(f"chmod {mode:04o} {q(path)}")
    chown = owner_spec(owner, group)
    if chown:
        steps.append(f"chown -h {q(chown)} {q(path)}")
    if not steps:
        return
    res = ctx.run(" && ".join(steps))
    if not res.ok:
        raise RemoteError(f"cannot set attributes of {path}: {_why(res)}")


def unified_diff(before: bytes | None, after: bytes | None, path: str) -> str:
    """A unified diff of two file contents (None = absent), or a one-line note for binaries."""
    old = before or b""
    new = after or b""
    if len(old) > MAX_DIFF_BYTES or len(new) > MAX_DIFF_BYTES:
        return f"--- {path}\n+++ {path}\n(file too large to diff)\n"
    try:
        old_text = old.decode()
        new_text = new.decode()
    except UnicodeDecodeError:
        return f"--- {path}\n+++ {path}\nBinary files differ\n"
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"{path} (before)" if before is not None else "/dev/null",
        tofile=f"{path} (after)" if after is not None else "/dev/null",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
