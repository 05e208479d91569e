"""The linear strategy, with hosts running ahead where nothing needs the others.

A play's plan is a list of segments per serial batch. Within a "free" segment
each host runs its tasks one after another on its own worker, so a fast host
never waits for a slow one; results are still *reported* in task order (a task's
block of lines completes before the next one starts), so the output reads as a
linear run. Segments end at run_once tasks, handler flushes and tasks reading
`hostvars`; with any_errors_fatal or max_fail_percentage every task is its own
segment so failures are counted between tasks. The failure budget
(max_fail_percentage) is counted per serial batch, as Ansible counts it: the
batch's failed hosts over its size.

Results are data: a failed host drops out of the play and the others go on; an
unreachable host is reported once and skipped after that.
"""

from __future__ import annotations

import fnmatch
import itertools
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fleetkit.config.defaults import ConfigDefaults
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import FleetkitError
from fleetkit.executor.pool import HostPool, iter_unique
from fleetkit.inventory.model import Inventory
from fleetkit.modules.setup import FACT_PATH, GATHER_TIMEOUT, gather
from fleetkit.playbook.blocks import BlockState
from fleetkit.playbook.plan import PlayPlan, Segment, filter_tasks, plan_play, segments
from fleetkit.playbook.render import Renderer
from fleetkit.playbook.runner import Outcome, TaskRunner
from fleetkit.playbook.schema import Frame, Play, Task
from fleetkit.playbook.variables import PlayScope
from fleetkit.report.base import Reporter
from fleetkit.results import RunResult, Status, StepResult

if TYPE_CHECKING:
    from fleetkit.orchestrators.factory import EngineOpener

GATHER_FACTS = "gather facts"
FACTS_TIMEOUT_S = 30.0
_END = object()


@dataclass
class HostState:
    """One host's mutable run state; only its own worker (or the main thread between
    segments) writes it."""

    vars: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    notified: set[str] = field(default_factory=set)
    failed: bool = False
    unreachable: bool = False
    ended: bool = False
    blocks: BlockState = field(default_factory=BlockState)

    @property
    def active(self) -> bool:
        return not (self.failed or self.unreachable or self.ended)

    def enter(self, frames: tuple[Frame, ...] | None) -> bool:
        """Before a task in frames (None: the play's end): False when the host skips it."""
        verdict = self.blocks.leave(frames)
        if verdict:
            self.failed = True
        return frames is None or (not self.failed and self.blocks.runs(frames))

    def apply(self, outcome: Outcome, register: str | None, task: Task | None = None) -> StepResult:
        """Apply outcome to the host's state; the result to report (marked when rescued)."""
        if register and outcome.registered is not None:
            self.vars[register] = outcome.registered
        if outcome.facts:
            self.vars.update(outcome.facts)
        self.notified.update(outcome.notify)
        result = outcome.result
        status = result.status
        if status is Status.FAILED:
            verdict = self.blocks.fail(task.frames) if task is not None else True
            if verdict is True:
                self.failed = True
            elif verdict is False:
                result = replace(result, rescued=True)
                self.vars["ansible_failed_result"] = dict(result.data) or {
                    "failed": True,
                    "msg": result.msg,
                }
                self.vars["ansible_failed_task"] = {
                    "name": task.given_name if task is not None else result.task,
                    "action": task.module if task is not None else "",
                }
        elif status is Status.UNREACHABLE:
            self.unreachable = True
        if outcome.meta == "end_host":
            self.ended = True
        return result


@dataclass(frozen=True)
class RunOptions:
    """How to run: check/diff modes and tag selection."""

    check: bool = False
    diff: bool = False
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    start_at_task: str | None = None
    """--start-at-task: tasks before the first whose name matches (fnmatch) are skipped."""
    defaults: ConfigDefaults = field(default_factory=ConfigDefaults)
    """ansible.cfg's gathering, become, allow_broken_conditionals, interpreter_python."""


Step = tuple[str, Callable[[str], Outcome], str | None, Task | None]
"""(display name, host -> Outcome, register name, the task)."""

Refresh = Callable[[Sequence[Play]], tuple[Inventory, Sequence[Sequence[str]]]]
"""meta: refresh_inventory: re-read the inventory; the new one and the hosts of the given
(later) plays in it."""

PlayInventory = Callable[[Inventory, Play], Inventory]
"""The inventory as one play sees it (its playbook's group_vars/ and host_vars/ added)."""


