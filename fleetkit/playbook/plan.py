"""Plan a play: which tasks run (tags), in which batches (serial), where hosts must wait.

Hosts run ahead through a *segment* of tasks independently; a segment ends where
a task needs the other hosts: run_once, flush_handlers, a task that reads
`hostvars` or ansible_play_hosts/ansible_play_batch/play_hosts, or every task
when the play has any_errors_fatal or a failure budget (max_fail_percentage),
since those must stop all hosts between tasks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetkit.errors import TemplateError
from fleetkit.playbook.check import configured_gather, task_names, walk
from fleetkit.playbook.render import Renderer
from fleetkit.playbook.schema import Play, Task

PLAY_WIDE = frozenset({"end_play", "end_batch", "clear_host_errors", "refresh_inventory"})
"""meta actions that act on every host of the play: all hosts reach them together."""


@dataclass(frozen=True)
class Segment:
    """Tasks hosts run one after another without waiting for each other.

    kind: "free" (hosts run ahead), "once" (run_once: one host runs it for all),
    "flush" (handlers run on the hosts that were notified), "include" (a dynamic
    include_tasks/include_role: each host's instances, then their tasks), "meta"
    (a meta action that acts on every host of the play: end_play, end_batch,
    clear_host_errors, refresh_inventory).
    """

    kind: str
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class PlayPlan:
    """What a play will do once its hosts are known."""

    play: Play
    batches: tuple[tuple[str, ...], ...]
    segments: tuple[Segment, ...]
    gather_facts: bool

    @property
    def task_count(self) -> int:
        return sum(len(s.tasks) for s in self.segments)


def batches(hosts: Sequence[str], serial: Sequence[int | str]) -> tuple[tuple[str, ...], ...]:
    """Split hosts into serial batches; the last size repeats (Ansible's rule)."""
    if not hosts:
        return ()
    if not serial:
        return (tuple(hosts),)
    sizes = [_size(s, len(hosts)) for s in serial]
    out: list[tuple[str, ...]] = []
    start = 0
    i = 0
    while start < len(hosts):
        size = sizes[min(i, len(sizes) - 1)]
        out.append(tuple(hosts[start : start + size]))
        start += size
        i += 1
    return tuple(out)


def _size(spec: int | str, total: int) -> int:
    if isinstance(spec, int):
        return max(1, spec)
    percent = float(spec.rstrip("%"))
    return max(1, math.floor(total * percent / 100))


def selected(task: Task, tags: frozenset[str], skip: frozenset[str]) -> bool:
    """Whether --tags/--skip-tags keep task (always/never/all/tagged/untagged as Ansible)."""
    own = task.tags
    if own & skip or ("tagged" in skip and own) or ("untagged" in skip and not own):
        return False
    if not tags:
        return "never" not in own
    if "always" in own:
        return True
    if own & tags:
        return True
    if "never" in own:
        return False
    return "all" in tags or ("tagged" in tags and bool(own)) or ("untagged" in tags and not own)


def filter_tasks(
    tasks: Iterable[Task], tags: frozenset[str], skip: frozenset[str]
) -> tuple[Task, ...]:
    return tuple(t for t in tasks if selected(t, tags, skip))


OTHER_HOSTS = frozenset({"hostvars", "ansible_play_hosts", "ansible_play_batch", "play_hosts"})
"""Variables that show the other hosts' state (their values, or which of them failed)."""


def reads_other_hosts(task: Task, renderer: Renderer) -> bool:
    """True when task's templates read `hostvars` or the play's live host lists (other
    hosts' state): it must wait for them."""
    every = task_names(task, renderer, guarded=True) | renderer.names(dict(task.vars), guarded=True)
    return not OTHER_HOSTS.isdisjoint(every)


def uses_facts(play: Play, renderer: Renderer) -> bool:
    """True when anything in the play reads `facts` (what gather_facts: auto decides on)."""
    for task in walk((*play.tasks, *play.handlers)):
        every = task_names(task, renderer, guarded=True)
        if "facts" in every | renderer.names(dict(task.vars), guarded=True):
            return True
        src = task.args.get("src")
        if task.module == "template" and isinstance(src, str):
            try:
                if "facts" in renderer.template_file_names(
                    src, guarded=True, first=_templates(task)
                ):
                    return True
            except TemplateError:
                continue
    return any(
        "facts" in renderer.names(dict(v), guarded=True)
        for v in (play.vars, play.vars_files, play.role_vars, play.role_defaults)
    )


def _templates(task: Task) -> tuple[Path, ...]:
    return (task.role.path / "templates", task.role.path) if task.role else ()


def segments(
    play: Play, tasks: Sequence[Task], renderer: Renderer, *, flush: bool = True
) -> tuple[Segment, ...]:
    """Cut tasks into segments at the tasks that need other hosts (flush: the final
    handler flush of a play)."""
    lockstep = play.any_errors_fatal or play.max_fail_percentage is not None
    out: list[Segment] = []
    current: list[Task] = []

    def close() -> None:
        if current:
            out.append(Segment("free", tuple(current)))
            current.clear()

    for task in tasks:
        if task.module == "meta" and task.args.get("action") == "flush_handlers":
            close()
            out.append(Segment("flush", (task,)))
        elif task.module == "meta" and task.args.get("action") in PLAY_WIDE:
            close()
            out.append(Segment("meta", (task,)))
        elif task.include is not None:
            close()
            out.append(Segment("include", (task,)))
        elif task.run_once:
            close()
            out.append(Segment("once", (task,)))
        elif lockstep or reads_other_hosts(task, renderer):
            close()
            out.append(Segment("free", (task,)))
        else:
            current.append(task)
    close()
    if play.handlers and flush:
        out.append(Segment("flush", ()))
    return tuple(out)


def plan_play(
    play: Play,
    hosts: Sequence[str],
    renderer: Renderer,
    *,
    tags: frozenset[str] = frozenset(),
    skip_tags: frozenset[str] = frozenset(),
    gathering: str | None = None,
) -> PlayPlan:
    """The plan of one play for its selected hosts (gathering: ansible.cfg's, if set)."""
    tasks = filter_tasks(play.tasks, tags, skip_tags)
    gather = configured_gather(play, gathering)
    if gather is None:
        gather = uses_facts(play, renderer)
    if "always" in skip_tags:
        gather = gather and play.gather_facts is True
    return PlayPlan(
        play=play,
        batches=batches(hosts, play.serial),
        segments=segments(play, tasks, renderer),
        gather_facts=gather,
    )
