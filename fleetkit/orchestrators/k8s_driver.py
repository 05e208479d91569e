"""The Kubernetes driver: Deployments (+ Services) through the API server, over the SSH tunnel.

open_driver reads the server's k3s.yaml through the host's connection, builds a
TLS context from it and talks to the API server through `conn.open_tcp_stream`
(k8s_tunnel), so no API port needs to be open to the controller. Changes are
server-side apply with fleetkit's field manager; check mode is a server-side
dry run; scale uses the scale subresource; waits watch the rollout
(k8s_rollout). Kubernetes never rolls back by itself: with failure_action
rollback fleetkit undoes the rollout and reports the deploy failed. Replicas are
not part of a rollback (the pod template is), unlike Swarm.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

import httpx2
from lightkube import ALL_NS
from lightkube.resources.apps_v1 import Deployment, ReplicaSet
from lightkube.resources.core_v1 import Node, Pod, Service

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import (
    Change,
    ClusterStatus,
    Orchestrator,
    ServiceSpec,
    ServiceStatus,
    WaitOptions,
)
from fleetkit.orchestrators.convergence import WaitReport
from fleetkit.orchestrators.factory import DriverContext
from fleetkit.orchestrators.k8s_api import DEFAULT_TIMEOUT_S, KubeApi, make_api
from fleetkit.orchestrators.k8s_drain import drain
from fleetkit.orchestrators.k8s_fields import Json
from fleetkit.orchestrators.k8s_kubeconfig import (
    K3S_KUBECONFIG,
    client_ssl_context,
    parse_kubeconfig,
)
from fleetkit.orchestrators.k8s_manifest import (
    FIELD_MANAGER,
    MANAGED_LABEL,
    ROLLED_BACK,
    changed_fields,
    deployment_body,
    ignored_fields,
    rollback_body,
    service_body,
    service_view,
    template_of,
)
from fleetkit.orchestrators.k8s_rollout import revision, wait_rollout
from fleetkit.orchestrators.k8s_status import deployment_status, node_status
from fleetkit.orchestrators.k8s_tunnel import TunnelTransport
from fleetkit.text import to_bool


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rv(obj: Json | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion", ""))


def _rev_int(obj: Json) -> int:
    text = revision(obj)
    return int(text) if text.isdigit() else 0


def _image(dep: Json | None) -> str:
    containers = template_of(dep or {}).get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))


class K8sOrchestrator:
    """The Orchestrator for Kubernetes, over one lightkube client (and the same transport).

    Operations that take a name (scale, rollback, remove) accept "namespace/name" for a
    deployment outside the driver's namespace, as status() names them.
    """

    def __init__(
        self,
        api: KubeApi,
        *,
        source: str,
        namespace: str = "default",
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], str] = _utc_now,
    ) -> None:
        self.api = api
        self.http = api.http
        self.source = source
        self.namespace = namespace
        self.clock = clock
        self.now = now

    def _where(self, name: str) -> tuple[str, str]:
        ns, _, short = name.rpartition("/")
        return (ns or self.namespace), short

    # reading -----------------------------------------------------------------------------

    def _deployment(self, name: str, namespace: str) -> Json:
        dep = self.api.get(Deployment, name, namespace)
        if dep is None:
            raise OrchestratorError(f"deployment {name} does not exist in namespace {namespace}")
        return dep

    def status(self) -> ClusterStatus:
        nodes = self.api.list(Node)
        deployments = self.api.list(Deployment, namespace=ALL_NS)
        pods = self.api.list(Pod, namespace=ALL_NS)
        services = tuple(
            deployment_status(d, pods, nodes, self.namespace)
            for d in sorted(
                deployments,
                key=lambda d: (d["metadata"].get("namespace", ""), d["metadata"]["name"]),
            )
        )
        warnings = tuple(
            f"node {n.hostname} is {n.state}" for n in map(node_status, nodes) if not n.ready
        )
        return ClusterStatus(self.source, tuple(node_status(n) for n in nodes), services, warnings)

    def service_status(self, name: str, namespace: str | None = None) -> ServiceStatus | None:
        ns = namespace or self.namespace
        dep = self.api.get(Deployment, name, ns)
        if dep is None:
            return None
        match = dep["spec"]["selector"].get("matchLabels") or {}
        pods = self.api.list(Pod, namespace=ns, labels=dict(match))
        return deployment_status(dep, pods, self.api.list(Node), self.namespace)

    # applying ----------------------------------------------------------------------------

    def _apply_service(self, spec: ServiceSpec, namespace: str, *, check: bool) -> list[str]:
        if spec.ports is None and spec.k8s.service_type is None:
            return []  # the spec says nothing about the Service: leave it
        live = self.api.get(Service, spec.name, namespace)
        body = service_body(spec, live, namespace)
        if body is None:
            return []
        if body == {}:  # ports named, none through a Service
            ours = ((live or {}).get("metadata") or {}).get("labels", {}).get(MANAGED_LABEL)
            if live is None or ours != FIELD_MANAGER:
                return []
            self.api.delete(Service, spec.name, namespace, dry_run=check)
            return ["service removed"]
        result = self.api.apply(Service, body, namespace, dry_run=check)
        if live is None:
            return ["service created"]
        if service_view(live) != service_view(result) or _rv(live) != _rv(result):
            return ["service"]
        return []

    # changing ----------------------------------------------------------------------------

    def deploy(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        return self._deploy(spec, wait, check=check, must_exist=False)

    def update(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        return self._deploy(spec, wait, check=check, must_exist=True)

    def _deploy(
        self, spec: ServiceSpec, wait: WaitOptions, *, check: bool, must_exist: bool
    ) -> Change:
        ns = spec.k8s.namespace or self.namespace
        live = self.api.get(Deployment, spec.name, ns)
        if live is None and must_exist:
            raise OrchestratorError(f"deployment {spec.name} does not exist in namespace {ns}")
        body = deployment_body(spec, live, ns, now=self.now())
        result = self.api.apply(Deployment, body, ns, dry_run=check)
        fields = ["created"] if live is None else changed_fields(live, result)
        if live is not None and not fields and _rv(live) != _rv(result):
            fields = ["managed fields"]
        fields += self._apply_service(spec, ns, check=check)
        warnings = tuple(f"{f} has no Kubernetes equivalent: ignored" for f in ignored_fields(spec))
        verb = "created" if live is None else "scaled" if fields == ["replicas"] else "updated"
        if check:
            if not fields:
                return Change(False, f"deployment {spec.name} is as wanted", warnings=warnings)
            would = {"created": "create", "scaled": "scale"}.get(verb, "update")
            text = f"would {would} deployment {spec.name} ({', '.join(fields)})"
            return Change(True, text, fields=tuple(fields), warnings=warnings)
        changed = bool(fields)
        message = (
            f"{verb} deployment {spec.name} ({', '.join(fields)})"
            if changed
            else f"deployment {spec.name} is as wanted"
        )
        if not wait.wait:
            return Change(
                changed, f"{message}; not waiting", fields=tuple(fields), warnings=warnings
            )
        report, now = wait_rollout(
            lambda: self._deployment(spec.name, ns),
            self.http,
            ns,
            spec.name,
            wait,
            clock=self.clock,
        )
        if report.converged:
            return self._done(spec.name, ns, message, report, changed, fields, warnings)
        policy = spec.update_config
        rolled_over = live is not None and template_of(live) != template_of(result)
        if policy is not None and policy.failure_action == "rollback" and rolled_over:
            assert live is not None
            return self._undo_failed(spec.name, ns, live, now, report, wait, fields, warnings)
        return self._failed(spec.name, ns, message, report, changed, fields, warnings)

    def _done(
        self,
        name: str,
        ns: str,
        message: str,
        report: WaitReport,
        changed: bool,
        fields: list[str],
        warnings: tuple[str, ...],
    ) -> Change:
        return Change(
            changed,
            f"{message}: {report.reason} ({report.summary()})",
            fields=tuple(fields),
            status=self.service_status(name, ns),
            wait=report,
            warnings=warnings,
        )

    def _failed(
        self,
        name: str,
        ns: str,
        message: str,
        report: WaitReport,
        changed: bool,
        fields: list[str],
        warnings: tuple[str, ...],
    ) -> Change:
        return Change(
            changed,
            f"{message}: FAILED: {report.reason} ({report.summary()})",
            failed=True,
            fields=tuple(fields),
            status=self.service_status(name, ns),
            wait=report,
            warnings=warnings,
        )

    def _undo_failed(
        self,
        name: str,
        ns: str,
        before: Json,
        now: Json,
        report: WaitReport,
        wait: WaitOptions,
        fields: list[str],
        warnings: tuple[str, ...],
    ) -> Change:
        """The rollout failed: put the pod template from before it back, wait, report failed."""
        target_revision = revision(before)
        expect = str(_rev_int(now) + 1)  # the undo renumbers the old ReplicaSet to the newest
        body = rollback_body(now, template_of(before), becomes=expect)
        self.api.apply(Deployment, body, ns, dry_run=False)
        back, _ = wait_rollout(
            lambda: self._deployment(name, ns),
            self.http,
            ns,
            name,
            wait,
            expect_revision=expect,
            clock=self.clock,
        )
        undo = (
            f"fleetkit rolled back to revision {target_revision} ({_image(before)}),"
            f" now revision {expect}: {back.reason}"
            if back.converged
            else f"fleetkit's rollback to revision {target_revision} failed too: {back.reason}"
        )
        return Change(
            True,
            f"update of deployment {name} failed: {report.reason} ({report.summary()}); {undo}",
            failed=True,
            fields=tuple(fields),
            status=self.service_status(name, ns),
            wait=report,
            warnings=warnings,
        )

    def scale(self, name: str, replicas: int, wait: WaitOptions, *, check: bool = False) -> Change:
        """The scale subresource: replicas only, so no new revision."""
        if replicas < 0:
            raise OrchestratorError(f"replicas must be 0 or more, got {replicas}")
        ns, name = self._where(name)
        live = self._deployment(name, ns)
        current = int((live.get("spec") or {}).get("replicas", 1))
        if current != replicas:
            self.api.scale(name, ns, replicas, dry_run=check)
        changed = current != replicas
        message = (
            f"{'would scale' if check else 'scaled'} deployment {name}: {current} -> {replicas}"
            if changed
            else f"deployment {name} has {replicas} replicas"
        )
        fields = ("replicas",) if changed else ()
        if check or not wait.wait:
            suffix = "" if check else "; not waiting"
            return Change(changed, message + suffix, fields=fields)
        report, _ = wait_rollout(
            lambda: self._deployment(name, ns), self.http, ns, name, wait, clock=self.clock
        )
        if report.converged:
            return self._done(name, ns, message, report, changed, list(fields), ())
        return self._failed(name, ns, message, report, changed, list(fields), ())

    def _replica_sets(self, dep: Json) -> list[Json]:
        meta = dep["metadata"]
        match = dep["spec"]["selector"].get("matchLabels") or {}
        sets = self.api.list(ReplicaSet, namespace=meta["namespace"], labels=dict(match))
        uid = meta.get("uid")
        return [
            rs
            for rs in sets
            if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or ())
        ]

    def rollback(self, name: str, wait: WaitOptions, *, check: bool = False) -> Change:
        """Restore the previous revision's pod template (replicas stay as they are)."""
        ns, name = self._where(name)
        live = self._deployment(name, ns)
        sets = self._replica_sets(live)
        current = _rev_int(live)
        if (live["metadata"].get("annotations") or {}).get(ROLLED_BACK) == str(current):
            # Rolled back already (by a rollback, or by fleetkit after a failed update):
            # a second rollback would go forward again, as on Swarm.
            return Change(
                False,
                f"deployment {name} is already rolled back (revision {current}, {_image(live)})",
            )
        older = [rs for rs in sets if 0 < _rev_int(rs) < current]
        if not older:
            return Change(
                False, f"deployment {name} has no previous revision: nothing to roll back"
            )
        target = max(older, key=_rev_int)
        target_rev = _rev_int(target)
        expect = str(max(_rev_int(rs) for rs in sets) + 1)
        template = dict(target["spec"]["template"])
        what = (
            f"roll back {name}: revision {current} ({_image(live)}) -> revision {target_rev}"
            f" ({_image({'spec': {'template': template}})}), which becomes revision {expect}"
        )
        if check:
            return Change(True, f"would {what}", fields=("rollback",))
        self.api.apply(Deployment, rollback_body(live, template, becomes=expect), ns, dry_run=False)
        message = f"{what}; replicas are not rolled back"
        if not wait.wait:
            return Change(True, f"{message}; not waiting", fields=("rollback",))
        report, _ = wait_rollout(
            lambda: self._deployment(name, ns),
            self.http,
            ns,
            name,
            wait,
            expect_revision=expect,
            clock=self.clock,
        )
        if report.converged:
            return self._done(name, ns, message, report, True, ["rollback"], ())
        return self._failed(name, ns, message, report, True, ["rollback"], ())

    def remove(self, name: str, *, check: bool = False) -> Change:
        ns, name = self._where(name)
        dep = self.api.get(Deployment, name, ns)
        svc = self.api.get(Service, name, ns)
        ours = svc is not None and (svc["metadata"].get("labels") or {}).get(MANAGED_LABEL) == (
            FIELD_MANAGER
        )
        if dep is None and not ours:
            return Change(False, f"deployment {name} is absent")
        if dep is not None:
            self.api.delete(Deployment, name, ns, dry_run=check)
        if ours:
            self.api.delete(Service, name, ns, dry_run=check)
        what = "deployment" + (" and service" if ours else "")
        return Change(True, f"{'would remove' if check else 'removed'} {what} {name}")

    # nodes -------------------------------------------------------------------------------

    def drain(self, node: str, wait: WaitOptions, *, check: bool = False) -> Change:
        """Cordon node, evict its pods (not DaemonSets' or static ones), wait until none remain."""
        return drain(self.api, node, wait, check=check)

    def close(self) -> None:
        self.api.close()


