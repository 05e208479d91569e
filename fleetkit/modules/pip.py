"""pip: Python packages in a virtualenv (or the host's python3), Ansible's arguments.

State comes from `pip list --format=json` before anything is installed, so
present/absent act only on packages that are missing or do not satisfy their
version specifier and a second run reports ok. latest and requirements files ask
pip itself (`install --dry-run` in check mode; the list before and after
otherwise). A venv made with `--without-pip` is served by the host's own pip
(`python3 -m pip --python VENV/bin/python`). Nothing is fetched unless pip
fetches it: `extra_args: --no-index --find-links DIR` installs offline.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

STATES = ("present", "absent", "latest", "forcereinstall")
OPS = ("===", "~=", "==", "!=", "<=", ">=", "<", ">")
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*$")
_PIP = "--disable-pip-version-check --no-input"
_WOULD = re.compile(r"^Would install (.+)$", re.MULTILINE)


def normalize(name: str) -> str:
    """PEP 503 name: case and runs of -_. do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Requirement:
    """`name[extras] >=1.0,<2` as a name and (operator, version) pairs."""

    name: str
    text: str
    specs: tuple[tuple[str, str], ...] = ()

    def satisfied_by(self, version: str) -> bool:
        return all(_compare(version, op, want) for op, want in self.specs)


def parse_requirement(text: str) -> Requirement:
    """A requirement as pip takes it on the command line; ValueError when it is not one."""
    m = _REQ.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a package requirement")
    name, rest = m.group(1), m.group(3)
    specs: list[tuple[str, str]] = []
    for part in (p.strip() for p in rest.split(",") if p.strip()):
        op = next((o for o in OPS if part.startswith(o)), None)
        if op is None or not part[len(op) :].strip():
            raise ValueError(f"{text!r}: cannot read the version specifier {part!r}")
        specs.append((op, part[len(op) :].strip()))
    return Requirement(name, text.strip(), tuple(specs))


def _key(version: str) -> tuple[tuple[int, ...], tuple[int, str]]:
    """Release numbers, then a pre-release below the final release (1.0rc1 < 1.0)."""
    m = re.match(r"^v?(\d+(?:\.\d+)*)(.*)$", version.strip())
    if not m:
        return (), (1, version)
    release = tuple(int(x) for x in m.group(1).split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    tail = m.group(2).lstrip(".-_").lower()
    if not tail or tail.startswith(("post", "+")):
        return release, (1, tail)
    return release, (0, tail)


def _compare(version: str, op: str, want: str) -> bool:
    if op == "===":
        return version == want
    if want.endswith(".*") and op in ("==", "!="):
        prefix = _key(want[:-2])[0]
        match = _key(version)[0][: len(prefix)] == prefix
        return match if op == "==" else not match
    have, wanted = _key(version), _key(want)
    if op == "~=":
        release = wanted[0][:-1] if len(wanted[0]) > 1 else wanted[0]
        return have >= wanted and have[0][: len(release)] == release
    return {
        "==": have == wanted,
        "!=": have != wanted,
        "<=": have <= wanted,
        ">=": have >= wanted,
        "<": have < wanted,
        ">": have > wanted,
    }[op]


class Pip(Module):
    name = "pip"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("list"),
        "version": Arg("str"),
        "state": Arg("str", default="present", choices=STATES),
        "requirements": Arg("str"),
        "virtualenv": Arg("path"),
        "virtualenv_command": Arg("str", default="virtualenv"),
        "virtualenv_python": Arg("str"),
        "virtualenv_site_packages": Arg("bool", default=False),
        "executable": Arg("path"),
        "extra_args": Arg("str"),
        "chdir": Arg("path"),
        "editable": Arg("bool", default=False),
    }
    exclusive = (("name", "requirements"), ("virtualenv", "executable"))
    one_of = (("name", "requirements"),)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors: list[str] = []
        names = args.get("name") or []
        for text in names:
            try:
                parse_requirement(str(text))
            except ValueError as err:
                errors.append(f"module pip: {err}")
        if args.get("version") and len(names) != 1:
            errors.append("module pip: version needs exactly one name")
        if args.get("version") and names and any(o in str(names[0]) for o in OPS):
            errors.append("module pip: give the version in name or in version, not both")
        if args.get("state") == "absent" and args.get("requirements"):
            errors.append("module pip: state=absent takes names, not a requirements file")
        if args.get("editable"):
            errors.append("module pip: editable installs are not supported")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        venv = ctx.arg("virtualenv")
        created = False
        if venv and not ctx.run(f"test -x {q(f'{venv}/bin/python')}").ok:
            if ctx.arg("state") == "absent":  # nothing to remove (Ansible would make it first)
                return ModuleResult(msg=f"virtualenv {venv} does not exist")
            if ctx.check:
                return ModuleResult(changed=True, msg=f"would create virtualenv {venv}")
            made = ctx.run(_chdir(ctx, _venv_command(ctx, str(venv))))
            if not made.ok:
                return fail(
                    f"cannot create virtualenv {venv}: {made.stderr.strip() or made.stdout}",
                    rc=made.rc,
                )
            created = True
        pip = _pip_command(ctx, str(venv) if venv else None)
        if isinstance(pip, ModuleResult):
            return pip
        result = _apply(ctx, pip)
        if created and not result.failed:
            return ModuleResult(
                changed=True,
                msg=f"created virtualenv {venv}; {result.msg}",
                rc=result.rc,
                stdout=result.stdout,
                stderr=result.stderr,
                data=result.data,
            )
        return result


