"""swarm_service: the old name of service_deploy, kept so existing playbooks and imports work."""

from fleetkit.modules.service_deploy import ServiceDeploy as SwarmService

__all__ = ["SwarmService"]
