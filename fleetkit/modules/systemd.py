"""systemd (systemd_service): a unit started/stopped/restarted/reloaded, enabled, masked.

ansible-core 2.19's systemd_service, ported: daemon_reload/daemon_reexec first, then
one probe (`systemctl show`, `is-enabled`, `is-enabled -l`, `list-unit-files`, the
SysV script and its rc?.d links, whether the host is a chroot or SYSTEMD_OFFLINE),
then masked, enabled and state as Ansible decides them. Without a running systemd
(`show` refused: a container, a chroot, an image being built) the unit is still found
by `is-enabled`, so enabled and masked are recorded by the offline systemctl and a
second run finds them; a state then fails "Service is in unknown state" (a chroot or
SYSTEMD_OFFLINE=1: a warning), as in Ansible. The registered value has Ansible's keys:
name, changed, status (every `show` property), enabled, state, warnings.
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
VALID_ENABLED = (
    "enabled",
    "enabled-runtime",
    "linked",
    "linked-runtime",
    "masked",
    "masked-runtime",
    "static",
    "indirect",
    "disabled",
    "generated",
    "transient",
)
OFFLINE_WARNING = (
    "Target is a chroot or systemd is offline. This can lead to false positives or"
    " prevent the init system tools from working."
)


def scope_flag(scope: str) -> str:
    return {"system": "", "user": " --user", "global": " --global"}[scope]


def systemctl(ctx: ModuleContext) -> str:
    """The systemctl command with the task's scope, --no-block and --force."""
    cmd = "systemctl" + scope_flag(str(ctx.arg("scope")))
    if ctx.arg("no_block"):
        cmd += " --no-block"
    if ctx.arg("force"):
        cmd += " --force"
    if ctx.arg("scope") == "system":
        return cmd
    return 'XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" ' + cmd


def probe_script(name: str, command: str) -> str:
    """Everything Ansible reads about a unit, in one command, with markers between."""
    n = q(name)
    return (
        f"command -v systemctl >/dev/null 2>&1 || {{ echo {MARK}nosystemctl; exit 0; }}; "
        f'echo "{MARK}path=$(command -v systemctl)"; '
        f'o=$({command} show {n} 2>/dev/null); r=$?; printf "%s\\n" "$o"; echo {MARK}show_rc=$r; '
        f'e=$({command} is-enabled {n} 2>/dev/null); echo "{MARK}enabled=$(echo "$e" | head -n1)"; '
        f"e=$({command} is-enabled {n} -l 2>/dev/null); r=$?; "
        f'echo "{MARK}enabled_l=$(echo "$e" | head -n1)"; echo {MARK}enabled_l_rc=$r; '
        f"{command} list-unit-files {n} >/dev/null 2>&1; echo {MARK}listed_rc=$?; "
        f"[ -e /etc/init.d/{n} ] && echo {MARK}sysv=yes; "
        f"if [ -d /etc/rc0.d/ ]; then r=/etc/rc?.d; else r=/etc/init.d/rc?.d; fi;"
        f" ls $r/S??{n} >/dev/null 2>&1 && echo {MARK}sysv_on=yes; "
        f'[ -n "${{debian_chroot:-}}" ] && echo {MARK}chroot=yes; '
        f"m=$(stat -c %d:%i / 2>/dev/null); if p=$(stat -c %d:%i /proc/1/root/. 2>/dev/null);"
        f' then [ "$m" != "$p" ] && echo {MARK}chroot=yes;'
        " else case $(stat -f --format=%T / 2>/dev/null) in *btrfs*) i=256;; *xfs*) i=128;;"
        f' *) i=2;; esac; [ "${{m#*:}}" != "$i" ] && echo {MARK}chroot=yes; fi; '
        f'[ "${{SYSTEMD_OFFLINE:-}}" = 1 ] && echo {MARK}offline=yes; true'
    )


def parse_show(lines: list[str]) -> dict[str, str]:
    """ansible's parse_systemctl_show: key=value lines, Exec* values over several lines."""
    parsed: dict[str, str] = {}
    multival: list[str] = []
    key: str | None = None
    for line in lines:
        if key is None:
            if "=" in line:
                k, v = line.split("=", 1)
                opens = k.startswith("Exec") and v.lstrip().startswith("{")
                if opens and not v.rstrip().endswith("}"):
                    multival.append(v)
                    key = k
                    continue
                parsed[k] = v.strip()
        else:
            multival.append(line)
            if line.rstrip().endswith("}"):
                parsed[key] = "\n".join(multival).strip()
                multival = []
                key = None
    return parsed


