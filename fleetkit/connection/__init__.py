"""Transports: SSH (Fabric) and local, behind one interface (a fake lives in fleetkit.testing)."""

from fleetkit.connection.base import CommandResult, Connection

__all__ = ["CommandResult", "Connection"]