def _chdir(ctx: ModuleContext, command: str) -> str:
    where = ctx.arg("chdir")
    return f"cd {q(str(where))} && {command}" if where else command


def _venv_command(ctx: ModuleContext, venv: str) -> str:
    words = shlex.split(str(ctx.arg("virtualenv_command")))
    if ctx.arg("virtualenv_site_packages"):
        words.append("--system-site-packages")
    if ctx.arg("virtualenv_python") and words and words[0].endswith("virtualenv"):
        words += ["-p", str(ctx.arg("virtualenv_python"))]
    return " ".join(q(w) for w in [*words, venv])


def _pip_command(ctx: ModuleContext, venv: str | None) -> str | ModuleResult:
    """The pip to run: the given executable, the venv's own pip, else the host's pip
    pointed at the venv's python, else python3's pip."""
    if ctx.arg("executable"):
        return q(str(ctx.arg("executable")))
    if venv is None:
        return "python3 -m pip"
    python = q(f"{venv}/bin/python")
    if ctx.run(f"{python} -m pip --version").ok:
        return f"{python} -m pip"
    if ctx.run("python3 -m pip --version").ok:
        return f"python3 -m pip --python {python}"
    return fail(f"no pip for virtualenv {venv}: neither it nor the host's python3 has pip")


def _installed(ctx: ModuleContext, pip: str) -> dict[str, str] | ModuleResult:
    res = ctx.run(f"{pip} {_PIP} list --format=json")
    if not res.ok:
        return fail(f"pip list failed: {res.stderr.strip() or res.stdout.strip()}", rc=res.rc)
    try:
        rows = json.loads(res.stdout.strip().splitlines()[-1] if res.stdout.strip() else "[]")
    except (json.JSONDecodeError, IndexError):
        return fail(f"unexpected pip list output: {res.stdout[:200]!r}")
    return {normalize(str(r["name"])): str(r["version"]) for r in rows}


