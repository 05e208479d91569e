"""authorized_key: SSH public keys in a user's authorized_keys, added, updated or removed.

Keys are matched by their base64 blob, as Ansible does, so a key whose options
or comment changed is updated in place; `exclusive` drops every other key. The
file is 0600 and ~/.ssh 0700, both owned by the user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q
from fleetkit.modules.textfile import FileSpec, edit_file, join_lines, split_lines

KEY_TYPE = re.compile(r"^(ssh-|ecdsa-|sk-ssh-|sk-ecdsa-)[\w@.-]+$")


def parse_key(line: str) -> tuple[str, str, str, str] | None:
    """(options, type, blob, comment) of an authorized_keys line, None for others."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    tokens = _split(text)
    for i, token in enumerate(tokens):
        if KEY_TYPE.match(token) and i + 1 < len(tokens):
            return ",".join(tokens[:i]), token, tokens[i + 1], " ".join(tokens[i + 2 :])
    return None


def _split(text: str) -> list[str]:
    """Whitespace-split, keeping quoted option values (command="a b") whole."""
    out: list[str] = []
    current = ""
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if current:
                out.append(current)
            current = ""
            continue
        current += ch
    if current:
        out.append(current)
    return out


def key_line(options: str, kind: str, blob: str, comment: str) -> str:
    return " ".join(p for p in (options, kind, blob, comment) if p)


class AuthorizedKey(Module):
    name = "authorized_key"
    args: ClassVar[dict[str, Arg]] = {
        "user": Arg("str", required=True),
        "key": Arg("str", required=True),
        "path": Arg("path"),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "manage_dir": Arg("bool", default=True),
        "key_options": Arg("str"),
        "exclusive": Arg("bool", default=False),
        "comment": Arg("str"),
        "validate_certs": Arg("bool", default=True),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        key = str(args.get("key") or "")
        if key.startswith(("http://", "https://")):
            return ["module authorized_key: key URLs are not supported; give the key text"]
        if not [ln for ln in key.splitlines() if ln.strip() and not ln.strip().startswith("#")]:
            return ["module authorized_key: key holds no public key"]
        bad = [ln for ln in key.splitlines() if ln.strip() and parse_key(ln) is None]
        bad = [ln for ln in bad if not ln.strip().startswith("#")]
        if bad:
            return [f"module authorized_key: not an SSH public key: {bad[0][:60]!r}"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        user = str(ctx.arg("user"))
        res = ctx.run(f"getent passwd {q(user)} | cut -d: -f6; id -gn {q(user)}")
        lines = res.stdout.split()
        if not res.ok or len(lines) < 2:
            return fail(f"user {user} does not exist on the host", rc=res.rc)
        home, group = lines[0], lines[1]
        path = str(ctx.arg("path") or f"{home}/.ssh/authorized_keys")
        state = str(ctx.arg("state"))
        wanted = self._wanted(ctx)
        data = {
            "user": user,
            "key": ctx.arg("key"),
            "key_options": ctx.arg("key_options"),
            "keyfile": path,
            "path": ctx.arg("path"),
            "manage_dir": bool(ctx.arg("manage_dir")),
            "state": state,
            "exclusive": bool(ctx.arg("exclusive")),
            "validate_certs": bool(ctx.arg("validate_certs")),
        }
        dir_changed = False
        if ctx.arg("manage_dir") and state == "present":
            made = self._ssh_dir(ctx, path.rsplit("/", 1)[0], user, group)
            if made.failed:
                return made
            dir_changed = made.changed

        def change(text: str | None) -> tuple[str | None, str]:
            new = edit_keys(split_lines(text), wanted, state, exclusive=bool(ctx.arg("exclusive")))
            old = split_lines(text)
            if new == old:
                return text, "keys as wanted"
            if state == "absent":
                return join_lines(new), "removed key"
            have = {p[2] for p in (parse_key(ln) for ln in old) if p}
            added = [w for w in wanted if w[2] not in have]
            return join_lines(new), f"added {len(added)} key(s)" if added else "updated keys"

        spec = FileSpec(mode=0o600, owner=user, group=group, create=state == "present")
        result = edit_file(ctx, path, change, spec)
        if result.failed:
            return result
        return replace(result, changed=result.changed or dir_changed, data=data)

    @staticmethod
    def _wanted(ctx: ModuleContext) -> list[tuple[str, str, str, str]]:
        out = []
        for line in str(ctx.arg("key")).splitlines():
            parsed = parse_key(line)
            if parsed is None:
                continue
            options, kind, blob, comment = parsed
            if ctx.arg("key_options") is not None:
                options = str(ctx.arg("key_options"))
            if ctx.arg("comment") is not None:
                comment = str(ctx.arg("comment"))
            out.append((options, kind, blob, comment))
        return out

    @staticmethod
    def _ssh_dir(ctx: ModuleContext, directory: str, user: str, group: str) -> ModuleResult:
        d = q(directory)
        probe = ctx.run(f"[ -d {d} ] && stat -c '%a %U' {d}; true")
        if probe.stdout.strip() == f"700 {user}":
            return ModuleResult()
        if ctx.check:
            return ModuleResult(changed=True)
        res = ctx.run(f"mkdir -p {d} && chmod 0700 {d} && chown {q(user)}:{q(group)} {d}")
        if not res.ok:
            return fail(f"cannot make {directory}: {res.stderr.strip()}", rc=res.rc)
        return ModuleResult(changed=True)


def edit_keys(
    lines: list[str], wanted: list[tuple[str, str, str, str]], state: str, *, exclusive: bool
) -> list[str]:
    """authorized_keys lines with the wanted keys present (or absent)."""
    blobs = {w[2]: w for w in wanted}
    out: list[str] = []
    seen: set[str] = set()
    for line in lines:
        parsed = parse_key(line)
        if parsed is None:
            if not exclusive or not line.strip() or line.strip().startswith("#"):
                out.append(line)
            continue
        blob = parsed[2]
        if blob in blobs:
            if state == "present" and blob not in seen:
                out.append(key_line(*blobs[blob]))
                seen.add(blob)
            continue
        if not (exclusive and state == "present"):
            out.append(line)
    if state == "present":
        out += [key_line(*w) for w in wanted if w[2] not in seen]
    return out
