"""Reporters: console (live, human), JSON lines, metrics."""

from fleetkit.report.base import Reporter, Reporters

__all__ = ["Reporter", "Reporters"]
