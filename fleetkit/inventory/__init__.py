"""Inventory: hosts, groups, variables (model), loading (load) and patterns (select)."""

from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.model import Group, Host, Inventory
from fleetkit.inventory.select import select_hosts

__all__ = ["Group", "Host", "Inventory", "load_inventory", "select_hosts"]
