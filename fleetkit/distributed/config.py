"""Where a run's Dask scheduler is: --cluster, else FLEETKIT_CLUSTER, else the inventory's
`fleetkit_cluster` (under all.vars); none of them means a local run."""

from __future__ import annotations

from collections.abc import Mapping

from fleetkit.errors import UsageError
from fleetkit.inventory.model import Inventory

ENV = "FLEETKIT_CLUSTER"
INVENTORY_VAR = "fleetkit_cluster"
SCHEMES = ("tcp://", "tls://")


def cluster_address(
    option: str | None, environ: Mapping[str, str], inventory: Inventory
) -> str | None:
    """The scheduler address a run should use, or None to run in-process."""
    value = option or environ.get(ENV) or None
    source = "--cluster" if option else ENV
    if value is None:
        group = inventory.groups.get("all")
        raw = group.vars.get(INVENTORY_VAR) if group is not None else None
        if raw in (None, ""):
            return None
        value, source = str(raw), f"inventory variable {INVENTORY_VAR}"
    value = value.strip()
    if not value.startswith(SCHEMES) or ":" not in value.split("://", 1)[1]:
        raise UsageError(
            f"{source} {value!r}: expected a Dask scheduler address such as tcp://HOST:8786",
            hint="tls:// when the cluster uses TLS (configure the certificates in Dask's config)",
        )
    return value
