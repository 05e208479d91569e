"""The Docker Swarm driver: deploy, update, scale, rollback, remove, drain, status.

It talks to one manager's engine (an `Engine`: the SDK over SSH, or a fake).
Every change starts from the service's current spec and sets only the fields
the user named; a change waits (by default) until running tasks == desired, all
on the new spec. An update the engine rolled back is a FAILED deploy with the
engine's reason, never a success.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetkit.errors import OrchestratorError
from fleetkit.orchestrators.base import (
    Change,
    ClusterStatus,
    ServiceSpec,
    ServiceStatus,
    WaitOptions,
)
from fleetkit.orchestrators.convergence import Observation, WaitReport, wait_for
from fleetkit.orchestrators.engine import Engine, EngineConflict, Json
from fleetkit.orchestrators.swarm_spec import apply, get, spec_image, spec_replicas
from fleetkit.orchestrators.swarm_status import (
    FAILED_STATES,
    cluster_status,
    is_running,
    node_status,
    service_status,
    task_error,
    task_image,
)

# Changing these does not replace tasks; any other field does (the engine's updater runs).
SPEC_ONLY_FIELDS = frozenset({"replicas", "labels", "update_config", "rollback_config"})
ROLLBACK_STATES = frozenset({"rollback_started", "rollback_completed", "rollback_paused"})
FAILURE_SCAN_EVERY = 4
"""Look at task failures every Nth poll of a wait that is not converging yet."""
UPDATER_GRACE_POLLS = 3
"""Polls to wait for the engine's updater to start after a change that replaces tasks
(it starts within milliseconds; a change that leaves every task clean never starts it)."""


@dataclass(frozen=True)
class _Expect:
    """What a wait expects of the service after our change."""

    service_id: str
    name: str
    updating: bool  # our change replaces tasks: the engine's updater must complete
    rollback: bool  # we asked the engine to roll back
    image: str = ""  # the image our change asked for ("" when we did not change the spec)


def same_image(a: str, b: str) -> bool:
    """The same image reference, ignoring a digest the engine may have pinned."""
    return a.split("@", 1)[0] == b.split("@", 1)[0]


class _ServiceProbe:
    """One poll of a service's convergence: 1 API call, +1 to verify, +1 now and then."""

    def __init__(self, engine: Engine, expect: _Expect) -> None:
        self.engine = engine
        self.expect = expect
        self.polls = 0
        self.rollback_reason = ""

    def __call__(self) -> Observation:
        self.polls += 1
        found = self.engine.services(service_id=self.expect.service_id)
        if not found:
            return Observation("failed", message=f"service {self.expect.name} disappeared")
        service = found[0]
        spec = service.get("Spec") or {}
        counts = service.get("ServiceStatus") or {}
        wanted = spec_replicas(spec) or 0
        running = int(counts.get("RunningTasks", 0))
        desired = int(counts.get("DesiredTasks", wanted))
        state = get(service, ("UpdateStatus", "State"))
        message = str(get(service, ("UpdateStatus", "Message")) or "")
        image = spec_image(spec)
        progress = f"{running}/{desired} running" + (f", {state}" if state else "")
        if state in ("paused", "rollback_paused"):
            return Observation("failed", running, desired, f"update {state}: {message}")
        # The engine put back an older spec: whatever UpdateStatus says (it can lag or
        # read "completed"), the service no longer runs the image we asked for.
        reverted = bool(self.expect.image) and not same_image(image, self.expect.image)
        if (state in ROLLBACK_STATES or reverted) and not self.expect.rollback:
            if state == "rollback_started" and message:
                self.rollback_reason = message
            if (state == "rollback_completed" or reverted) and running >= desired == wanted:
                # the engine is back on the previous spec: once its tasks run again,
                # report the failed update
                back = self._verify(image, desired, progress)
                if back.state == "done":
                    return Observation("failed", running, desired, self._rolled_back(image))
                return back
            return Observation("waiting", running, desired, f"{progress}: {message}")
        busy = state in ("updating", "rollback_started")
        awaiting_updater = (
            self.expect.updating
            and state is None
            and wanted > 0
            and self.polls <= UPDATER_GRACE_POLLS
        )
        # RunningTasks also counts old tasks still stopping (start-first, scale down): the
        # verify step looks at the tasks the engine wants running.
        if running >= desired == wanted and not busy and not awaiting_updater:
            return self._verify(image, desired, progress)
        if self.polls % FAILURE_SCAN_EVERY == 0:
            failing = self._failing(image, wanted)
            if failing:
                return Observation("failed", running, desired, failing)
        return Observation("waiting", running, desired, progress)

    def _tasks(self) -> list[Json]:
        return self.engine.tasks(service_id=self.expect.service_id)

    def _verify(self, image: str, desired: int, progress: str) -> Observation:
        live = [t for t in self._tasks() if t.get("DesiredState") == "running"]
        running = [t for t in live if is_running(t)]
        stale = [t for t in running if task_image(t) != image]
        if len(running) == desired and len(live) == desired and not stale:
            return Observation("done", desired, desired, f"{desired}/{desired} running {image}")
        on_image = len(running) - len(stale)
        return Observation("waiting", on_image, desired, f"{progress} ({on_image} on {image})")

    def _failing(self, image: str, wanted: int) -> str:
        """A reason when tasks of the current spec keep failing and none runs."""
        tasks = [t for t in self._tasks() if task_image(t) == image]
        failed = [t for t in tasks if get(t, ("Status", "State")) in FAILED_STATES]
        if any(is_running(t) for t in tasks) or len(failed) < max(3, wanted):
            return ""
        return f"tasks of {image} keep failing ({len(failed)} failed): {task_error(failed[0])}"

    def _rolled_back(self, image: str) -> str:
        tasks = self._tasks()
        errors = [
            task_error(t)
            for t in tasks
            if get(t, ("Status", "State")) in FAILED_STATES and task_image(t) != image
        ]
        why = f"; task error: {errors[0]}" if errors else ""
        return (
            f"update of {self.expect.name} failed and the engine rolled back to {image}:"
            f" {self.rollback_reason or 'rollback completed'}{why}"
        )


