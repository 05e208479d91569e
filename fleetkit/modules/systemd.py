"""systemd (systemd_service): a unit started/stopped/restarted/reloaded, enabled, masked.

Ansible's arguments and order: daemon_reload (and daemon_reexec) first, then
masked, then enabled, then state. One round trip reads `systemctl show` (the
`status` Ansible returns) and `is-enabled`; commands run only for what differs
(restarted/reloaded act each time, as in Ansible). Works over real systemd and
over the lab's daemonless systemctl, since both answer `show` and `is-enabled`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

STATES = ("started", "stopped", "restarted", "reloaded")
SCOPES = ("system", "user", "global")
RUNNING = ("active", "activating")
MARK = "__fleetkit_"


def scope_flag(scope: str) -> str:
    return {"system": "", "user": " --user", "global": " --global"}[scope]


def probe_script(name: str, scope: str) -> str:
    """`systemctl show` and `is-enabled` of name in one command, with markers between."""
    s, n = scope_flag(scope), q(name)
    return (
        f"command -v systemctl >/dev/null 2>&1 || {{ echo {MARK}nosystemctl; exit 0; }}; "
        f"systemctl{s} show {n} 2>&1; echo {MARK}show_rc=$?; "
        f"e=$(systemctl{s} is-enabled {n} 2>/dev/null); r=$?; "
        f'echo "{MARK}enabled=$(echo "$e" | head -n1)"; echo {MARK}enabled_rc=$r'
    )


@dataclass(frozen=True)
class UnitState:
    """What the probe found about one unit."""

    status: Mapping[str, str]
    enabled_word: str
    enabled_rc: int
    show_rc: int
    has_systemctl: bool = True

    @property
    def found(self) -> bool:
        load = self.status.get("LoadState", "")
        return self.show_rc == 0 and load not in ("", "not-found")

    @property
    def masked(self) -> bool:
        return "masked" in (
            self.enabled_word,
            self.status.get("LoadState", ""),
            self.status.get("UnitFileState", ""),
        )

    @property
    def enabled(self) -> bool:
        # the lab's daemonless systemctl answers rc 0 for a masked unit; systemd says 1
        return self.enabled_rc == 0 and not self.masked

    @property
    def active(self) -> str:
        return self.status.get("ActiveState", "")


def parse_probe(stdout: str) -> UnitState:
    status: dict[str, str] = {}
    marks: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith(MARK):
            key, _, value = line[len(MARK) :].partition("=")
            marks[key] = value.strip()
            continue
        key, eq, value = line.partition("=")
        if eq and key and " " not in key:
            status[key] = value
    if "nosystemctl" in marks:
        return UnitState({}, "", 1, 1, has_systemctl=False)
    return UnitState(
        status=status,
        enabled_word=marks.get("enabled", ""),
        enabled_rc=_int(marks.get("enabled_rc"), 1),
        show_rc=_int(marks.get("show_rc"), 1),
    )


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def state_action(state: str | None, active: str) -> str | None:
    """The systemctl verb for the wanted state, given ActiveState (None: nothing to do)."""
    if state is None:
        return None
    running = active in RUNNING
    if state == "started":
        return None if running else "start"
    if state == "stopped":
        return "stop" if running or active == "deactivating" else None
    return state[:-2] if running else "start"  # restarted -> restart, reloaded -> reload


class Systemd(Module):
    name = "systemd"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", aliases=("service", "unit")),
        "state": Arg("str", choices=STATES),
        "enabled": Arg("bool"),
        "masked": Arg("bool"),
        "daemon_reload": Arg("bool", default=False, aliases=("daemon-reload",)),
        "daemon_reexec": Arg("bool", default=False, aliases=("daemon-reexec",)),
        "scope": Arg("str", default="system", choices=SCOPES),
        "no_block": Arg("bool", default=False),
        "force": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        acts = any(args.get(k) is not None for k in ("state", "enabled", "masked"))
        if acts and not args.get("name"):
            return ["module systemd: state, enabled and masked need name"]
        if not acts and not (args.get("daemon_reload") or args.get("daemon_reexec")):
            return ["module systemd: give state, enabled, masked, daemon_reload or daemon_reexec"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        scope = str(ctx.arg("scope"))
        flag = scope_flag(scope)
        done: list[str] = []
        for verb in ("daemon_reload", "daemon_reexec"):
            if ctx.arg(verb):
                done.append(verb.replace("_", "-"))
                if not ctx.check:
                    res = ctx.run(f"systemctl{flag} {verb.replace('_', '-')}")
                    if not res.ok:
                        why = res.stderr.strip() or res.stdout.strip() or f"rc={res.rc}"
                        return fail(f"systemctl {verb.replace('_', '-')} failed: {why}", rc=res.rc)
        name = ctx.arg("name")
        if not name:
            # as Ansible: a daemon-reload (or reexec) alone reports ok, not changed
            return ModuleResult(changed=False, msg=", ".join(done), data={"name": None})
        return self._unit(ctx, str(name), flag, done)

    def _unit(self, ctx: ModuleContext, name: str, flag: str, done: list[str]) -> ModuleResult:
        res = ctx.run(probe_script(name, str(ctx.arg("scope"))))
        if not res.ok:
            return fail(f"cannot read unit {name}: {res.stderr.strip() or res.rc}", rc=res.rc)
        st = parse_probe(res.stdout)
        if not st.has_systemctl:
            return fail(f"cannot manage {name} with systemd: there is no systemctl on the host")
        commands = self._plan(ctx, name, st)
        if commands is None:
            return fail(f"Could not find the requested service {name}: host")
        data: dict[str, Any] = {"name": name, "status": dict(st.status)}
        for key in ("state", "enabled", "masked"):
            if ctx.arg(key) is not None:
                data[key] = ctx.arg(key)
        changed = bool(done) or bool(commands)
        verbs = done + [c.split(" ", 1)[0] for c in commands]
        if ctx.check or not commands:
            what = ", ".join(verbs) if verbs else "as wanted"
            prefix = "would " if ctx.check and verbs else ""
            return ModuleResult(changed=changed, msg=f"{prefix}{what}: {name}", data=data)
        opts = (" --no-block" if ctx.arg("no_block") else "") + (
            " --force" if ctx.arg("force") else ""
        )
        for command in commands:
            out = ctx.run(f"systemctl{flag}{opts} {command}")
            if not out.ok:
                detail = (out.stderr.strip() or out.stdout.strip())[-500:]
                return fail(
                    f"systemctl {command} failed: {detail or f'rc={out.rc}'}",
                    rc=out.rc,
                    stdout=out.stdout,
                    stderr=out.stderr,
                    data=data,
                )
        return ModuleResult(changed=True, msg=f"{', '.join(verbs)}: {name}", data=data)

    @staticmethod
    def _plan(ctx: ModuleContext, name: str, st: UnitState) -> list[str] | None:
        """systemctl commands (verb + unit) in Ansible's order; None when the unit is missing."""
        n = q(name)
        out: list[str] = []
        masked = ctx.arg("masked")
        if masked is not None and masked != st.masked:
            out.append(f"{'mask' if masked else 'unmask'} {n}")
        enabled, state = ctx.arg("enabled"), ctx.arg("state")
        if (enabled is not None or state is not None) and not st.found and not out:
            return None
        if enabled is not None and enabled != st.enabled:
            out.append(f"{'enable' if enabled else 'disable'} {n}")
        action = state_action(state, st.active)
        if action is not None:
            out.append(f"{action} {n}")
        return out
