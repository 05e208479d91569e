"""Transports: SSH (Fabric), local and a fake for tests, behind one interface."""

from fleetkit.connection.base import CommandResult, Connection

__all__ = ["CommandResult", "Connection"]
