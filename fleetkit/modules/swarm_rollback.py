"""swarm_rollback: the old name of service_rollback, kept so existing playbooks and imports work."""

from fleetkit.modules.service_rollback import ServiceRollback as SwarmRollback

__all__ = ["SwarmRollback"]
