"""Every k3s_* module and k8s_drain, for the registry (one import there)."""

from __future__ import annotations

from fleetkit.modules.base import Module
from fleetkit.modules.k3s_config import K3sConfig
from fleetkit.modules.k3s_install import K3sInstall
from fleetkit.modules.k3s_kubeconfig import K3sKubeconfig
from fleetkit.modules.k3s_nodes_ready import K3sNodesReady
from fleetkit.modules.k3s_service import K3sService
from fleetkit.modules.k3s_token import K3sToken
from fleetkit.modules.k3s_uninstall import K3sUninstall
from fleetkit.modules.k8s_drain import K8sDrain

K3S_MODULES: tuple[Module, ...] = (
    K3sConfig(),
    K3sInstall(),
    K3sKubeconfig(),
    K3sNodesReady(),
    K3sService(),
    K3sToken(),
    K3sUninstall(),
    K8sDrain(),
)
