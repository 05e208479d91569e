"""The cluster modules for the registry: Swarm-only ones, the neutral service ones, old names.

The neutral service modules (service_deploy, service_scale, service_rollback,
service_remove, cluster_status) work on any driver; their swarm_* names from
before Kubernetes stay registered as the same modules (LEGACY_NAMES).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fleetkit.modules.base import Module
from fleetkit.modules.cluster_status import ClusterStatusModule
from fleetkit.modules.service_deploy import ServiceDeploy
from fleetkit.modules.service_remove import ServiceRemove
from fleetkit.modules.service_rollback import ServiceRollback
from fleetkit.modules.service_scale import ServiceScale
from fleetkit.modules.swarm_init import SwarmInit
from fleetkit.modules.swarm_join import SwarmJoin
from fleetkit.modules.swarm_leave import SwarmLeave
from fleetkit.modules.swarm_node import SwarmNode

SWARM_MODULES: tuple[Module, ...] = (
    SwarmInit(),
    SwarmJoin(),
    SwarmLeave(),
    SwarmNode(),
    ServiceDeploy(),
    ServiceScale(),
    ServiceRollback(),
    ServiceRemove(),
    ClusterStatusModule(),
)

LEGACY_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "swarm_service": "service_deploy",
        "swarm_scale": "service_scale",
        "swarm_rollback": "service_rollback",
        "swarm_service_remove": "service_remove",
        "swarm_status": "cluster_status",
    }
)
