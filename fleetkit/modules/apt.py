"""apt: Debian packages present, absent or latest, checked with dpkg-query first.

Only packages that are missing (or, for latest, upgradable) are installed, so a
second run reports no change. `update_cache` refreshes the package lists before
installing; it is not itself counted as a change (the host's packages are).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

STATES = ("present", "installed", "absent", "removed", "latest")
APT = "DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confold"


def split_version(spec: str) -> tuple[str, str | None]:
    """'nginx=1.22*' -> ('nginx', '1.22*'); 'curl' -> ('curl', None)."""
    name, eq, version = spec.partition("=")
    return name.strip(), (version.strip() or None) if eq else None


def installed_versions(ctx: ModuleContext, names: list[str]) -> dict[str, str] | ModuleResult:
    """name -> installed version for the packages dpkg knows as installed."""
    res = ctx.run(
        "dpkg-query -W -f='${Package} ${Status} ${Version}\\n' "
        + " ".join(q(n) for n in names)
        + " 2>/dev/null; true"
    )
    if not res.ok:
        return fail(f"dpkg-query failed: {res.stderr.strip()}", rc=res.rc)
    out: dict[str, str] = {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[1:4] == ["install", "ok", "installed"]:
            out[parts[0].split(":")[0]] = parts[4]
    return out


class Apt(Module):
    name = "apt"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("list", aliases=("pkg", "package")),
        "state": Arg("str", default="present", choices=STATES),
        "update_cache": Arg("bool", default=False, aliases=("update-cache",)),
        "install_recommends": Arg("bool", aliases=("install-recommends",)),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if not args.get("name") and not args.get("update_cache"):
            return ["module apt: give name (packages) or update_cache: yes"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        specs = [str(n) for n in ctx.arg("name") or []]
        state = str(ctx.arg("state"))
        if ctx.arg("update_cache") and not ctx.check:
            res = ctx.run(f"{APT} update")
            if not res.ok:
                return fail(f"apt-get update failed: {res.stderr.strip()[-500:]}", rc=res.rc)
        if not specs:
            return ModuleResult(msg="package lists updated")
        wanted = [split_version(s) for s in specs]
        have = installed_versions(ctx, [n for n, _ in wanted])
        if isinstance(have, ModuleResult):
            return have
        if state in ("absent", "removed"):
            todo = [n for n, _ in wanted if n in have]
            return self._apply(ctx, todo, "remove", f"{APT} remove")
        todo = [
            spec
            for spec, (name, version) in zip(specs, wanted, strict=True)
            if name not in have or (version is not None and not _matches(have[name], version))
        ]
        if state == "latest":
            upgradable = self._upgradable(ctx, [n for n, _ in wanted if n in have])
            if isinstance(upgradable, ModuleResult):
                return upgradable
            todo += [n for n in upgradable if n not in todo]
        return self._apply(ctx, todo, "install", f"{APT}{_recommends(ctx)} install")

    def _upgradable(self, ctx: ModuleContext, names: list[str]) -> list[str] | ModuleResult:
        if not names:
            return []
        res = ctx.run(f"{APT} --simulate install --only-upgrade {' '.join(q(n) for n in names)}")
        if not res.ok:
            return fail(f"cannot check upgrades: {res.stderr.strip()[-500:]}", rc=res.rc)
        return [line.split()[1] for line in res.stdout.splitlines() if line.startswith("Inst ")]

    def _apply(self, ctx: ModuleContext, todo: list[str], verb: str, command: str) -> ModuleResult:
        if not todo:
            return ModuleResult(msg="packages as wanted")
        listed = " ".join(todo)
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would {verb} {listed}")
        res = ctx.run(f"{command} {' '.join(q(t) for t in todo)}")
        if not res.ok:
            return fail(
                f"apt-get {verb} {listed} failed: {res.stderr.strip()[-500:]}",
                rc=res.rc,
                stdout=res.stdout,
                stderr=res.stderr,
            )
        return ModuleResult(changed=True, msg=f"{verb}ed {listed}".replace("removeed", "removed"))


def _recommends(ctx: ModuleContext) -> str:
    """Ansible's install_recommends: unset leaves apt's own setting, else forces it."""
    wanted = ctx.arg("install_recommends")
    if wanted is None:
        return ""
    return f" -o APT::Install-Recommends={'yes' if wanted else 'no'}"


def _matches(installed: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return installed.startswith(wanted[:-1])
    return installed == wanted
