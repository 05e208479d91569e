"""Execution: a bounded pool of per-host workers over persistent connections."""

from fleetkit.executor.pool import HostPool, default_forks

__all__ = ["HostPool", "default_forks"]
