"""One read-edit-write cycle for modules that manage text inside a file.

blockinfile, replace, cron (cron_file), authorized_key, sysctl and mount (fstab)
all read a file, compute its new text and write it only when it differs; this
is that cycle once, on the shared remote primitives, with check mode, diff,
backup and mode/owner/group handled the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fleetkit.modules.base import ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import (
    RemoteError,
    RemoteStat,
    ValidationFailed,
    attrs_differ,
    q,
    resolve_mode,
    set_attrs,
    stat,
    unified_diff,
    write_file,
)


class EditError(Exception):
    """The wanted edit cannot be made (the message says why)."""


Change = Callable[[str | None], tuple[str | None, str]]
"""Current text (None: no file) -> new text (None: no file wanted) and what was done."""


@dataclass(frozen=True)
class FileSpec:
    """How the edited file should look besides its text."""

    mode: int | str | None = None
    owner: str | None = None
    group: str | None = None
    backup: bool = False
    create: bool = True
    default_mode: int = 0o644
    validate: str | None = None


def edit_file(ctx: ModuleContext, path: str, change: Change, spec: FileSpec) -> ModuleResult:
    """Apply change to the file at path on the host; honest changed, check mode and diff."""
    try:
        st = stat(ctx, path, content=True)
        if st.exists and st.kind not in ("file", "link"):
            return fail(f"{path} is a {st.kind}, not a file")
        before = (st.content or b"").decode(errors="surrogateescape") if st.exists else None
        after, what = change(before)
        if before is None and after is not None and not spec.create:
            return fail(f"{path} does not exist (create: yes creates it)")
        if after == before or (before is None and after is None):
            if not st.exists:
                return ModuleResult(msg=what)
            return _attrs_only(ctx, path, st, spec, what)
        old = before.encode(errors="surrogateescape") if before is not None else None
        new = after.encode(errors="surrogateescape") if after is not None else None
        diff = unified_diff(old, new, path) if ctx.diff else ""
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would have {what}", diff=diff)
        backup = ""
        if new is None:
            res = ctx.run(f"rm -f -- {q(path)}")
            if not res.ok:
                return fail(f"cannot remove {path}: {res.stderr.strip()}", rc=res.rc)
            return ModuleResult(changed=True, msg=what, diff=diff)
        mode = resolve_mode(st.mode if st.exists else spec.default_mode, spec.mode)
        backup = write_file(
            ctx,
            path,
            new,
            mode=mode if mode is not None else (st.mode if st.exists else spec.default_mode),
            owner=spec.owner,
            group=spec.group,
            backup=spec.backup and st.exists,
            keep=st,
            validate=spec.validate,
        ).backup
    except ValidationFailed as err:
        return validation_failed(err)
    except (RemoteError, EditError, ValueError) as err:
        return fail(str(err))
    data = {"backup_file": backup} if backup else {}
    return ModuleResult(changed=True, msg=what, diff=diff, data=data)


def validation_failed(err: ValidationFailed) -> ModuleResult:
    """lineinfile's, blockinfile's and replace's failure when `validate` refused the text."""
    return fail(f"failed to validate: rc:{err.rc} error:{err.stderr}", rc=err.rc)


def _attrs_only(
    ctx: ModuleContext, path: str, st: RemoteStat, spec: FileSpec, what: str
) -> ModuleResult:
    mode = resolve_mode(st.mode, spec.mode)
    changes = attrs_differ(st, mode, spec.owner, spec.group)
    if not changes:
        return ModuleResult(msg=what)
    if not ctx.check:
        set_attrs(ctx, path, mode, spec.owner, spec.group)
    verb = "would change" if ctx.check else "changed"
    return ModuleResult(changed=True, msg=f"{verb} {', '.join(changes)}")


def split_lines(text: str | None) -> list[str]:
    """A file's lines without their newlines ([] for no file)."""
    return (text or "").splitlines()


def join_lines(lines: list[str]) -> str:
    """Lines back to file text, newline-terminated ('' for none)."""
    return "".join(f"{ln}\n" for ln in lines)
