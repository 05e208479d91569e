"""--list-hosts, --list-tasks, --list-tags and --syntax-check: what a run would do, as text.

The text follows ansible-playbook's (playbook: line, `play #N (pattern): name
TAGS: [...]`, then hosts, tasks or tags indented under it), from a prepared
run: the playbook is loaded and checked, no host is contacted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fleetkit.playbook.plan import filter_tasks
from fleetkit.playbook.schema import Task
from fleetkit.playbook.session import Prepared


@dataclass(frozen=True)
class Listing:
    """Which listings to print (several may be asked for at once)."""

    hosts: bool = False
    tasks: bool = False
    tags: bool = False

    @property
    def any(self) -> bool:
        return self.hosts or self.tasks or self.tags


def _tags(tags: Iterable[str]) -> str:
    return "[" + ", ".join(sorted(set(tags))) + "]"


def implicit(task: Task) -> bool:
    """The handler flush fleetkit adds between pre_tasks, tasks and post_tasks."""
    return task.module == "meta" and task.name == "flush handlers" and "always" in task.tags


def shown_name(task: Task) -> str:
    """A task as ansible-playbook lists it: 'role : name' inside a role."""
    if task.module == "meta" and task.name.startswith("meta: "):
        return "meta"
    return f"{task.role.name} : {task.name}" if task.role is not None else task.name


def render(prepared: Prepared, what: Listing) -> str:
    """The listing text (ending with a newline) for the prepared run."""
    request = prepared.request
    lines = ["", f"playbook: {request.playbook}"]
    if not what.any:
        return "\n".join(lines) + "\n"
    for number, (play, hosts) in enumerate(prepared.plays, start=1):
        lines += ["", f"  play #{number} ({play.hosts}): {play.name}\tTAGS: {_tags(play.tags)}"]
        if what.hosts:
            lines.append(f"    pattern: {[play.hosts]!r}")
            lines.append(f"    hosts ({len(hosts)}):")  # inventory order (Ansible: a set's)
            lines += [f"      {h}" for h in hosts]
        tasks = [t for t in play.tasks if not implicit(t)]
        if not (what.tags and not request.tags and not request.skip_tags):
            # --list-tags alone lists every task, `never` ones too (as ansible-playbook)
            tasks = list(filter_tasks(tasks, request.tags, request.skip_tags))
        if what.tasks:
            lines.append("    tasks:")
            for task in tasks:
                lines.append(f"      {shown_name(task)}\tTAGS: {_tags(task.tags)}")
        if what.tags:
            every = {t for task in tasks for t in task.tags} | set(play.tags)
            lines.append(f"      TASK TAGS: {_tags(every)}")
    return "\n".join(lines) + "\n"
