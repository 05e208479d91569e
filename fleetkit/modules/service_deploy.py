"""service_deploy: create or update a replicated service, then wait until it converges.

Any driver (Swarm, Kubernetes: the host's `orchestrator` variable); the old name
swarm_service still works.

Only the fields named here change; the rest of the current spec is kept. The
task waits (by default) until running tasks == desired, all on the new spec; an
update the engine rolls back (failure_action: rollback) is a failure with the
engine's reason. Ports: 80, '8080:80', '8080:80/udp' or {target, published,
protocol, mode}; publish_mode (ingress|host) is the default mode of each port.
mounts (Swarm): [{source, target, type: bind|volume|tmpfs, readonly}], a bind
source being a path on the node that runs the task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.cluster_common import (
    WAIT_ARGS,
    ClusterModule,
    change_result,
    check_spec_args,
    wait_options,
)
from fleetkit.orchestrators.base import Orchestrator
from fleetkit.orchestrators.spec_args import service_spec


class ServiceDeploy(ClusterModule):
    name = "service_deploy"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("service",)),
        "image": Arg("str"),
        "replicas": Arg("int"),
        "command": Arg("raw"),
        "args": Arg("raw"),
        "env": Arg("raw"),
        "labels": Arg("dict"),
        "container_labels": Arg("dict"),
        "mounts": Arg("list"),
        "ports": Arg("list", aliases=("publish",)),
        "publish_mode": Arg("str", choices=("ingress", "host")),
        "endpoint_mode": Arg("str", choices=("vip", "dnsrr")),
        "constraints": Arg("list"),
        "max_replicas_per_node": Arg("int"),
        "resources": Arg("dict"),
        "healthcheck": Arg("dict"),
        "restart_policy": Arg("dict"),
        "stop_grace_period": Arg("raw"),
        "update_config": Arg("dict"),
        "rollback_config": Arg("dict"),
        "force_update": Arg("bool", default=False),
        "swarm": Arg("dict"),
        "k8s": Arg("dict"),
        **WAIT_ARGS,
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        return check_spec_args(self.name, args)

    def act(self, ctx: ModuleContext, orchestrator: Orchestrator) -> ModuleResult:
        spec = service_spec(ctx.args)
        change = orchestrator.deploy(spec, wait_options(ctx), check=ctx.check)
        return change_result(change, name=spec.name)
