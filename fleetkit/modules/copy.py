"""copy: put a file on the host from inline `content` or a controller `src` file.

The host's checksum is compared first; the file is written (atomically) only
when its content differs, and mode/owner/group are fixed only when they differ.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import (
    RemoteError,
    RemoteStat,
    ValidationFailed,
    attrs_differ,
    resolve_mode,
    set_attrs,
    sha256,
    stat,
    stat_keys,
    unified_diff,
    write_file,
)

FILE_ARGS: dict[str, Arg] = {
    "dest": Arg("path", required=True, aliases=("path",)),
    "mode": Arg("mode"),
    "owner": Arg("str"),
    "group": Arg("str"),
    "backup": Arg("bool", default=False),
    "force": Arg("bool", default=True),
    "validate": Arg("str"),
}


def put_content(ctx: ModuleContext, dest: str, data: bytes) -> ModuleResult:
    """Make dest hold data with the wanted attributes; honest changed, check and diff,
    and the value Ansible's copy registers."""
    mr, after, source = _put(ctx, dest, data)
    if mr.failed or ctx.check or after is None or not after.exists:
        return mr
    value: dict[str, Any] = {
        "changed": mr.changed,
        "failed": False,
        "checksum": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        "dest": dest,
        "diff": [],
        **stat_keys(after),
    }
    if source:
        # the content was sent: Ansible registers its md5 and the uploaded source
        value["md5sum"] = hashlib.md5(data, usedforsecurity=False).hexdigest()
        value["src"] = source
    else:
        value["path"] = dest
    if "backup_file" in mr.data:
        value["backup_file"] = mr.data["backup_file"]
    return replace(mr, registered=value)


def _put(ctx: ModuleContext, dest: str, data: bytes) -> tuple[ModuleResult, RemoteStat | None, str]:
    """put_content's work: the result, the file's stat after (None: not known) and the
    temporary file the content went through ('' when none was written)."""
    try:
        st = stat(ctx, dest, content=ctx.diff)
        if st.exists and st.kind == "directory":
            return fail(f"{dest} is a directory: give a file path as dest"), None, ""
        mode = resolve_mode(st.mode if st.exists else 0o644, ctx.arg("mode"))
        owner: str | None = ctx.arg("owner")
        group: str | None = ctx.arg("group")
        if st.exists and not ctx.arg("force"):
            return ModuleResult(msg=f"{dest} exists (force: no)", data={"dest": dest}), None, ""
        if st.exists and st.kind == "file" and st.sha256 == sha256(data):
            changes = attrs_differ(st, mode, owner, group)
            if not changes:
                return ModuleResult(msg="unchanged", data={"dest": dest}), st, ""
            if not ctx.check:
                set_attrs(ctx, dest, mode, owner, group)
            verb = "would change" if ctx.check else "changed"
            mr = ModuleResult(changed=True, msg=f"{verb} {', '.join(changes)}", data={"dest": dest})
            return mr, (None if ctx.check else stat(ctx, dest, checksum=False)), ""
        diff = unified_diff(st.content if st.exists else None, data, dest) if ctx.diff else ""
        msg = f"{'would write' if ctx.check else 'wrote'} {len(data)} bytes"
        msg += "" if st.exists else " (new file)"
        backup, source, after = "", "", None
        if not ctx.check:
            written = write_file(
                ctx,
                dest,
                data,
                mode=mode if mode is not None else (st.mode if st.exists else 0o644),
                owner=owner,
                group=group,
                backup=bool(ctx.arg("backup")) and st.exists,
                keep=st,
                validate=ctx.arg("validate"),
            )
            backup, source, after = written.backup, written.source, written.stat
    except ValidationFailed as err:
        # Ansible's copy: msg "failed to validate" with the validator's exit_status and output
        value = {
            "changed": False,
            "failed": True,
            "msg": "failed to validate",
            "exit_status": err.rc,
            "stdout": err.stdout,
            "stderr": err.stderr,
        }
        mr = fail("failed to validate", rc=err.rc, stdout=err.stdout, stderr=err.stderr)
        return replace(mr, registered=value), None, ""
    except RemoteError as err:
        return fail(str(err)), None, ""
    if backup:
        mr = ModuleResult(
            changed=True,
            msg=f"{msg}, backup {backup}",
            diff=diff,
            data={"dest": dest, "backup_file": backup},
        )
        return mr, after, source
    return ModuleResult(changed=True, msg=msg, diff=diff, data={"dest": dest}), after, source


class Copy(Module):
    name = "copy"
    args: ClassVar[dict[str, Arg]] = {
        "src": Arg("path"),
        "content": Arg("raw"),
        **FILE_ARGS,
        "remote_src": Arg("bool", default=False),
    }
    exclusive = (("src", "content"),)
    one_of = (("src", "content"),)
    ansible_when_true = ("remote_src",)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("remote_src"):  # the loader gave such a task to Ansible's copy module
            return ["remote_src: true is run by Ansible's copy module (ansible-core needed)"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        dest = str(ctx.arg("dest"))
        content = ctx.arg("content")
        if content is not None:
            data = content if isinstance(content, bytes) else _text(content).encode()
        else:
            src = str(ctx.arg("src"))
            found = ctx.find_file(src)
            if found is None:
                return fail(
                    f"src {src} not found on the controller (looked in files/ beside the playbook)"
                )
            if not found.is_file():
                return fail(f"src {found} is a directory: copy takes one file (use a loop)")
            data = found.read_bytes()
            if dest.endswith("/"):
                dest = posixpath.join(dest, found.name)
        return put_content(ctx, dest, data)


def _text(value: object) -> str:
    """Content as text as Ansible's copy writes it: strings as they are, a mapping or list
    as json.dumps (keys in their order, ASCII escapes, no newline), anything else str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple):
        import json

        return json.dumps(value, default=_plain)
    return str(value)


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)