@dataclass(frozen=True)
class UnitState:
    """What the probe found about one unit."""

    show: list[str]
    show_rc: int
    enabled_word: str
    enabled_l_word: str
    enabled_l_rc: int
    listed_rc: int
    sysv: bool = False
    sysv_on: bool = False
    chroot: bool = False
    offline: bool = False
    has_systemctl: bool = True
    path: str = "systemctl"

    @property
    def shown(self) -> bool:
        """`show` answered (not refused and not 'ignoring request')."""
        out = "\n".join(self.show)
        ignored = "=" not in out and ("ignoring request" in out or "ignoring command" in out)
        return self.show_rc == 0 and not ignored

    @property
    def status(self) -> dict[str, str]:
        return parse_show(self.show) if self.shown and self.show else {}

    @property
    def is_systemd(self) -> bool:
        if self.shown:
            load = self.status.get("LoadState")
            return load is not None and load != "not-found"
        return self.enabled_word in VALID_ENABLED or self.listed_rc == 0

    @property
    def found(self) -> bool:
        return self.is_systemd or self.sysv

    def enabled(self, scope: str) -> bool:
        """Ansible's reading of `is-enabled -l`."""
        if self.enabled_l_rc == 0:
            return self.enabled_l_word not in ("enabled-runtime", "indirect", "alias")
        if self.enabled_l_rc == 1:
            return (
                scope == "system"
                and self.sysv
                and not self.enabled_l_word.endswith("disabled")
                and self.sysv_on
            )
        return False


