"""The system modules roles call (systemd, setup, reboot, pip, docker_* ...), for the registry."""

from __future__ import annotations

from fleetkit.modules.base import Module
from fleetkit.modules.setup import Setup
from fleetkit.modules.systemd import Systemd

SYSTEM_MODULES: tuple[Module, ...] = (Setup(), Systemd())