def _apply(ctx: ModuleContext, pip: str) -> ModuleResult:
    state = str(ctx.arg("state"))
    names = [str(n) for n in ctx.arg("name") or []]
    if ctx.arg("version"):
        names = [f"{names[0]}=={ctx.arg('version')}"]
    reqs = [parse_requirement(n) for n in names]
    before = _installed(ctx, pip)
    if isinstance(before, ModuleResult):
        return before
    extra = str(ctx.arg("extra_args") or "")
    data: dict[str, Any] = {
        "name": names,
        "requirements": ctx.arg("requirements"),
        "version": ctx.arg("version"),
        "virtualenv": ctx.arg("virtualenv"),
        "state": state,
    }
    if state == "absent":
        gone = [r.name for r in reqs if normalize(r.name) in before]
        if not gone:
            return ModuleResult(msg="not installed", data={**data, "cmd": ""})
        cmd = _join(pip, _PIP, "uninstall -y", extra, " ".join(q(n) for n in gone))
        return _run(ctx, cmd, data, changed=True, msg=f"removed {', '.join(gone)}")
    if ctx.arg("requirements"):
        target = f"-r {q(str(ctx.arg('requirements')))}"
    else:
        target = " ".join(q(r.text) for r in reqs)
    if state == "present" and not ctx.arg("requirements"):
        missing = [r for r in reqs if not _has(before, r)]
        if not missing:
            return ModuleResult(msg="all requirements satisfied", data={**data, "cmd": ""})
        target = " ".join(q(r.text) for r in missing)
        if ctx.check:
            would = ", ".join(r.text for r in missing)
            return ModuleResult(changed=True, msg=f"would install {would}", data=data)
    flags = {"latest": "-U", "forcereinstall": "-U --force-reinstall"}.get(state, "")
    cmd = _join(pip, _PIP, "install", flags, extra, target)
    if ctx.check:
        return _dry_run(ctx, cmd, data, force=state == "forcereinstall")
    res = _run(ctx, cmd, data, changed=True, msg="")
    if res.failed:
        return res
    after = _installed(ctx, pip)
    if isinstance(after, ModuleResult):
        return after
    changes = sorted(n for n in after if before.get(n) != after[n])
    changed = bool(changes) or state == "forcereinstall"
    msg = f"installed {', '.join(f'{n} {after[n]}' for n in changes)}" if changes else "ok"
    return ModuleResult(
        changed=changed, msg=msg, rc=res.rc, stdout=res.stdout, stderr=res.stderr, data=res.data
    )


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _has(installed: Mapping[str, str], req: Requirement) -> bool:
    version = installed.get(normalize(req.name))
    return version is not None and req.satisfied_by(version)


def _run(
    ctx: ModuleContext, cmd: str, data: Mapping[str, Any], *, changed: bool, msg: str
) -> ModuleResult:
    res = ctx.run(_chdir(ctx, cmd))
    out = {**data, "cmd": cmd, "stdout_lines": res.stdout.splitlines()}
    if not res.ok:
        detail = (res.stderr.strip() or res.stdout.strip()).splitlines()
        why = detail[-1] if detail else f"rc={res.rc}"
        return ModuleResult(
            failed=True,
            msg=f"pip failed: {why}",
            rc=res.rc,
            stdout=res.stdout,
            stderr=res.stderr,
            data=out,
        )
    return ModuleResult(
        changed=changed, msg=msg, rc=res.rc, stdout=res.stdout, stderr=res.stderr, data=out
    )


def _dry_run(ctx: ModuleContext, cmd: str, data: Mapping[str, Any], *, force: bool) -> ModuleResult:
    """Check mode for latest/forcereinstall/requirements: ask pip what it would install."""
    res = ctx.run(_chdir(ctx, cmd.replace(" install", " install --dry-run", 1)))
    if not res.ok:
        return fail(f"pip --dry-run failed: {res.stderr.strip()}", rc=res.rc, data=data)
    m = _WOULD.search(res.stdout)
    would = m.group(1).strip() if m else ""
    if not would and not force:
        return ModuleResult(msg="nothing to install", data={**data, "cmd": cmd})
    return ModuleResult(
        changed=True, msg=f"would install {would or 'again'}", data={**data, "cmd": cmd}
    )
