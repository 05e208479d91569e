"""apt_key: an OpenPGP key APT trusts, present or absent, read with the host's gpg.

The key material (data, a file on the host, or a url the host downloads) and
every keyring APT reads (/etc/apt/trusted.gpg, trusted.gpg.d/*.gpg|*.asc, and
`keyring` when given) are listed with `gpg --show-keys` in a throw-away
GNUPGHOME, so nothing touches a user's gpg home. A key whose fingerprint is
already there is ok; otherwise it is added, binary, to `keyring` or to
trusted.gpg.d/fleetkit-<short id>.gpg (apt-key itself is deprecated). A url that
cannot be fetched (an offline host) is a clear error naming data/file instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

TRUSTED = "/etc/apt/trusted.gpg"
TRUSTED_D = "/etc/apt/trusted.gpg.d"
_HEX = re.compile(r"^(0x)?[0-9A-Fa-f]{8}([0-9A-Fa-f]{8})?([0-9A-Fa-f]{24})?$")

# Lists "FILE FINGERPRINT" for each primary key of each file named in $@.
_LIST = (
    'for f in "$@"; do [ -f "$f" ] || continue; '
    'gpg --batch --show-keys --with-colons "$f" 2>/dev/null'
    ' | awk -F: -v f="$f" \'$1=="pub"{p=1;next} $1=="fpr"&&p{print "K:" f " " $10; p=0}\'; done'
)


def normalize_id(key_id: str) -> str:
    return key_id.upper().removeprefix("0X")


@dataclass(frozen=True)
class Probe:
    """The material's fingerprints, where keys already are, and the temp folder."""

    tmp: str
    material: tuple[str, ...]
    installed: tuple[tuple[str, str], ...]  # (file, fingerprint)

    def files_with(self, key_id: str) -> list[str]:
        kid = normalize_id(key_id)
        return sorted({f for f, fpr in self.installed if fpr.endswith(kid)})

    def has(self, fpr: str, keyring: str | None) -> bool:
        return any(f2 == fpr and (keyring is None or f == keyring) for f, f2 in self.installed)


def _parse(stdout: str) -> Probe:
    tmp = ""
    material: list[str] = []
    installed: list[tuple[str, str]] = []
    for line in stdout.splitlines():
        if line.startswith("T:"):
            tmp = line[2:]
        elif line.startswith("M:"):
            material.append(line[2:])
        elif line.startswith("K:"):
            path, _, fpr = line[2:].rpartition(" ")
            installed.append((path, fpr))
    return Probe(tmp, tuple(material), tuple(installed))


class AptKey(Module):
    name = "apt_key"
    args: ClassVar[dict[str, Arg]] = {
        "id": Arg("str"),
        "data": Arg("str"),
        "file": Arg("path"),
        "url": Arg("str"),
        "keyring": Arg("path"),
        "keyserver": Arg("str"),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "validate_certs": Arg("bool", default=True),
    }
    exclusive = (("data", "file", "url", "keyserver"),)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors: list[str] = []
        if args.get("id") and not _HEX.match(str(args["id"])):
            errors.append(f"module apt_key: id {args['id']!r} is not a key ID or fingerprint")
        if args.get("state") == "absent" and not args.get("id"):
            errors.append("module apt_key: state=absent needs id")
        if args.get("keyserver"):
            errors.append(
                "module apt_key: keyserver lookups are not supported (they need the"
                " network and a keyserver): give data, file or url"
            )
        given = any(args.get(k) for k in ("data", "file", "url"))
        if args.get("state") == "present" and not given and not args.get("id"):
            errors.append("module apt_key: state=present needs data, file, url or id")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        keyring = str(ctx.arg("keyring")) if ctx.arg("keyring") else None
        probe = _probe(ctx, keyring)
        if isinstance(probe, ModuleResult):
            return probe
        try:
            if ctx.arg("state") == "absent":
                return _remove(ctx, probe, str(ctx.arg("id")))
            return _add(ctx, probe, keyring)
        finally:
            ctx.run(f"rm -rf -- {q(probe.tmp)}")