class _Stop(Exception):
    """The run stops here (any_errors_fatal or the failure budget is spent)."""


class PlaybookRun:
    """Runs plays on their hosts over a HostPool and tells a Reporter as results come."""

    def __init__(
        self,
        *,
        pool: HostPool,
        inventory: Inventory,
        renderer: Renderer,
        reporter: Reporter,
        extra_vars: Mapping[str, Any] | None = None,
        options: RunOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
        refresh: Refresh | None = None,
        docker_engine: EngineOpener | None = None,
        play_inventory: PlayInventory | None = None,
    ) -> None:
        self.pool = pool
        self.inventory = inventory
        self.renderer = renderer
        self.reporter = reporter
        self.extra = dict(extra_vars or {})
        self.options = options or RunOptions()
        self.sleep = sleep
        self.refresh = refresh
        self.docker_engine = docker_engine
        self.play_inventory = play_inventory
        self.states: dict[str, HostState] = {}
        self.steps: list[StepResult] = []
        self._ids = itertools.count(1_000_000)
        self._lock = threading.Lock()
        self._started = options is None or options.start_at_task is None
        self._play_ended = False
        self._refresh_asked = False

    # the run ---------------------------------------------------------------------------

    def run(self, plays: Sequence[tuple[Play, Sequence[str]]]) -> RunResult:
        """Run each (play, hosts) in order; never raises for a host's failure."""
        start = time.monotonic()
        hosts = iter_unique(h for _, play_hosts in plays for h in play_hosts)
        self.states = {h: HostState() for h in hosts}
        interrupted = False
        pending = list(plays)
        try:
            while pending:
                play, play_hosts = pending.pop(0)
                alive = [
                    h
                    for h in play_hosts
                    if not (self.states[h].failed or self.states[h].unreachable)
                ]
                if not alive:
                    self.reporter.warning(f"play '{play.name}': no hosts left to run on, skipped")
                    continue
                if self._play(play, alive) and pending and self.refresh is not None:
                    pending = self._refreshed(pending)
                    hosts = iter_unique([*hosts, *(h for _, hs in pending for h in hs)])
        except _Stop as stop:
            self.reporter.warning(str(stop))
        except KeyboardInterrupt:
            interrupted = True
        if not self._started and not interrupted:
            self.reporter.warning(
                f'No matching task "{self.options.start_at_task}" found.'
                " Note: --start-at-task can only follow static includes."
            )
        return RunResult(
            steps=tuple(self.steps),
            hosts=tuple(hosts),
            duration_s=time.monotonic() - start,
            interrupted=interrupted,
            playbook=True,
        )

    def _refreshed(
        self, pending: list[tuple[Play, Sequence[str]]]
    ) -> list[tuple[Play, Sequence[str]]]:
        """The later plays with their hosts from the re-read inventory."""
        assert self.refresh is not None
        inventory, selected = self.refresh([p for p, _ in pending])
        self.inventory = inventory
        for hosts in selected:
            for h in hosts:
                self.states.setdefault(h, HostState())
        return [(p, list(hs)) for (p, _), hs in zip(pending, selected, strict=True)]

    def _start_at(self, play: Play) -> Play | None:
        """--start-at-task: the play from the first matching task (None: nothing runs)."""
        pattern = self.options.start_at_task
        if self._started or pattern is None:
            return play
        for index, task in enumerate(play.tasks):
            names = [task.name]
            if task.role is not None:
                names.append(f"{task.role.name} : {task.name}")
            if any(n == pattern or fnmatch.fnmatchcase(n, pattern) for n in names):
                self._started = True
                return replace(play, tasks=play.tasks[index:])
        return None

    def _play(self, play: Play, hosts: list[str]) -> bool:
        """Run one play; whether it refreshed the inventory (meta: refresh_inventory)."""
        started = self._start_at(play)
        if started is None:
            self.reporter.play_start(play.name, hosts)
            return False
        play = started
        hosts = ordered(hosts, play.order)
        self._play_ended = False
        self._refresh_asked = False
        plan = plan_play(
            play,
            hosts,
            self.renderer,
            tags=self.options.tags,
            skip_tags=self.options.skip_tags,
            gathering=self.options.defaults.gathering,
        )
        if self._smart and all(self.states[h].facts for h in hosts):
            plan = replace(plan, gather_facts=False)  # gathering = smart: once per host per run
        self.reporter.play_start(play.name, hosts)
        scope = PlayScope(
            renderer=self.renderer,
            inventory=(
                self.play_inventory(self.inventory, play)
                if self.play_inventory is not None
                else self.inventory
            ),
            extra=self.extra,
            play=play,
            play_hosts=hosts,
            # every host of the run, not just this play's: registered vars and facts
            # from earlier plays stay readable through hostvars, as in Ansible
            runtime={h: state.vars for h, state in self.states.items()},
            facts={h: state.facts for h, state in self.states.items()},
            check=self.options.check,
            diff=self.options.diff,
            lost=lambda h: self.states[h].failed or self.states[h].unreachable,
        )
        runner = TaskRunner(
            scope,
            self.pool.connection,
            check=self.options.check,
            diff=self.options.diff,
            sleep=self.sleep,
            docker_engine=self.docker_engine,
            defaults=self.options.defaults,
        )
        for h in hosts:
            self.states[h].notified.clear()
            self.states[h].ended = False
        for batch in plan.batches:
            if self._play_ended:
                break
            self._batch(plan, list(batch), hosts, runner)
        for h in hosts:
            self.states[h].ended = False
        return self._refresh_asked

    def _batch(
        self, plan: PlayPlan, batch: list[str], play_hosts: list[str], runner: TaskRunner
    ) -> None:
        runner.scope.batch = list(batch)
        gather = self._segments(
            plan.play, plan.segments, batch, play_hosts, runner, plan.gather_facts
        )
        if gather and self._active(batch):
            self._free(plan.play, [self._gather_step(runner)], self._active(batch))
            self._check_budget(plan.play, batch, play_hosts)
        for h in batch:
            state = self.states[h]
            if state.active:
                state.enter(None)
        if plan.play.serial and batch and not self._active_or_ended(batch):
            raise _Stop(f"play '{plan.play.name}': every host of a batch failed, stopping the run")

    def _segments(
        self,
        play: Play,
        parts: Sequence[Segment],
        batch: list[str],
        play_hosts: list[str],
        runner: TaskRunner,
        gather: bool = False,
    ) -> bool:
        """Run segments on the batch's active hosts; whether facts are still to gather."""
        for segment in parts:
            active = self._active(batch)
            if not active:
                break
            if segment.kind == "free":
                steps = [self._step(runner, t) for t in segment.tasks]
                if gather:
                    steps.insert(0, self._gather_step(runner))
                    gather = False
                self._free(play, steps, active)
            else:
                if gather:
                    self._free(play, [self._gather_step(runner)], active)
                    gather = False
                    self._check_budget(play, batch, play_hosts)
                if segment.kind == "flush":
                    self._flush(play, runner, batch)
                elif segment.kind == "include":
                    self._include(play, segment.tasks[0], runner, batch, play_hosts)
                elif segment.kind == "meta":
                    self._meta(play, segment.tasks[0], runner, batch, play_hosts)
                else:
                    self._once(play, segment.tasks[0], runner, self._active(batch))
            self._check_budget(play, batch, play_hosts)
        return gather

    def _include(
        self, play: Play, task: Task, runner: TaskRunner, batch: list[str], play_hosts: list[str]
    ) -> None:
        """A dynamic include: each host's instances (loop items), then their tasks."""
        hosts = [h for h in self._active(batch) if self.states[h].enter(task.frames)]
        if not hosts:
            return
        self.reporter.task_start(play.name, runner.display_name(task), hosts)
        instances: dict[str, tuple[list[str], tuple[Task, ...]]] = {}
        for host in hosts:
            start = time.monotonic()
            try:
                found = runner.include_instances(task, host)
            except FleetkitError as err:
                result = StepResult(
                    host, runner.display_name(task), Status.FAILED, msg=f"{task.pos}: {err.message}"
                )
                self._emit(self.states[host].apply(Outcome(result), None, task))
                continue
            if found is None:
                self._emit(
                    StepResult(
                        host,
                        runner.display_name(task),
                        Status.SKIPPED,
                        msg="when: false",
                        duration_s=time.monotonic() - start,
                    )
                )
                continue
            for key, label, children in found:
                self._emit(
                    StepResult(
                        host,
                        runner.display_name(task),
                        Status.OK,
                        msg=f"included: {task.include.file if task.include else ''}{label}",
                        duration_s=time.monotonic() - start,
                    )
                )
                entry = instances.setdefault(key, ([], self._rebase(children, task, key)))
                entry[0].append(host)
        for members, children in instances.values():
            chosen = filter_tasks(children, self.options.tags, self.options.skip_tags)
            parts = segments(play, chosen, self.renderer, flush=False)
            self._segments(play, parts, members, play_hosts, runner)

    def _meta(
        self, play: Play, task: Task, runner: TaskRunner, batch: list[str], play_hosts: list[str]
    ) -> None:
        """A play-wide meta action: it acts when its when: holds on any active host."""
        hosts = [h for h in self._active(batch) if self.states[h].enter(task.frames)]
        asked: str | None = None
        for host in hosts:
            outcome = self._guarded(self._step(runner, task), host)
            if outcome.result.status is Status.FAILED:
                self._emit(self.states[host].apply(outcome, None, task))
            elif outcome.meta:
                asked = outcome.meta
                break
        if asked in ("end_play", "end_batch"):
            for h in batch:
                if not self.states[h].unreachable:
                    self.states[h].ended = True
            self._play_ended = asked == "end_play"
        elif asked == "clear_host_errors":
            for h in play_hosts:
                state = self.states[h]
                if state.failed or state.unreachable:
                    # a cleared host runs the later plays, not the rest of this one
                    state.failed = state.unreachable = False
                    state.ended = True
                    self.pool.revive(h)
        elif asked == "refresh_inventory":
            self._refresh_asked = True

    def _rebase(self, children: Sequence[Task], parent: Task, key: str) -> tuple[Task, ...]:
        """An include instance's tasks with fresh block ids (each instance its own blocks)."""
        depth = len(parent.frames)
        fresh: dict[int, int] = {}

        def frames(task: Task) -> tuple[Frame, ...]:
            out = list(task.frames[:depth])
            for f in task.frames[depth:]:
                if f.block not in fresh:
                    fresh[f.block] = next(self._ids)
                out.append(replace(f, block=fresh[f.block]))
            return tuple(out)

        local = _instance_vars(key)

        def one(task: Task) -> Task:
            include = task.include
            if include is not None and include.tasks:
                include = replace(include, tasks=tuple(one(t) for t in include.tasks))
            return replace(
                task,
                frames=frames(task),
                vars=MappingProxyType({**task.vars, **local}),
                include=include,
            )

        return tuple(one(t) for t in children)

    def _active(self, hosts: Sequence[str]) -> list[str]:
        return [h for h in hosts if self.states[h].active]

    def _active_or_ended(self, hosts: Sequence[str]) -> list[str]:
        return [h for h in hosts if not (self.states[h].failed or self.states[h].unreachable)]

    def _check_budget(self, play: Play, batch: list[str], play_hosts: list[str]) -> None:
        """any_errors_fatal, and max_fail_percentage over the current batch (Ansible's)."""
        lost = [h for h in batch if self.states[h].failed or self.states[h].unreachable]
        if play.any_errors_fatal and lost:
            raise _Stop(
                f"play '{play.name}': any_errors_fatal and {', '.join(lost)} failed:"
                " stopping the run"
            )
        if play.max_fail_percentage is not None and batch:
            percent = 100.0 * len(lost) / len(batch)
            if percent > play.max_fail_percentage:
                of = "hosts" if len(batch) == len(play_hosts) else "hosts of the batch"
                raise _Stop(
                    f"play '{play.name}': {len(lost)} of {len(batch)} {of} failed"
                    f" ({percent:.0f}% > max_fail_percentage {play.max_fail_percentage:g}%):"
                    " stopping the run"
                )

    # steps -----------------------------------------------------------------------------

    def _step(self, runner: TaskRunner, task: Task) -> Step:
        return (
            runner.display_name(task),
            lambda host: runner.run(task, host),
            task.register,
            task,
        )

    @property
    def _smart(self) -> bool:
        return self.options.defaults.gathering == "smart"

    def _gather_step(self, runner: TaskRunner) -> Step:
        return (GATHER_FACTS, partial(self._gather, runner=runner), None, None)

    def _gather(self, host: str, runner: TaskRunner) -> Outcome:
        """Ansible's implicit gathering: the setup module with the play's gather_subset,
        gather_timeout and fact_path, its become and environment; also fleetkit's facts."""
        start = time.monotonic()
        if self._smart and self.states[host].facts:
            msg = "facts already gathered in this run (gathering = smart)"
            return Outcome(StepResult(host, GATHER_FACTS, Status.OK, msg=msg))
        play = runner.scope.play
        task = Task(name=GATHER_FACTS, module="setup", play=play.name, pos=play.pos)
        ctx = runner.module_context(task, host)
        if ctx.timeout is None:
            ctx = replace(ctx, timeout=FACTS_TIMEOUT_S)
        result, found = gather(
            ctx,
            gather_subset=list(play.gather_subset) or ["all"],
            gather_timeout=play.gather_timeout or GATHER_TIMEOUT,
            fact_path=play.fact_path or FACT_PATH,
        )
        if found is None:
            return Outcome(
                StepResult(
                    host,
                    GATHER_FACTS,
                    Status.FAILED,
                    rc=result.rc,
                    msg=result.msg,
                    duration_s=time.monotonic() - start,
                )
            )
        state = self.states[host]
        state.facts.clear()
        state.facts.update(found.fleet)
        state.vars.update(result.facts)
        facts = found.fleet
        os_name = facts["os"].get("pretty_name") or facts["os"].get("id")
        msg = f"{os_name}, {facts['arch']}, {facts['cpus']} cpus"
        return Outcome(
            StepResult(host, GATHER_FACTS, Status.OK, msg=msg, duration_s=time.monotonic() - start)
        )

    def _guarded(self, step: Step, host: str) -> Outcome:
        """Run one step on host; a lost connection becomes an unreachable result."""
        name, fn, _, _ = step
        start = time.monotonic()
        try:
            return fn(host)
        except HostConnectionError as err:
            self.pool.mark_unreachable(host, str(err))
            return Outcome(
                StepResult(
                    host,
                    name,
                    Status.UNREACHABLE,
                    msg=str(err),
                    duration_s=time.monotonic() - start,
                )
            )
        except Exception as err:  # a bug must fail this host, not the run
            return Outcome(
                StepResult(
                    host,
                    name,
                    Status.FAILED,
                    msg=f"internal error: {err!r}",
                    duration_s=time.monotonic() - start,
                )
            )

    # segments --------------------------------------------------------------------------

    def _free(self, play: Play, steps: Sequence[Step], hosts: Sequence[str]) -> None:
        """Each host runs steps in order on its own worker; results reported in task order."""
        if not steps or not hosts:
            return
        events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()

        throttles = {
            index: threading.BoundedSemaphore(step[3].throttle)
            for index, step in enumerate(steps)
            if step[3] is not None and step[3].throttle and step[3].throttle < len(hosts)
        }

        def job(host: str) -> StepResult:
            state = self.states[host]
            last = StepResult(host, "", Status.SKIPPED)
            try:
                for index, step in enumerate(steps):
                    if not state.active:
                        break
                    task = step[3]
                    if task is not None and not state.enter(task.frames):
                        continue
                    gate = throttles.get(index)
                    if gate is None:
                        outcome = self._guarded(step, host)
                    else:
                        with gate:
                            outcome = self._guarded(step, host)
                    last = self._apply(host, outcome, step[2], task)
                    if _counted(task, last):
                        events.put((index, last))
            finally:
                events.put((_END, host))
            return last

        emitter = _OrderedEmitter(
            self.reporter, play.name, [s[0] for s in steps], hosts, self.steps
        )
        futures: list[Future[StepResult]] = [self.pool.submit(partial(job, h)) for h in hosts]
        pending = len(hosts)
        try:
            while pending:
                try:
                    index, payload = events.get(timeout=0.5)
                except queue.Empty:
                    _raise_crashed(futures)
                    continue
                if index is _END:
                    pending -= 1
                    emitter.host_done(payload)
                else:
                    emitter.result(index, payload)
        except KeyboardInterrupt:
            for fut in futures:
                fut.cancel()
            self.pool.close()
            raise

    def _once(self, play: Play, task: Task, runner: TaskRunner, hosts: list[str]) -> None:
        """run_once: the first active host runs it; its result applies to every host."""
        if not hosts:
            return
        hosts = [h for h in hosts if self.states[h].enter(task.frames)]
        if not hosts:
            return
        first = hosts[0]
        self.reporter.task_start(play.name, runner.display_name(task), [first])
        outcome = self._guarded(self._step(runner, task), first)
        result = self._apply(first, outcome, task.register, task)
        if _counted(task, result):
            self._emit(result)
        if outcome.result.status in (Status.FAILED, Status.UNREACHABLE):
            return
        # the other hosts share its registered value and facts; its handler is notified
        # on the host that ran it only, as in Ansible
        shared = Outcome(
            result=StepResult(first, outcome.result.task, Status.OK),
            registered=outcome.registered,
            facts=outcome.facts,
        )
        for h in hosts[1:]:
            self._apply(h, shared, task.register, task)

    def _flush(self, play: Play, runner: TaskRunner, batch: list[str]) -> None:
        """Run each notified handler once per host that notified it, in handler order."""
        for handler in play.handlers:
            hosts = [
                h
                for h in self._active(batch)
                if any(handler.answers(topic) for topic in self.states[h].notified)
            ]
            if hosts:
                self._free(play, [self._step(runner, handler)], hosts)
        for h in batch:
            self.states[h].notified.clear()

    def _apply(
        self, host: str, outcome: Outcome, register: str | None, task: Task | None
    ) -> StepResult:
        """Apply outcome to host's state (its facts to the delegate with delegate_facts)."""
        if outcome.facts_host is not None:
            with self._lock:
                other = self.states.setdefault(outcome.facts_host, HostState())
                other.vars.update(outcome.facts)
            outcome = replace(outcome, facts=MappingProxyType({}))
        return self.states[host].apply(outcome, register, task)

    def _emit(self, result: StepResult) -> None:
        public = result.public()
        self.steps.append(public)
        self.reporter.host_result(public)


