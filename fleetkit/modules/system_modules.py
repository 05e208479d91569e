"""The system modules roles call (systemd, setup, getent, package_facts, reboot, docker_* ...),
for the registry."""

from __future__ import annotations

from fleetkit.modules.base import Module
from fleetkit.modules.docker_container import DockerContainer
from fleetkit.modules.docker_image import DockerImage
from fleetkit.modules.docker_network import DockerNetwork
from fleetkit.modules.getent import Getent
from fleetkit.modules.package_facts import PackageFacts
from fleetkit.modules.reboot import Reboot
from fleetkit.modules.setup import Setup
from fleetkit.modules.systemd import Systemd
from fleetkit.modules.wait_for_connection import WaitForConnection

SYSTEM_MODULES: tuple[Module, ...] = (
    DockerContainer(),
    DockerImage(),
    DockerNetwork(),
    Getent(),
    PackageFacts(),
    Reboot(),
    Setup(),
    Systemd(),
    WaitForConnection(),
)
