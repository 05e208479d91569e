"""swarm_status: the old name of cluster_status, kept so existing playbooks and imports work."""

from fleetkit.modules.cluster_status import ClusterStatusModule as SwarmStatus

__all__ = ["SwarmStatus"]