def ordered(hosts: Sequence[str], order: str) -> list[str]:
    """A play's hosts in its `order:` (inventory, reverse_inventory, sorted, ...)."""
    if order == "reverse_inventory":
        return list(reversed(hosts))
    if order == "sorted":
        return sorted(hosts)
    if order == "reverse_sorted":
        return sorted(hosts, reverse=True)
    if order == "shuffle":
        return random.sample(list(hosts), len(hosts))
    return list(hosts)


def _counted(task: Task | None, result: StepResult) -> bool:
    """Whether a result is reported: a meta task's is not (unless it failed), as in
    Ansible's recap."""
    return task is None or task.module != "meta" or result.status is Status.FAILED


def _instance_vars(key: str) -> Mapping[str, Any]:
    """The loop variables of an include instance (its key is their JSON)."""
    import json

    data = json.loads(key)
    return MappingProxyType(dict(data.get("vars", {})))


def _raise_crashed(futures: Sequence[Future[StepResult]]) -> None:
    """Re-raise a worker's unexpected exception (a bug), rather than waiting forever."""
    for fut in futures:
        if fut.done() and not fut.cancelled():
            err = fut.exception()
            if err is not None:
                raise err


class _OrderedEmitter:
    """Reports results in task order while hosts run ahead (buffers the early ones)."""

    def __init__(
        self,
        reporter: Reporter,
        play: str,
        names: list[str],
        hosts: Sequence[str],
        sink: list[StepResult],
    ) -> None:
        self.reporter = reporter
        self.play = play
        self.names = names
        self.hosts = list(hosts)
        self.sink = sink
        self.cursor = 0
        self.started = -1
        self.progress = dict.fromkeys(self.hosts, -1)
        self.done: set[str] = set()
        self.buffer: dict[int, list[StepResult]] = {}

    def result(self, index: int, result: StepResult) -> None:
        self.progress[result.host] = index
        self.buffer.setdefault(index, []).append(result)
        self._drain()

    def host_done(self, host: str) -> None:
        self.done.add(host)
        self._drain()

    def _drain(self) -> None:
        while self.cursor < len(self.names):
            ready = self.buffer.pop(self.cursor, [])
            if ready:
                self._start(self.cursor)
                for r in ready:
                    public = r.public()
                    self.sink.append(public)
                    self.reporter.host_result(public)
            if all(self.progress[h] >= self.cursor or h in self.done for h in self.hosts):
                self.cursor += 1
                continue
            break

    def _start(self, index: int) -> None:
        if self.started >= index:
            return
        self.started = index
        running = [h for h in self.hosts if self.progress[h] >= index or h not in self.done]
        self.reporter.task_start(self.play, self.names[index], running)
