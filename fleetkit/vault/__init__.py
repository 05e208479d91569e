"""Ansible Vault: the format (format.py), passwords (secrets.py), the command's
passwords (context.py) and vaulted YAML (yaml.py). Opened values are VaultStr."""

from fleetkit.vault.values import VaultError, VaultStr

__all__ = ["VaultError", "VaultStr"]
