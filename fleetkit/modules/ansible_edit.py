"""The read-edit-write cycle of Ansible's lineinfile, blockinfile and replace.

Each of them reads the file (through a symlink: its target, as Ansible's realpath),
computes the new bytes in memory, writes them only when they differ (backup and
validate first, the existing file's mode and owner kept), and then sets the task's
mode/owner/group where they differ: "ownership, perms or SE linux context changed"
joins their message with " and ". A new file gets the host's default mode (0666 less
the umask) before the task's mode is applied, as Ansible's atomic_move gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetkit.modules.base import Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import (
    RemoteError,
    RemoteStat,
    ValidationFailed,
    attrs_differ,
    q,
    resolve_mode,
    set_attrs,
    stat,
    write_file,
)
from fleetkit.modules.textfile import validation_failed

ATTRS_CHANGED = "ownership, perms or SE linux context changed"


@dataclass(frozen=True)
class Target:
    """The file a task edits: the path as given, the path read and written, its stat."""

    path: str
    real: str
    st: RemoteStat

    @property
    def content(self) -> bytes:
        return self.st.content or b"" if self.st.exists else b""


def open_target(ctx: ModuleContext, path: str) -> Target:
    """Stat path with its content; a symlink is followed to the file it names."""
    st = stat(ctx, path, content=True)
    if st.kind != "link":
        return Target(path, path, st)
    res = ctx.run(f"readlink -f -- {q(path)}")
    real = res.stdout.strip()
    if not res.ok or not real:
        raise RemoteError(f"cannot resolve the link {path}: {res.stderr.strip()}")
    return Target(path, real, stat(ctx, real, content=True))


class EditModule(Module):
    """lineinfile, blockinfile and replace: the file opened (a symlink followed), a
    folder refused as Ansible refuses it, then the module's edit; a failed `validate`
    is Ansible's message, a remote or value error the task's failure."""

    def run(self, ctx: ModuleContext) -> ModuleResult:
        path = str(ctx.arg("path"))
        try:
            target = open_target(ctx, path)
            if target.st.exists and target.st.kind == "directory":
                return fail(f"Path {path} is a directory !", rc=256)
            return self.edit(ctx, target)
        except ValidationFailed as err:
            return validation_failed(err)
        except (RemoteError, ValueError) as err:
            return fail(str(err))

    def edit(self, ctx: ModuleContext, target: Target) -> ModuleResult:
        """The module's own edit of target (not a folder)."""
        raise NotImplementedError


def make_parent(ctx: ModuleContext, target: Target) -> str | None:
    """Create the missing folder of a new file (Ansible's os.makedirs); the error text."""
    parent = target.real.rsplit("/", 1)[0] if "/" in target.real.strip("/") else ""
    if not parent:
        return None
    made = ctx.run(f"[ -d {q(parent)} ] || mkdir -p -- {q(parent)}")
    return None if made.ok else made.stderr.strip() or f"rc={made.rc}"


def write(
    ctx: ModuleContext, target: Target, data: bytes, *, backup: bool, validate: str | None
) -> tuple[list[str], str]:
    """Write data (not in check mode): (the attributes that differed and were set, the
    backup file or '')."""
    st = target.st
    if not st.exists:
        write_file(ctx, target.real, data, mode=0o666 & ~st.umask, validate=validate)
        return attributes(ctx, target.real, stat(ctx, target.real, checksum=False)), ""
    mode = resolve_mode(st.mode, ctx.arg("mode"), umask=st.umask)
    changes = attrs_differ(st, mode, ctx.arg("owner"), ctx.arg("group"))
    written = write_file(
        ctx,
        target.real,
        data,
        mode=mode if mode is not None else st.mode,
        owner=ctx.arg("owner"),
        group=ctx.arg("group"),
        backup=backup,
        keep=st,
        validate=validate,
    )
    return changes, written.backup


def attributes(ctx: ModuleContext, path: str, st: RemoteStat) -> list[str]:
    """Set the task's mode/owner/group where they differ (only say so in check mode)."""
    if not st.exists:
        return []
    mode = resolve_mode(st.mode, ctx.arg("mode"), umask=st.umask)
    owner: str | None = ctx.arg("owner")
    group: str | None = ctx.arg("group")
    changes = attrs_differ(st, mode, owner, group)
    if changes and not ctx.check:
        set_attrs(ctx, path, mode, owner, group)
    return changes


def with_attributes(msg: str, changed: bool, attrs: list[str]) -> tuple[str, bool]:
    """Ansible's check_file_attrs: the message and changed once attributes were set."""
    if not attrs:
        return msg, changed
    return (f"{msg} and {ATTRS_CHANGED}" if changed else ATTRS_CHANGED), True
