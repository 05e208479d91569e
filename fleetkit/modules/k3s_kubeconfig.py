"""k3s_kubeconfig: fetch a server's kubeconfig, rewrite it as YAML, write it 0600 on the controller.

k3s writes /etc/rancher/k3s/k3s.yaml pointing at https://127.0.0.1:6443 with
everything named `default`. The file is parsed as YAML (never edited as text),
every cluster's `server` set to the given URL, the cluster, user and context
renamed to `context`, and the result written atomically with mode 0600 (it holds
client credentials); unchanged content is not rewritten. Its content never
appears in any output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from fleetkit.atomic import write_atomic
from fleetkit.errors import TaskError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.k3s_common import KUBECONFIG


def rewrite(text: str, server: str, context: str) -> str:
    """The kubeconfig with server URL and names replaced; ValueError if it is not one."""
    import yaml

    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or not doc.get("clusters") or not doc.get("contexts"):
        raise ValueError("not a kubeconfig (no clusters/contexts)")
    renames: dict[str, dict[str, str]] = {"clusters": {}, "users": {}}
    for section in ("clusters", "users"):
        entries: list[Any] = doc.get(section) or []
        for i, entry in enumerate(entries):
            new = context if len(entries) == 1 else f"{context}-{i}"
            renames[section][str(entry.get("name"))] = new
            entry["name"] = new
    for entry in doc["clusters"]:
        entry.setdefault("cluster", {})["server"] = server
    contexts: list[Any] = doc["contexts"]
    for i, entry in enumerate(contexts):
        ctx = entry.setdefault("context", {})
        ctx["cluster"] = renames["clusters"].get(str(ctx.get("cluster")), ctx.get("cluster"))
        ctx["user"] = renames["users"].get(str(ctx.get("user")), ctx.get("user"))
        entry["name"] = context if len(contexts) == 1 else f"{context}-{i}"
    doc["current-context"] = contexts[0]["name"]
    return str(yaml.safe_dump(doc, default_flow_style=False, sort_keys=False))


class K3sKubeconfig(Module):
    name = "k3s_kubeconfig"
    args: ClassVar[dict[str, Arg]] = {
        "dest": Arg("path", required=True),
        "server": Arg("str"),
        "context": Arg("str", default="k3s"),
        "src": Arg("path", default=KUBECONFIG),
        "port": Arg("int", default=6443),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        dest = Path(str(ctx.arg("dest"))).expanduser()
        if not dest.is_absolute():
            dest = Path.cwd() / dest
        address = str(ctx.variables.get("ansible_host") or ctx.host)
        server = str(ctx.arg("server") or f"https://{address}:{ctx.arg('port')}")
        try:
            raw = ctx.conn.get(str(ctx.arg("src")), become=ctx.become)
            text = rewrite(raw.decode(), server, str(ctx.arg("context")))
        except TaskError as err:
            if ctx.check:  # check mode before the server ever ran: nothing to fetch yet
                return ModuleResult(changed=True, msg=f"would fetch {ctx.arg('src')} to {dest}")
            return fail(err.message)
        except (ValueError, UnicodeDecodeError) as err:
            return fail(f"{ctx.arg('src')} on {ctx.host}: {err}")
        data = {"dest": str(dest), "server": server, "context": str(ctx.arg("context"))}
        same = dest.is_file() and dest.read_text() == text
        if same and (dest.stat().st_mode & 0o777) == 0o600:
            return ModuleResult(msg=f"{dest} up to date", data=data)
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would write {dest} (0600)", data=data)
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if same:
            os.chmod(dest, 0o600)
        else:
            write_atomic(dest, text, mode=0o600)
        return ModuleResult(changed=True, msg=f"wrote {dest} (0600, server {server})", data=data)