class SwarmOrchestrator:
    """The Orchestrator for Docker Swarm, over one manager's engine."""

    def __init__(self, engine: Engine, *, source: str | None = None) -> None:
        self.engine = engine
        self.source = source or engine.host

    def close(self) -> None:
        """Close the engine's API connections (the host's SSH connection stays open)."""
        self.engine.close()

    # reading -----------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        nodes = self.engine.nodes()
        services = self.engine.services()
        tasks = self.engine.tasks()
        return cluster_status(self.source, nodes, services, tasks)

    def service_status(self, name: str) -> ServiceStatus | None:
        service = self.engine.service(name)
        if service is None:
            return None
        found = self.engine.services(service_id=str(service["ID"]))
        nodes = tuple(node_status(n) for n in self.engine.nodes())
        tasks = self.engine.tasks(service_id=str(service["ID"]))
        return service_status(found[0] if found else service, tasks, nodes)

    # changing ----------------------------------------------------------------------------

    def deploy(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        return self._deploy(spec, wait, check=check, must_exist=False)

    def update(self, spec: ServiceSpec, wait: WaitOptions, *, check: bool = False) -> Change:
        return self._deploy(spec, wait, check=check, must_exist=True)

    def scale(self, name: str, replicas: int, wait: WaitOptions, *, check: bool = False) -> Change:
        if replicas < 0:
            raise OrchestratorError(f"replicas must be 0 or more, got {replicas}")
        return self._deploy(
            ServiceSpec(name, replicas=replicas), wait, check=check, must_exist=True
        )

    def _deploy(
        self, spec: ServiceSpec, wait: WaitOptions, *, check: bool, must_exist: bool
    ) -> Change:
        for attempt in range(3):
            current = self.engine.service(spec.name)
            if current is None and must_exist:
                raise OrchestratorError(f"service {spec.name} does not exist")
            new, fields = apply(current.get("Spec") if current else None, spec)
            if not fields:
                return self._unchanged(spec.name, current, wait, check=check)
            if check:
                verb = {"created": "create", "scaled": "scale"}.get(_verb(fields), "update")
                text = f"would {verb} service {spec.name} ({', '.join(fields)})"
                return Change(True, text, fields=tuple(fields))
            try:
                if current is None:
                    service_id = self.engine.service_create(new)
                    warnings: list[str] = []
                else:
                    service_id = str(current["ID"])
                    version = int(get(current, ("Version", "Index")) or 0)
                    warnings = self.engine.service_update(service_id, version, new)
            except EngineConflict:
                if attempt == 2:
                    raise
                continue
            replaces = current is not None and bool(set(fields) - SPEC_ONLY_FIELDS)
            expect = _Expect(
                service_id,
                spec.name,
                updating=replaces,
                rollback=False,
                image=spec_image(new),
            )
            message = f"{_verb(fields)} ({', '.join(fields)})"
            return self._finish(expect, wait, message, tuple(fields), tuple(warnings))
        raise OrchestratorError(f"service {spec.name}: updates kept conflicting")

    def _unchanged(
        self, name: str, current: Json | None, wait: WaitOptions, *, check: bool
    ) -> Change:
        assert current is not None
        if check or not wait.wait:
            return Change(False, f"service {name} is as wanted")
        expect = _Expect(str(current["ID"]), name, updating=False, rollback=False)
        return self._finish(expect, wait, f"service {name} is as wanted", (), (), changed=False)

    def rollback(self, name: str, wait: WaitOptions, *, check: bool = False) -> Change:
        current = self.engine.service(name)
        if current is None:
            raise OrchestratorError(f"service {name} does not exist")
        previous = current.get("PreviousSpec")
        image_now = spec_image(current["Spec"])
        if get(current, ("UpdateStatus", "State")) == "rollback_completed":
            # Rolled back already: a second rollback would swap back to the newer spec.
            return Change(False, f"service {name} is already rolled back (to {image_now})")
        if not previous:
            # A new service, or one the engine rolled back after a failed update (the
            # engine then drops PreviousSpec): there is no older spec to return to.
            return Change(False, f"service {name} has no previous spec: nothing to roll back")
        image_then = spec_image(previous)
        what = f"roll back {name}: {image_now} -> {image_then}"
        if check:
            return Change(True, f"would {what}", fields=("rollback",))
        self.engine.service_rollback(name)
        expect = _Expect(str(current["ID"]), name, updating=True, rollback=True)
        return self._finish(expect, wait, what, ("rollback",), ())

    def remove(self, name: str, *, check: bool = False) -> Change:
        current = self.engine.service(name)
        if current is None:
            return Change(False, f"service {name} is absent")
        if not check:
            self.engine.service_remove(str(current["ID"]))
        return Change(True, f"{'would remove' if check else 'removed'} service {name}")

    def drain(self, node: str, wait: WaitOptions, *, check: bool = False) -> Change:
        from fleetkit.orchestrators.swarm_nodes import update_node

        return update_node(self.engine, node, availability="drain", wait=wait, check=check)

    # waiting -----------------------------------------------------------------------------

    def _finish(
        self,
        expect: _Expect,
        wait: WaitOptions,
        message: str,
        fields: tuple[str, ...],
        warnings: tuple[str, ...],
        *,
        changed: bool = True,
    ) -> Change:
        if not wait.wait:
            return Change(changed, f"{message}; not waiting", fields=fields, warnings=warnings)
        report = self.wait_service(expect, wait)
        status = self.service_status(expect.name)
        if report.converged:
            text = f"{message}: {report.reason} ({report.summary()})"
            return Change(
                changed, text, fields=fields, status=status, wait=report, warnings=warnings
            )
        return Change(
            changed,
            f"{message}: FAILED: {report.reason} ({report.summary()})",
            failed=True,
            fields=fields,
            status=status,
            wait=report,
            warnings=warnings,
        )

    def wait_service(self, expect: _Expect, wait: WaitOptions) -> WaitReport:
        probe = _ServiceProbe(self.engine, expect)
        return wait_for(
            probe,
            wait.policy,
            label=expect.name,
            progress=wait.progress,
            api_calls=self._calls,
            sleep=wait.sleep,
        )

    def _calls(self) -> int:
        return self.engine.calls


def _verb(fields: list[str]) -> str:
    if fields and fields[0] == "created":
        return "created"
    if fields == ["replicas"]:
        return "scaled"
    return "updated"
