"""service: a service started/stopped/restarted/reloaded and enabled at boot, or not.

As Ansible's service action chooses: the service manager is `use`, else the
gathered service_mgr, else what the probe finds as the setup module would (PID 1's
name, systemd's boot canaries, /sbin/init); `systemd` runs the systemd module. Any
other manager runs the generic service module: systemctl when systemd booted the
host (a canary or PID 1), else the SysV init script (/etc/init.d/NAME via `service`,
enabled with update-rc.d). One round trip probes the manager, the running state and
the boot state; commands run only for what differs (restarted/reloaded always act,
as asked). When neither can manage the service, the task fails with Ansible's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fleetkit.executor.facts.services import PROC_1_MAP, SYSTEMD_CANARIES
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

STATES = ("started", "stopped", "restarted", "reloaded")
NO_SYSTEMD = ("not been booted with systemd", "Failed to connect to bus", "Failed to get D-Bus")


def probe_script(name: str) -> str:
    n = q(name)
    canaries = " ".join(SYSTEMD_CANARIES)
    return f"""n={n}
if command -v systemctl >/dev/null 2>&1; then
  a=$(systemctl is-active "$n" 2>&1); echo "sd_active=$(echo "$a" | head -n1)"
  echo "sd_enabled=$(systemctl is-enabled "$n" 2>/dev/null | head -n1)"
  systemctl cat "$n" >/dev/null 2>&1 && echo sd_unit=yes
  for c in {canaries}; do [ -e "$c" ] && echo sd_booted=yes; done
  echo "sbin_init=$(readlink /sbin/init 2>/dev/null)"
fi
echo "proc1=$(cat /proc/1/comm 2>/dev/null)"
if [ -x "/etc/init.d/$n" ]; then
  echo sysv=yes
  "/etc/init.d/$n" status >/dev/null 2>&1; echo "sysv_status=$?"
  e=no; ls /etc/rc[2345].d/S*"$n" >/dev/null 2>&1 && e=yes; echo "sysv_enabled=$e"
fi
true"""


def _service_mgr(ctx: ModuleContext) -> str | None:
    """`use`, else the gathered ansible_facts.service_mgr (None: not gathered), as the
    service action plugin chooses the module it runs."""
    use = str(ctx.arg("use") or "auto")
    if use != "auto":
        return use
    facts = ctx.variables.get("ansible_facts")
    if isinstance(facts, Mapping) and facts.get("service_mgr"):
        return str(facts["service_mgr"])
    return None


@dataclass(frozen=True)
class ServiceState:
    """What the probe found: the backend to use and the service's states."""

    backend: str  # systemd | sysv | none
    active: bool = False
    enabled: bool | None = None
    why: str = ""
    manager: str = "service"  # the service_mgr the setup module would report


def _probe_info(stdout: str) -> dict[str, str]:
    info: dict[str, str] = {}
    for line in stdout.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            info[key] = value.strip()
    return info


def probed_manager(info: Mapping[str, str]) -> str:
    """service_mgr as ansible-core's setup module decides it on Linux, from the probe:
    PID 1's name (mapped; `init` and shells distrusted), else systemd's boot canaries,
    else an /sbin/init that is systemd (offline), else sysvinit."""
    proc_1 = info.get("proc1", "").rsplit("/", 1)[-1]
    if proc_1 and proc_1 != "init" and not proc_1.endswith("sh"):
        return PROC_1_MAP.get(proc_1, proc_1)
    has_systemctl = "sd_active" in info
    if has_systemctl and info.get("sd_booted") == "yes":
        return "systemd"
    if has_systemctl and info.get("sbin_init", "").rsplit("/", 1)[-1] == "systemd":
        return "systemd"
    return "sysvinit"


def parse_probe(stdout: str) -> ServiceState:
    """What the generic service module would use: systemctl when systemd booted the host
    (Ansible's is_systemd_managed: a canary, or PID 1 is systemd), else the init script."""
    info = _probe_info(stdout)
    manager = probed_manager(info)
    sd_active = info.get("sd_active", "")
    systemd_ok = "sd_active" in info and not any(m in sd_active for m in NO_SYSTEMD)
    booted = info.get("sd_booted") == "yes" or info.get("proc1") == "systemd"
    if systemd_ok and booted and (info.get("sd_unit") == "yes" or "sysv" not in info):
        enabled = info.get("sd_enabled", "")
        return ServiceState(
            "systemd",
            active=sd_active in ("active", "reloading", "activating"),
            enabled=enabled in ("enabled", "enabled-runtime", "static", "alias", "indirect")
            if enabled
            else None,
            manager=manager,
        )
    if info.get("sysv") == "yes":
        return ServiceState(
            "sysv",
            active=info.get("sysv_status") == "0",
            enabled=info.get("sysv_enabled") == "yes",
            manager=manager,
        )
    if "sd_active" not in info:
        why = "there is no systemctl"
    elif not systemd_ok:
        why = f"systemctl does not work here ({sd_active})"
    elif not booted:
        why = "systemd did not boot this host and there is no init script"
    else:
        why = "systemd knows no such unit"
    return ServiceState("none", why=why, manager=manager)


