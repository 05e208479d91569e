"""The driver's API calls, through lightkube: typed resources in, JSON dicts out.

One place for the verbs the driver uses (get, list, server-side apply, delete,
scale, cordon, evict), for turning API and transport errors into
OrchestratorError with the server's reason, and for apply conflicts: a conflict
with fleetkit's own earlier writes is forced, one with another manager refused
unless the host says k8s_force_conflicts.
"""

from __future__ import annotations

import re
from typing import Any

import httpx2
from lightkube import ApiError, Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Node, PodEviction
from lightkube.types import PatchType

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.k8s_fields import Json
from fleetkit.orchestrators.k8s_manifest import FIELD_MANAGER

CONFLICT_MANAGER = re.compile(r'conflict with "([^"]+)"')
DEFAULT_TIMEOUT_S = 30.0


def _d(obj: Any) -> Json:
    return dict(obj.to_dict())


def api_failure(what: str, err: Exception) -> OrchestratorError:
    """An API or transport error as one line with the server's reason (no credentials)."""
    if isinstance(err, ApiError):
        status = err.status
        return OrchestratorError(f"{what}: {status.message} ({status.code} {status.reason})")
    return OrchestratorError(f"{what}: {type(err).__name__}: {err}")


def conflicts(err: ApiError) -> tuple[set[str], list[str]]:
    """The managers and fields a 409 apply conflict names."""
    managers: set[str] = set()
    fields: list[str] = []
    details = err.status.details
    for cause in (details.causes if details is not None else None) or ():
        managers.update(CONFLICT_MANAGER.findall(cause.message or ""))
        if cause.field:
            fields.append(cause.field)
    if not managers:
        managers.update(CONFLICT_MANAGER.findall(err.status.message or ""))
    return managers, fields


class KubeApi:
    """lightkube for requests and responses; httpx2 on the same transport for watches."""

    def __init__(self, client: Client, http: httpx2.Client, *, force_conflicts: bool) -> None:
        self.client = client
        self.http = http
        self.force_conflicts = force_conflicts

    def get(self, res: Any, name: str, namespace: str | None = None) -> Json | None:
        """The object, or None when it does not exist."""
        try:
            if namespace is None:
                return _d(self.client.get(res, name))
            return _d(self.client.get(res, name, namespace=namespace))
        except ApiError as err:
            if err.status.code == 404:
                return None
            raise api_failure(f"cannot read {res.__name__} {name}", err) from None
        except httpx2.HTTPError as err:
            raise api_failure(f"cannot reach the API server for {name}", err) from None

    def list(self, res: Any, **kw: Any) -> list[Json]:
        try:
            return [_d(o) for o in self.client.list(res, **kw)]
        except (ApiError, httpx2.HTTPError) as err:
            raise api_failure(f"cannot list {res.__name__}", err) from None

    def apply(self, res: Any, body: Json, namespace: str, *, dry_run: bool) -> Json:
        """Server-side apply as fleetkit; see the module docstring for conflicts."""
        name = body["metadata"]["name"]
        force = self.force_conflicts
        for _ in range(2):
            try:
                result = self.client.patch(
                    res,
                    name,
                    body,
                    namespace=namespace,
                    patch_type=PatchType.APPLY,
                    field_manager=FIELD_MANAGER,
                    force=force,
                    dry_run=dry_run,
                )
                return _d(result)
            except ApiError as err:
                if err.status.code != 409 or force:
                    raise api_failure(f"cannot apply {res.__name__} {name}", err) from None
                managers, fields = conflicts(err)
                if managers and managers <= {FIELD_MANAGER}:
                    force = True  # our own scale/undo owns them: take them back
                    continue
                raise OrchestratorError(
                    f"{res.__name__} {name}: {', '.join(fields) or 'fields'} are managed by"
                    f" {', '.join(sorted(managers)) or 'another manager'}",
                    hint="change them with that manager, or set k8s_force_conflicts: true"
                    " to let fleetkit take them over",
                ) from None
            except httpx2.HTTPError as err:
                raise api_failure(f"cannot apply {res.__name__} {name}", err) from None
        raise OrchestratorError(f"{res.__name__} {name}: apply kept conflicting")

    def delete(self, res: Any, name: str, namespace: str, *, dry_run: bool) -> None:
        try:
            self.client.delete(res, name, namespace=namespace, dry_run=dry_run)
        except ApiError as err:
            if err.status.code != 404:
                raise api_failure(f"cannot delete {res.__name__} {name}", err) from None
        except httpx2.HTTPError as err:
            raise api_failure(f"cannot delete {res.__name__} {name}", err) from None

    def scale(self, name: str, namespace: str, replicas: int, *, dry_run: bool) -> None:
        """A merge patch of the scale subresource: replicas only, no new revision."""
        try:
            self.client.patch(
                Deployment.Scale,
                name,
                {"spec": {"replicas": replicas}},
                namespace=namespace,
                patch_type=PatchType.MERGE,
                field_manager=FIELD_MANAGER,
                dry_run=dry_run,
            )
        except (ApiError, httpx2.HTTPError) as err:
            raise api_failure(f"cannot scale deployment {name}", err) from None

    def cordon(self, node: str) -> None:
        try:
            self.client.patch(
                Node,
                node,
                {"spec": {"unschedulable": True}},
                patch_type=PatchType.MERGE,
                field_manager=FIELD_MANAGER,
            )
        except (ApiError, httpx2.HTTPError) as err:
            raise api_failure(f"cannot cordon node {node}", err) from None

    def evict(self, name: str, namespace: str) -> bool:
        """Ask for a pod's eviction (policy/v1); False when a disruption budget says not now."""
        eviction = PodEviction(metadata=ObjectMeta(name=name, namespace=namespace))
        try:
            self.client.create(eviction, name, namespace=namespace)
        except ApiError as err:
            if err.status.code == 429:
                return False
            if err.status.code != 404:
                raise api_failure(f"cannot evict pod {name}", err) from None
        except httpx2.HTTPError as err:
            raise api_failure(f"cannot evict pod {name}", err) from None
        return True

    def close(self) -> None:
        self.http.close()
        self.client.close()


def lightkube_config(server: str, namespace: str) -> KubeConfig:
    """A kubeconfig with the server's address only: credentials live in the TLS context."""
    return KubeConfig.from_dict(
        {
            "clusters": [{"name": "fleetkit", "cluster": {"server": server}}],
            "users": [{"name": "fleetkit", "user": {}}],
            "contexts": [
                {
                    "name": "fleetkit",
                    "context": {"cluster": "fleetkit", "user": "fleetkit", "namespace": namespace},
                }
            ],
            "current-context": "fleetkit",
        }
    )


def make_api(
    transport: httpx2.BaseTransport,
    *,
    server: str,
    namespace: str,
    force_conflicts: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> KubeApi:
    """A lightkube client and a watch client sharing one transport (and its pool)."""
    timeout = httpx2.Timeout(timeout_s)
    client = Client(
        lightkube_config(server, namespace),
        namespace=namespace,
        timeout=timeout,
        field_manager=FIELD_MANAGER,
        trust_env=False,
        transport=transport,
    )
    http = httpx2.Client(base_url=server, transport=transport, timeout=timeout, trust_env=False)
    return KubeApi(client, http, force_conflicts=force_conflicts)
