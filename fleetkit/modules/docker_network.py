"""docker_network (community.docker): a network present (with its driver) or absent.

A present network with another driver is recreated only with force (its
containers would be cut off); returns `network` (the inspect result).
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult, fail
from fleetkit.modules.docker_common import DockerApi, DockerModule


class DockerNetwork(DockerModule):
    name = "docker_network"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("network_name",)),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "driver": Arg("str", default="bridge"),
        "internal": Arg("bool", default=False),
        "force": Arg("bool", default=False),
    }

    def act(self, ctx: ModuleContext, api: DockerApi) -> ModuleResult:
        name = str(ctx.arg("name"))
        found = api.network(name)
        verb = "would " if ctx.check else ""
        if ctx.arg("state") == "absent":
            if found is None:
                return ModuleResult(msg=f"network {name} absent", data={"network": {}})
            if not ctx.check:
                api.remove_network(name)
            return ModuleResult(
                changed=True, msg=f"{verb}remove network {name}", data={"network": {}}
            )
        driver, internal = str(ctx.arg("driver")), bool(ctx.arg("internal"))
        if found is not None:
            differs = [
                what
                for what, have, want in (
                    ("driver", found.get("Driver"), driver),
                    ("internal", bool(found.get("Internal")), internal),
                )
                if have != want
            ]
            if not differs:
                return ModuleResult(msg=f"network {name} present", data={"network": found})
            if not ctx.arg("force"):
                return fail(
                    f"network {name} exists with another {', '.join(differs)};"
                    " force: true recreates it",
                    data={"network": found},
                )
            if not ctx.check:
                api.remove_network(name)
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would create network {name}", data={})
        api.create_network(name, driver=driver, internal=internal)
        return ModuleResult(
            changed=True, msg=f"created network {name}", data={"network": api.network(name) or {}}
        )
