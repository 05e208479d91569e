"""swarm_scale: the old name of service_scale, kept so existing playbooks and imports work."""

from fleetkit.modules.service_scale import ServiceScale as SwarmScale

__all__ = ["SwarmScale"]
