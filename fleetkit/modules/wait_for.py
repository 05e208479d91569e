"""wait_for: wait on the host until a TCP port answers (or closes) or a path appears (or goes).

The wait loop runs on the host in one command, so it costs one round trip
however long it waits. Changes nothing; runs in check mode too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q


def port_test(host: str, port: int) -> str:
    """A shell test that succeeds when host:port accepts a TCP connection."""
    h, p = q(host), int(port)
    return (
        "( if command -v bash >/dev/null 2>&1; then"
        f" timeout 2 bash -c 'exec 3<>/dev/tcp/'{h}'/{p}';"
        f" elif command -v nc >/dev/null 2>&1; then nc -z -w 2 {h} {p};"
        f" else busybox nc -z -w 2 {h} {p}; fi ) >/dev/null 2>&1"
    )


class WaitFor(Module):
    name = "wait_for"
    args: ClassVar[dict[str, Arg]] = {
        "host": Arg("str", default="127.0.0.1"),
        "port": Arg("int"),
        "path": Arg("path"),
        "state": Arg("str", default="started", choices=("started", "stopped", "present", "absent")),
        "timeout": Arg("float", default=300.0),
        "delay": Arg("float", default=0.0),
        "sleep": Arg("float", default=1.0),
        "search_regex": Arg("str"),
        "msg": Arg("str"),
    }
    exclusive = (("port", "path"),)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("port") is None and args.get("path") is None and not args.get("delay"):
            return ["module wait_for: give port or path (or only delay)"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        state = str(ctx.arg("state"))
        path = ctx.arg("path")
        port = ctx.arg("port")
        if port is not None:
            test = port_test(str(ctx.arg("host")), port)
            what = f"port {ctx.arg('host')}:{port}"
        elif path is not None:
            regex = ctx.arg("search_regex")
            test = f"[ -e {q(path)} ]" + (f" && grep -Eq {q(regex)} {q(path)}" if regex else "")
            what = f"path {path}"
        else:
            test, what = "true", "delay"
        if state in ("stopped", "absent"):
            test = f"! {{ {test}; }}"
        timeout = float(ctx.arg("timeout"))
        script = (
            f"sleep {float(ctx.arg('delay')):g}; end=$(( $(date +%s) + {int(timeout)} ));"
            f" while :; do if {test}; then exit 0; fi;"
            f" [ $(date +%s) -ge $end ] && exit 1; sleep {float(ctx.arg('sleep')):g}; done"
        )
        res = ctx.run(script)
        if res.timed_out:
            return fail(f"{what}: task timeout reached while waiting for {state}")
        if not res.ok:
            return fail(ctx.arg("msg") or f"{what}: not {state} after {timeout:g}s", rc=res.rc)
        return ModuleResult(msg=f"{what} {state}", data={"elapsed": round(res.duration_s, 3)})