def action_command(backend: str, name: str, action: str) -> str:
    n = q(name)
    if backend == "systemd":
        return f"systemctl {action} {n}"
    if action in ("enable", "disable"):
        if action == "enable":
            return f"update-rc.d {n} defaults >/dev/null && update-rc.d {n} enable"
        return f"update-rc.d {n} disable"
    run = (
        f"if command -v service >/dev/null 2>&1; then service {n} {action};"
        f" else /etc/init.d/{n} {action}; fi"
    )
    if action in ("start", "restart"):
        return f"{{ {run}; }} && sleep 0.2 && /etc/init.d/{n} status >/dev/null"
    return run


UNUSED_WITH_SYSTEMD = ("pattern", "runlevel", "sleep", "arguments")
"""The service options Ansible's service action drops when it runs the systemd module."""


class Service(Module):
    name = "service"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "state": Arg("str", choices=STATES),
        "enabled": Arg("bool"),
        "daemon_reload": Arg("bool", default=False),
        "use": Arg("str", default="auto"),
        "pattern": Arg("str"),
        "runlevel": Arg("str", default="default"),
        "sleep": Arg("int"),
        "arguments": Arg("str", default="", aliases=("args",)),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if (
            args.get("state") is None
            and args.get("enabled") is None
            and not args.get("daemon_reload")
        ):
            return ["module service: give state, enabled or daemon_reload"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        name = str(ctx.arg("name"))
        if ctx.arg("daemon_reload") and not ctx.check:
            ctx.run("systemctl daemon-reload 2>/dev/null || true")
        manager = _service_mgr(ctx)
        if manager == "systemd":
            return self._as_systemd(ctx)
        res = ctx.run(probe_script(name))
        if not res.ok:
            return fail(f"cannot probe service {name}: {res.stderr.strip()}", rc=res.rc)
        st = parse_probe(res.stdout)
        if manager is None and st.manager == "systemd":
            return self._as_systemd(ctx)
        if st.backend == "none":
            msg = f"Could not find the requested service {name}: host"
            return fail(msg, registered={"changed": False, "msg": msg, "failed": True})
        actions = self._actions(ctx, st)
        data: dict[str, Any] = {"name": name}
        if ctx.arg("enabled") is not None:
            data["enabled"] = ctx.arg("enabled")
        if ctx.arg("state") is not None:
            data["state"] = "stopped" if ctx.arg("state") == "stopped" else "started"
        if not actions:
            value = {**data, "changed": False, "failed": False}
            return ModuleResult(msg=f"{name} as wanted ({st.backend})", data=data, registered=value)
        done = ", ".join(actions)
        value = {**data, "changed": True, "failed": False}
        if ctx.check:
            return ModuleResult(
                changed=True,
                msg=f"would {done} {name} ({st.backend})",
                data=data,
                registered={"changed": True, "msg": "service state changed", "failed": False}
                if ctx.arg("state") is not None
                else value,
            )
        for action in actions:
            out = ctx.run(action_command(st.backend, name, action))
            if not out.ok:
                detail = (out.stderr.strip() or out.stdout.strip())[-500:]
                return fail(
                    f"{action} {name} ({st.backend}) failed: {detail or f'rc={out.rc}'}",
                    rc=out.rc,
                    stdout=out.stdout,
                    stderr=out.stderr,
                )
        return ModuleResult(
            changed=True, msg=f"{done} {name} ({st.backend})", data=data, registered=value
        )

    @staticmethod
    def _as_systemd(ctx: ModuleContext) -> ModuleResult:
        """What Ansible's service action does on a systemd host: the systemd module with
        the service options it does not use dropped (a warning each)."""
        from dataclasses import replace

        from fleetkit.modules.args import prepare
        from fleetkit.modules.systemd import Systemd

        unit = Systemd()
        raw = {k: ctx.arg(k) for k in ("name", "state", "enabled") if ctx.arg(k) is not None}
        args, errors = prepare(unit, raw)
        if errors:
            return fail(errors[0])
        result = unit.run(replace(ctx, args=args))
        dropped = [
            f'Ignoring "{k}" as it is not used in "systemd"'
            for k in UNUSED_WITH_SYSTEMD
            if ctx.arg(k) not in (None, "", "default")
        ]
        if not dropped or result.registered is None:
            return result
        warnings = [*dropped, *result.registered.get("warnings", [])]
        return replace(result, registered={**result.registered, "warnings": warnings})

    @staticmethod
    def _actions(ctx: ModuleContext, st: ServiceState) -> list[str]:
        actions: list[str] = []
        state = ctx.arg("state")
        if state == "started" and not st.active:
            actions.append("start")
        elif state == "stopped" and st.active:
            actions.append("stop")
        elif state == "restarted":
            actions.append("restart")
        elif state == "reloaded":
            actions.append("reload" if st.active else "start")
        enabled = ctx.arg("enabled")
        if enabled is not None and enabled != st.enabled:
            actions.append("enable" if enabled else "disable")
        return actions
