"""Waiting on a Deployment's rollout with a watch, bounded by fleetkit's deadline.

done = the controller observed our generation (observedGeneration >= generation)
and updated == replicas == available with no old replicas left; failed = the
Progressing condition's reason is ProgressDeadlineExceeded, or fleetkit's own
deadline passed. Events come from one watch request at a time (server-side
timeoutSeconds = the time left, a read deadline on the stream): no sleep loop.

The watch is made here with httpx2 streaming rather than lightkube's
`Client.watch`, whose sync generator leaves the response open when the consumer
stops early (it has no `finally: close`), which would leak one tunnel stream
per wait and exhaust the connection pool. Objects are still decoded as JSON the
way lightkube does; `watch_events` is the one parser, pinned by the wire tests.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator

import httpx2

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import WaitOptions
from fleetkit.orchestrators.convergence import Observation, Progress, WaitReport
from fleetkit.orchestrators.k8s_fields import Json
from fleetkit.orchestrators.k8s_manifest import REVISION

WATCH_CHUNK_S = 60
"""A watch request asks the server to end it after at most this long (then a new one)."""
READ_MARGIN_S = 5.0


class WatchGone(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again, then watch."""


def deployment_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    return f"{base}/{name}" if name else base


def watch_events(lines: Iterator[str]) -> Iterator[tuple[str, Json]]:
    """Parse a watch stream: one JSON event per line, {"type", "object"}; ERROR raises."""
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise OrchestratorError(f"unreadable watch event {line[:80]!r}") from None
        kind = str(event.get("type", ""))
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            message = str(obj.get("message", "watch error"))
            if code == 410:
                raise WatchGone(message)
            raise OrchestratorError(f"watch failed: {message} ({code})")
        if kind == "BOOKMARK":
            continue
        yield kind, obj


def watch_deployment(
    http: httpx2.Client, namespace: str, name: str, resource_version: str, timeout_s: float
) -> Iterator[tuple[str, Json]]:
    """Events for one Deployment after resource_version; the response closes on any exit."""
    params = {
        "watch": "true",
        "fieldSelector": f"metadata.name={name}",
        "resourceVersion": resource_version,
        "timeoutSeconds": str(max(1, math.ceil(timeout_s))),
        "allowWatchBookmarks": "true",
    }
    timeout = httpx2.Timeout(10.0, read=timeout_s + READ_MARGIN_S)
    with http.stream("GET", deployment_path(namespace), params=params, timeout=timeout) as resp:
        if resp.status_code == 410:
            raise WatchGone("resourceVersion too old")
        if resp.status_code >= 400:
            resp.read()
            raise OrchestratorError(f"watch of deployment {name} failed: HTTP {resp.status_code}")
        yield from watch_events(resp.iter_lines())


def _condition(dep: Json, kind: str) -> Json:
    for c in (dep.get("status") or {}).get("conditions") or ():
        if c.get("type") == kind:
            return dict(c)
    return {}


def revision(dep: Json) -> str:
    return str(((dep.get("metadata") or {}).get("annotations") or {}).get(REVISION, ""))


def observe(dep: Json, expect_revision: str = "") -> Observation:
    """One verdict on a Deployment's rollout."""
    meta = dep.get("metadata") or {}
    status = dep.get("status") or {}
    want = int((dep.get("spec") or {}).get("replicas", 1))
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if observed < generation:
        return Observation("waiting", 0, want, f"waiting for the controller (gen {generation})")
    progressing = _condition(dep, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        why = progressing.get("message") or "progress deadline exceeded"
        return Observation("failed", available, want, f"ProgressDeadlineExceeded: {why}")
    if expect_revision and revision(dep) != expect_revision:
        return Observation("waiting", 0, want, f"waiting for revision {expect_revision}")
    if updated < want:
        return Observation("waiting", updated, want, f"{updated}/{want} updated")
    if total > updated:
        return Observation("waiting", updated, want, f"{total - updated} old replicas terminating")
    if available < want:
        return Observation("waiting", available, want, f"{available}/{want} available")
    return Observation("done", want, want, f"{want}/{want} updated and available")


Getter = Callable[[], Json]


def wait_rollout(
    get: Getter,
    http: httpx2.Client,
    namespace: str,
    name: str,
    wait: WaitOptions,
    *,
    expect_revision: str = "",
    clock: Callable[[], float] = time.monotonic,
) -> tuple[WaitReport, Json]:
    """Watch name until its rollout is done or failed or the policy's timeout passes."""
    start = clock()
    deadline = start + wait.policy.timeout_s
    calls = 1
    events = 0
    dep = get()
    obs = observe(dep, expect_revision)

    def report(finished: bool) -> None:
        if wait.progress is not None:
            elapsed = clock() - start
            progress = Progress(
                name, elapsed, obs.done, obs.wanted, obs.message, events + 1, finished
            )
            wait.progress(progress)

    report(obs.state != "waiting")
    while obs.state == "waiting":
        remaining = deadline - clock()
        if remaining <= 0:
            break
        rv = str((dep.get("metadata") or {}).get("resourceVersion", ""))
        calls += 1
        try:
            for kind, obj in watch_deployment(
                http, namespace, name, rv, min(float(WATCH_CHUNK_S), remaining)
            ):
                events += 1
                if kind == "DELETED":
                    obs = Observation("failed", 0, obs.wanted, f"deployment {name} was deleted")
                    break
                dep = obj
                obs = observe(dep, expect_revision)
                report(obs.state != "waiting")
                if obs.state != "waiting" or clock() >= deadline:
                    break
            else:
                # the server ended the watch (timeoutSeconds): look again, then watch on
                calls += 1
                dep = get()
                obs = observe(dep, expect_revision)
        except (WatchGone, httpx2.TransportError):
            # a stale resourceVersion, a read deadline or a dropped stream: list again
            calls += 1
            dep = get()
            obs = observe(dep, expect_revision)
    elapsed = clock() - start
    if obs.state == "done":
        return WaitReport(True, obs.message, elapsed, events + 1, calls), dep
    if obs.state == "failed":
        return WaitReport(False, obs.message, elapsed, events + 1, calls), dep
    report(True)
    reason = f"not converged after {wait.policy.timeout_s:g}s: {obs.message}"
    return WaitReport(False, reason, elapsed, events + 1, calls, timed_out=True), dep
