"""Every swarm_* module, for the registry (one import there, not nine)."""

from __future__ import annotations

from fleetkit.modules.base import Module
from fleetkit.modules.swarm_init import SwarmInit
from fleetkit.modules.swarm_join import SwarmJoin
from fleetkit.modules.swarm_leave import SwarmLeave
from fleetkit.modules.swarm_node import SwarmNode
from fleetkit.modules.swarm_rollback import SwarmRollback
from fleetkit.modules.swarm_scale import SwarmScale
from fleetkit.modules.swarm_service import SwarmService
from fleetkit.modules.swarm_service_remove import SwarmServiceRemove
from fleetkit.modules.swarm_status import SwarmStatus

SWARM_MODULES: tuple[Module, ...] = (
    SwarmInit(),
    SwarmJoin(),
    SwarmLeave(),
    SwarmNode(),
    SwarmRollback(),
    SwarmScale(),
    SwarmService(),
    SwarmServiceRemove(),
    SwarmStatus(),
)