def connect(
    transport: httpx2.BaseTransport,
    *,
    server: str,
    source: str,
    namespace: str = "default",
    force_conflicts: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
) -> K8sOrchestrator:
    """A K8sOrchestrator talking to server through transport."""
    api = make_api(
        transport,
        server=server,
        namespace=namespace,
        force_conflicts=force_conflicts,
        timeout_s=timeout_s,
    )
    return K8sOrchestrator(api, source=source, namespace=namespace, clock=clock)


def _flag(host: str, name: str, value: Any) -> bool:
    try:
        return to_bool(value)
    except ValueError:
        raise OrchestratorError(
            f"{host}: {name} must be yes/no (true/false), got {value!r}"
        ) from None


def open_driver(ctx: DriverContext) -> Orchestrator:
    """Read the server's kubeconfig over ctx.conn and tunnel the API through it.

    Host variables: k8s_api_port (default 6443), k8s_kubeconfig (default
    /etc/rancher/k3s/k3s.yaml, read with sudo), k8s_namespace (default "default"),
    k8s_force_conflicts (default false), k8s_api_timeout (seconds, default 30).
    """
    v = ctx.variables
    port = int(v.get("k8s_api_port") or 6443)
    path = str(v.get("k8s_kubeconfig") or K3S_KUBECONFIG)
    try:
        raw = ctx.conn.get(path, become=True)
    except Exception as err:  # TaskError, ConnectionError: say which file
        raise OrchestratorError(
            f"{ctx.host}: cannot read the kubeconfig {path}: {err}",
            hint="is this host a k3s server (group k8s_servers)?",
        ) from None
    creds = parse_kubeconfig(raw)
    ssl_context = client_ssl_context(creds)
    api_host = creds.host
    conn = ctx.conn

    def opener(timeout: float) -> Any:
        return conn.open_tcp_stream(port, host=api_host, timeout=timeout)

    transport = TunnelTransport(opener, ssl_context)
    return connect(
        transport,
        server=f"https://{api_host}:{port}",
        source=ctx.host,
        namespace=str(v.get("k8s_namespace") or "default"),
        force_conflicts=_flag(ctx.host, "k8s_force_conflicts", v.get("k8s_force_conflicts", False)),
        timeout_s=float(v.get("k8s_api_timeout") or DEFAULT_TIMEOUT_S),
    )


__all__ = ["K8sOrchestrator", "connect", "open_driver"]
