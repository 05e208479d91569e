"""k3s_config: k3s's configuration as files: config.yaml, registries.yaml, env file, unit, token.

Never flags: everything k3s reads goes into /etc/rancher/k3s/config.yaml (always
with `node-ip`, the inventory address, so k3s needs no default route),
registries.yaml (mirrors, plain-http ones included), the unit's env file and a
systemd unit fleetkit writes itself (templates/k3s/). A join token (a Secret) is
written 0600 to a token file that config.yaml names (`token-file`), through
stdin: never on a command line, never in a diff. Each file is compared with the
host's by sha256 and written only when it differs; k3s_service restarts k3s only
when the files it was started with changed.
"""

from __future__ import annotations

import dataclasses
from collections import ChainMap
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.errors import FleetkitError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.copy import put_content
from fleetkit.modules.k3s_common import CONFIG_DIR, TOKEN_FILE, UNIT_DIR, binary_path, unit_name
from fleetkit.modules.remote import RemoteError, q, stat

RESERVED = ("token", "agent-token", "node-ip", "server", "cluster-init", "token-file")
"""config keys the module owns (a token in config.yaml would sit in a 0644-able file)."""


def parity_warning(servers: int | None) -> str | None:
    """A warning for an even number of servers (etcd quorum gains nothing from it)."""
    if servers is None or servers < 2 or servers % 2 == 1:
        return None
    return (
        f"{servers} k8s_servers: an even etcd member count tolerates no more failures than"
        f" {servers - 1}; use 3 or 5 servers"
    )


def registries_doc(registries: Mapping[str, Any], http: list[str]) -> dict[str, Any]:
    """registries.yaml's content: the given mirrors/configs plus plain-http mirrors."""
    doc: dict[str, Any] = {k: dict(v) for k, v in registries.items() if isinstance(v, Mapping)}
    mirrors = doc.setdefault("mirrors", {})
    for name in http:
        mirrors.setdefault(name, {"endpoint": [f"http://{name}"]})
    if not mirrors:
        del doc["mirrors"]
    return doc


def config_doc(args: Mapping[str, Any], node_ip: str, node_name: str) -> dict[str, Any]:
    """config.yaml's content (the module's keys first, then the user's extra ones)."""
    doc: dict[str, Any] = {"node-ip": node_ip, "node-name": node_name}
    if args.get("server_url"):
        doc["server"] = str(args["server_url"])
    elif args.get("role") == "server" and args.get("cluster_init"):
        doc["cluster-init"] = True
    if args.get("server_url") or args.get("token") is not None:
        doc["token-file"] = str(args.get("token_file") or TOKEN_FILE)
    if args.get("role") == "server":
        doc["write-kubeconfig-mode"] = "0600"
        doc["tls-san"] = [node_ip]
    doc.update(dict(args.get("config") or {}))
    return doc