def _probe(ctx: ModuleContext, keyring: str | None) -> Probe | ModuleResult:
    """One round trip: fetch the material into a temp folder, list its and APT's keys."""
    stdin: bytes | None = None
    if ctx.arg("data"):
        fetch = 'cat > "$t/key"'
        stdin = str(ctx.arg("data")).encode()
    elif ctx.arg("file"):
        fetch = f'cp -- {q(str(ctx.arg("file")))} "$t/key"'
    elif ctx.arg("url"):
        insecure = "" if ctx.arg("validate_certs") else " -k"
        url = q(str(ctx.arg("url")))
        fetch = (
            f'{{ curl -fsSL{insecure} --max-time 30 -o "$t/key" {url}'
            f' || wget -q -T 30 -O "$t/key" {url}; }}'
        )
    else:
        fetch = "true"
    rings = [TRUSTED, f"{TRUSTED_D}/*.gpg", f"{TRUSTED_D}/*.asc"]
    if keyring:
        rings.append(q(keyring))
    script = (
        "command -v gpg >/dev/null || { echo 'apt_key needs gpg on the host' >&2; exit 3; }\n"
        't=$(mktemp -d) && export GNUPGHOME="$t/home" && mkdir -m 700 "$GNUPGHOME"'
        ' && echo "T:$t"\n'
        f"{fetch} || {{ echo FETCH-FAILED; exit 0; }}\n"
        'if [ -f "$t/key" ]; then gpg --batch --show-keys --with-colons "$t/key" 2>/dev/null'
        ' | awk -F: \'$1=="pub"{p=1;next} $1=="fpr"&&p{print "M:" $10; p=0}\'; fi\n'
        f"set -- {' '.join(rings)}\n{_LIST}\n"
    )
    res = ctx.run(script, stdin=stdin)
    if not res.ok:
        return fail(res.stderr.strip() or f"apt_key: probe failed (rc={res.rc})", rc=res.rc)
    probe = _parse(res.stdout)
    if "FETCH-FAILED" in res.stdout:
        ctx.run(f"rm -rf -- {q(probe.tmp)}")
        what = ctx.arg("url") or ctx.arg("file")
        return fail(
            f"cannot get the key from {what} (is the host offline or the file missing?):"
            " give the key as data: or as a file: already on the host"
        )
    return probe


def _add(ctx: ModuleContext, probe: Probe, keyring: str | None) -> ModuleResult:
    key_id = str(ctx.arg("id") or "")
    has_material = any(ctx.arg(k) for k in ("data", "file", "url"))
    data: dict[str, Any] = {"id": key_id or None, "fp": list(probe.material)}
    if not has_material:
        found = probe.files_with(key_id)
        if found and (keyring is None or keyring in found):
            return ModuleResult(msg=f"key {key_id} present in {found[0]}", data=data)
        return fail(f"key {key_id} is not present and no data, file or url gives it", data=data)
    if not probe.material:
        return fail("the key material holds no OpenPGP public key", data=data)
    if key_id and not any(fpr.endswith(normalize_id(key_id)) for fpr in probe.material):
        return fail(f"the key material does not hold key {key_id}", data=data)
    missing = [fpr for fpr in probe.material if not probe.has(fpr, keyring)]
    if not missing:
        return ModuleResult(msg="key present", data=data)
    target = keyring or f"{TRUSTED_D}/fleetkit-{missing[0][-8:].lower()}.gpg"
    if ctx.check:
        return ModuleResult(changed=True, msg=f"would add key {missing[0]} to {target}", data=data)
    script = (
        f'k="{probe.tmp}/key"; if grep -q -- "-----BEGIN PGP" "$k"; then'
        f' gpg --batch --dearmor < "$k"; else cat "$k"; fi > "$k.bin"'
        f' && cat "$k.bin" >> {q(target)} && chmod 644 {q(target)}'
    )
    res = ctx.run(f'export GNUPGHOME="{probe.tmp}/home"; {script}')
    if not res.ok:
        return fail(f"cannot add the key to {target}: {res.stderr.strip()}", rc=res.rc)
    return ModuleResult(changed=True, msg=f"added key {', '.join(missing)} to {target}", data=data)


def _remove(ctx: ModuleContext, probe: Probe, key_id: str) -> ModuleResult:
    files = probe.files_with(key_id)
    data = {"id": key_id}
    if not files:
        return ModuleResult(msg=f"key {key_id} not present", data=data)
    if ctx.check:
        return ModuleResult(changed=True, msg=f"would remove {key_id} from {files[0]}", data=data)
    kid = normalize_id(key_id)
    for path in files:
        others = [fpr for f, fpr in probe.installed if f == path and not fpr.endswith(kid)]
        if not others:
            res = ctx.run(f"rm -f -- {q(path)}")
        elif path.endswith(".asc"):
            return fail(f"{path} holds other keys too; an armored file cannot be edited")
        else:
            fprs = " ".join(fpr for f, fpr in probe.installed if f == path and fpr.endswith(kid))
            res = ctx.run(
                f'export GNUPGHOME="{probe.tmp}/home"; gpg --batch --yes --no-default-keyring'
                f" --keyring {q(path)} --delete-keys {fprs}"
            )
        if not res.ok:
            return fail(f"cannot remove {key_id} from {path}: {res.stderr.strip()}", rc=res.rc)
    return ModuleResult(
        changed=True, msg=f"removed key {key_id} from {', '.join(files)}", data=data
    )
