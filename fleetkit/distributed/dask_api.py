"""Dask distributed (and its cloudpickle), imported on first use and seen as Any (they are
not fully typed)."""

from __future__ import annotations

import importlib
from typing import Any

from fleetkit.errors import ClusterError


def dask() -> Any:
    """The `distributed` module, or a ClusterError saying how to install it."""
    try:
        return importlib.import_module("distributed")
    except ImportError as err:
        raise ClusterError(
            "--cluster needs Dask distributed, which is not installed",
            hint="pip install 'fleetkit[cluster]'",
        ) from err


def cloudpickle() -> Any:
    """cloudpickle (installed with Dask distributed), or a ClusterError saying how to get it."""
    try:
        return importlib.import_module("cloudpickle")
    except ImportError as err:
        raise ClusterError(
            "--cluster needs Dask distributed, which is not installed",
            hint="pip install 'fleetkit[cluster]'",
        ) from err