class K3sConfig(Module):
    name = "k3s_config"
    args: ClassVar[dict[str, Arg]] = {
        "role": Arg("str", required=True, choices=("server", "agent")),
        "node_ip": Arg("str"),
        "node_name": Arg("str"),
        "server_url": Arg("str"),
        "cluster_init": Arg("bool", default=False),
        "servers": Arg("int"),
        "token": Arg("raw", secret=True),
        "token_file": Arg("path", default=TOKEN_FILE),
        "config": Arg("dict", default={}),
        "registries": Arg("dict", default={}),
        "http_registries": Arg("list", default=[]),
        "env": Arg("dict", default={}),
        "bin_dir": Arg("path", default="/usr/local/bin"),
        "config_dir": Arg("path", default=CONFIG_DIR),
        "unit_dir": Arg("path", default=UNIT_DIR),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors: list[str] = []
        taken = sorted(set(args.get("config") or {}) & set(RESERVED))
        if taken:
            errors.append(
                f"module k3s_config: config may not set {', '.join(taken)}"
                " (the module writes them; tokens go to the 0600 token file)"
            )
        if args.get("role") == "agent" and not args.get("server_url"):
            errors.append("module k3s_config: an agent needs server_url")
        if args.get("server_url") and args.get("token") is None:
            errors.append("module k3s_config: joining (server_url) needs token")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        role = str(ctx.arg("role"))
        unit = unit_name(role)
        node_ip = str(ctx.arg("node_ip") or ctx.variables.get("ansible_host") or ctx.host)
        node_name = str(ctx.arg("node_name") or ctx.host)
        conf_dir = str(ctx.arg("config_dir")).rstrip("/")
        unit_dir = str(ctx.arg("unit_dir")).rstrip("/")
        http = [str(r) for r in ctx.arg("http_registries") or []]
        k3s: dict[str, Any] = {
            "role": role,
            "unit": unit,
            "binary": binary_path(ctx.arg("bin_dir")),
            "config_path": f"{conf_dir}/config.yaml",
            "env_path": f"{unit_dir}/{unit}.service.env",
            "config": config_doc(ctx.args, node_ip, node_name),
            "registries": registries_doc(ctx.arg("registries") or {}, http),
            "env": {str(k): str(v) for k, v in (ctx.arg("env") or {}).items()},
        }
        try:
            files = [
                (k3s["config_path"], self._render(ctx, "config.yaml.j2", k3s), 0o600),
                (k3s["env_path"], self._render(ctx, "k3s.service.env.j2", k3s), 0o600),
                (f"{unit_dir}/{unit}.service", self._render(ctx, "k3s.service.j2", k3s), 0o644),
            ]
            if k3s["registries"]:
                reg = self._render(ctx, "registries.yaml.j2", k3s)
                files.append((f"{conf_dir}/registries.yaml", reg, 0o600))
        except FleetkitError as err:
            return fail(err.message)
        results: list[ModuleResult] = []
        try:
            if not ctx.check:
                made = ctx.run(f"mkdir -p {q(conf_dir)} {q(unit_dir)} && chmod 0755 {q(conf_dir)}")
                if not made.ok:
                    return fail(f"cannot create {conf_dir}: {made.stderr.strip()}")
            for path, text, mode in files:
                results.append(_put(ctx, path, text.encode(), mode, show_diff=True))
            if not k3s["registries"]:
                results.append(_remove(ctx, f"{conf_dir}/registries.yaml"))
            token = ctx.arg("token")
            if token is not None:
                results.append(_put_token(ctx, str(ctx.arg("token_file")), token))
        except RemoteError as err:
            return fail(str(err))
        failed = [r for r in results if r.failed]
        if failed:
            return failed[0]
        changed = [str(r.data.get("dest")) for r in results if r.changed]
        warnings = [w for w in (parity_warning(ctx.arg("servers")),) if w]
        msg = (
            f"{'would write' if ctx.check else 'wrote'} {', '.join(changed)}"
            if changed
            else f"{unit} configuration unchanged"
        )
        if warnings:
            msg += "; warning: " + "; warning: ".join(warnings)
        data: dict[str, Any] = {"unit": unit, "files_changed": changed, "warnings": warnings}
        return ModuleResult(
            changed=bool(changed),
            msg=msg,
            diff="".join(r.diff for r in results),
            data=data,
        )

    @staticmethod
    def _render(ctx: ModuleContext, name: str, k3s: Mapping[str, Any]) -> str:
        variables: Mapping[str, Any] = ChainMap({"k3s": k3s}, dict(ctx.variables))
        return ctx.templar.render_file(f"k3s/{name}", variables)


def _put(ctx: ModuleContext, path: str, data: bytes, mode: int, *, show_diff: bool) -> ModuleResult:
    """copy's compare-then-write for one file, with this file's mode (and diff or not)."""
    args = {"dest": path, "mode": mode, "force": True, "backup": False}
    sub = dataclasses.replace(ctx, args=args, diff=ctx.diff and show_diff)
    return put_content(sub, path, data)


def _put_token(ctx: ModuleContext, path: str, token: Any) -> ModuleResult:
    """The token file, 0600; the value goes through stdin and never into a diff or message."""
    reveal = getattr(token, "reveal", None)
    value = str(reveal() if callable(reveal) else token).strip()
    if not value:
        if ctx.check:  # check mode before the first server exists: nothing to compare yet
            return ModuleResult(changed=True, msg="would write the token file", data={"dest": path})
        return fail("the join token is empty: did the first server start?")
    res = _put(ctx, path, (value + "\n").encode(), 0o600, show_diff=False)
    return dataclasses.replace(res, diff="")


def _remove(ctx: ModuleContext, path: str) -> ModuleResult:
    st = stat(ctx, path, checksum=False)
    if not st.exists:
        return ModuleResult(data={"dest": path})
    if not ctx.check:
        res = ctx.run(f"rm -f {q(path)}")
        if not res.ok:
            return fail(f"cannot remove {path}: {res.stderr.strip()}")
    return ModuleResult(changed=True, msg=f"removed {path}", data={"dest": path})
