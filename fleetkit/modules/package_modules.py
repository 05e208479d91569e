"""The package-source modules roles call (pip, apt_repository, apt_key), for the registry."""

from __future__ import annotations

from fleetkit.modules.apt_key import AptKey
from fleetkit.modules.apt_repository import AptRepository
from fleetkit.modules.base import Module
from fleetkit.modules.pip import Pip

PACKAGE_MODULES: tuple[Module, ...] = (AptKey(), AptRepository(), Pip())