def parse_probe(stdout: str) -> UnitState:
    show: list[str] = []
    marks: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith(MARK):
            key, _, value = line[len(MARK) :].partition("=")
            marks[key] = value.strip()
        elif "show_rc" not in marks:
            show.append(line)
    if "nosystemctl" in marks:
        return UnitState([], 1, "", "", 1, 1, has_systemctl=False)
    return UnitState(
        show=show,
        show_rc=_int(marks.get("show_rc"), 1),
        enabled_word=marks.get("enabled", ""),
        enabled_l_word=marks.get("enabled_l", ""),
        enabled_l_rc=_int(marks.get("enabled_l_rc"), 1),
        listed_rc=_int(marks.get("listed_rc"), 1),
        sysv=marks.get("sysv") == "yes",
        sysv_on=marks.get("sysv_on") == "yes",
        chroot=marks.get("chroot") == "yes",
        offline=marks.get("offline") == "yes",
        path=marks.get("path") or "systemctl",
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


class _Fail(Exception):
    def __init__(self, msg: str, **extra: Any) -> None:
        super().__init__(msg)
        self.extra = extra


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
        "force": Arg("bool"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        acts = any(args.get(k) is not None for k in ("state", "enabled", "masked"))
        if acts and not args.get("name"):
            return ["module systemd: state, enabled and masked need name"]
        if not acts and not (args.get("daemon_reload") or args.get("daemon_reexec")):
            return ["module systemd: give state, enabled, masked, daemon_reload or daemon_reexec"]
        name = str(args.get("name") or "")
        for pattern in ("*", "?", "["):
            if pattern in name:
                return [
                    "module systemd: This module does not currently support using glob"
                    f" patterns, found '{pattern}' in service name: {name}"
                ]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        warnings: list[str] = []
        result: dict[str, Any] = {"name": ctx.arg("name"), "changed": False, "status": {}}
        try:
            self._run(ctx, result, warnings)
        except _Fail as err:
            value = {"changed": False, "msg": str(err), **err.extra, "failed": True}
            if warnings:
                value["warnings"] = warnings
            return fail(str(err), registered=value)
        if warnings:
            result["warnings"] = warnings
        changed = bool(result["changed"])
        what = "would change" if ctx.check and changed else ("changed" if changed else "ok")
        return ModuleResult(
            changed=changed,
            msg=f"{result['name'] or 'systemd'}: {what}",
            registered={**result, "failed": False},
        )

    def _run(self, ctx: ModuleContext, result: dict[str, Any], warnings: list[str]) -> None:
        cmd = systemctl(ctx)
        name = ctx.arg("name")
        st: UnitState | None = None
        for verb in ("daemon_reload", "daemon_reexec"):
            if ctx.arg(verb) and not ctx.check:
                word = verb.replace("_", "-")
                res = ctx.run(f"{cmd} {word}")
                if res.rc == 127 and "systemctl" in res.stderr:
                    raise _Fail(f'Failed to find required executable "systemctl": {res.stderr}')
                if not res.ok:
                    st = st or self._probe(ctx, str(name or "-"), cmd)
                    if st.chroot or st.offline:
                        warnings.append(
                            f"{word} failed, but target is a chroot or systemd is offline."
                            f" Continuing. Error was: {res.rc} / {res.stderr}"
                        )
                    else:
                        raise _Fail(f"failure {res.rc} during {word}: {res.stderr}")
        if not name:
            return
        unit = str(name)
        st = self._probe(ctx, unit, cmd)
        if not st.has_systemctl:
            raise _Fail('Failed to find required executable "systemctl" in paths')
        status = st.status
        result["status"] = status
        if st.is_systemd and status.get("LoadState") != "masked" and "LoadError" in status:
            raise _Fail(f"Error loading unit file '{unit}': {status['LoadError']}")
        if not st.shown and not st.is_systemd:  # Ansible's `systemctl` with check_rc
            res = ctx.run(cmd)
            if not res.ok:
                extra = {
                    "cmd": cmd.replace("systemctl", st.path, 1),
                    "rc": res.rc,
                    "stdout": res.stdout,
                    "stdout_lines": res.stdout.splitlines(),
                    "stderr": res.stderr,
                    "stderr_lines": res.stderr.splitlines(),
                }
                raise _Fail(res.stderr.strip() or res.stdout.strip(), **extra)
        if st.sysv and not st.is_systemd:
            warnings.append(
                f"The service ({unit}) is actually an init script but the system is managed"
                " by systemd"
            )
        n = q(unit)
        masked_wanted = ctx.arg("masked")
        if masked_wanted is not None and (st.enabled_word == "masked") != masked_wanted:
            result["changed"] = True
            action = "mask" if masked_wanted else "unmask"
            if not ctx.check:
                res = ctx.run(f"{cmd} {action} {n}")
                if not res.ok:
                    _missing(st, unit)
                    raise _Fail(f"Failed to {action} the service ({unit}): {res.stderr.strip()}")
        enabled_wanted = ctx.arg("enabled")
        if enabled_wanted is not None:
            action = "enable" if enabled_wanted else "disable"
            _missing(st, unit)
            enabled = st.enabled(str(ctx.arg("scope")))
            result["enabled"] = enabled
            if enabled != enabled_wanted:
                result["changed"] = True
                if not ctx.check:
                    res = ctx.run(f"{cmd} {action} {n}")
                    if not res.ok:
                        raise _Fail(f"Unable to {action} service {unit}: {res.stdout + res.stderr}")
                result["enabled"] = not enabled
        state = ctx.arg("state")
        if state is not None:
            _missing(st, unit)
            result["state"] = state
            if "ActiveState" in status:
                wanted_verb = state_action(state, status["ActiveState"])
                if state in ("restarted", "reloaded"):
                    result["state"] = "started"
                if wanted_verb:
                    result["changed"] = True
                    if not ctx.check:
                        res = ctx.run(f"{cmd} {wanted_verb} {n}")
                        if not res.ok:
                            raise _Fail(f"Unable to {wanted_verb} service {unit}: {res.stderr}")
            elif st.chroot or st.offline:
                warnings.append(OFFLINE_WARNING)
            else:
                raise _Fail("Service is in unknown state", status=status)

    @staticmethod
    def _probe(ctx: ModuleContext, unit: str, cmd: str) -> UnitState:
        res = ctx.run(probe_script(unit, cmd))
        if not res.ok:
            raise _Fail(f"cannot read unit {unit}: {res.stderr.strip() or res.rc}")
        return parse_probe(res.stdout)


def _missing(st: UnitState, unit: str) -> None:
    """fail_if_missing(..., msg='host')."""
    if not st.found:
        raise _Fail(f"Could not find the requested service {unit}: host")
