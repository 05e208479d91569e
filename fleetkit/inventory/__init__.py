"""Inventory: hosts, groups, variables (model), loading (load) and patterns (select)."""

from fleetkit.inventory.model import Group, Host, Inventory

__all__ = ["Group", "Host", "Inventory"]
