"""swarm_service_remove: the old name of service_remove (existing playbooks and imports work)."""

from fleetkit.modules.service_remove import ServiceRemove as SwarmServiceRemove

__all__ = ["SwarmServiceRemove"]
