"""What `fleetkit run --cluster` refuses: plays whose hosts need each other.

A shard runs the plays on its own hosts only, so anything that needs the play's
other hosts, their live state or one decision for all of them cannot be split. Each
is refused before anything is sent (PlaybookError, exit 2, at the play's or task's
file:line), for every play that has hosts, on the tasks --tags/--skip-tags keep and
on every handler:

- play keywords: `serial` (any value), `max_fail_percentage`, `any_errors_fatal`;
- task keywords: `run_once`, `throttle`, `delegate_facts`;
- `meta: refresh_inventory`, and `meta: end_play|end_batch|clear_host_errors` under
  a `when:` (one host's condition acts on the whole play);
- `include_tasks`/`include_role` with a templated name (what it includes cannot be
  checked ahead), and `fetch` (it writes to the controller: here, a worker);
- reading another host's state: a template (task fields, conditions, loops, vars,
  static `template` sources, and the values of the variables these read, through
  play vars, vars_files, roles, -e and the inventory, transitively) that names
  `hostvars` other than as `hostvars[inventory_hostname]`, or
  ansible_play_hosts, ansible_play_hosts_all, ansible_play_batch, play_hosts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from jinja2 import meta, nodes

from fleetkit.errors import PlaybookError, Position, TemplateError
from fleetkit.playbook.plan import selected
from fleetkit.playbook.render import Renderer, is_template
from fleetkit.playbook.schema import Play, Task
from fleetkit.playbook.session import Prepared

HINT = (
    "run it without --cluster (FLEETKIT_CLUSTER and the inventory's fleetkit_cluster"
    " also send a run to the cluster)"
)
PLAY_HOST_LISTS = frozenset(
    {"ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_batch", "play_hosts"}
)
OWN = "inventory_hostname"
WHEN_METAS = frozenset({"end_play", "end_batch", "clear_host_errors"})


def check_shardable(prepared: Prepared) -> None:
    """PlaybookError (exit 2) for the first construct of the run a shard cannot run."""
    renderer = Renderer(prepared.search_paths)
    scanner = Scanner(renderer)
    request = prepared.request
    for play, hosts in prepared.plays:
        if not hosts:
            continue
        _play_keywords(play)
        tasks = list(_tasks(play, request.tags, request.skip_tags))
        names: set[str] = set()
        for task in tasks:
            _task_keywords(task)
            found, read = scanner.task(task)
            if found:
                _refuse_reads(task.where, found, task.pos)
            names |= read
        _variables(prepared, play, hosts, scanner, names)


def _refuse(what: str, keyword: str, why: str, position: Position) -> None:
    raise PlaybookError(f"{what}: {keyword} cannot be sharded: {why}", position=position, hint=HINT)


def _refuse_reads(what: str, found: Iterable[str], position: Position | None) -> None:
    shown = ", ".join(dict.fromkeys(found))
    raise PlaybookError(
        f"{what} reads other hosts' state ({shown}), which a shard does not have:"
        f" only hostvars[{OWN}] can be sharded",
        position=position,
        hint=HINT,
    )


def _play_keywords(play: Play) -> None:
    where = f"play '{play.name}'"
    if play.serial:
        _refuse(
            where,
            "serial",
            "batches run over the whole play's hosts in turn, while shards run at once",
            play.pos,
        )
    if play.max_fail_percentage is not None:
        _refuse(where, "max_fail_percentage", "the budget counts all of the play's hosts", play.pos)
    if play.any_errors_fatal:
        _refuse(where, "any_errors_fatal", "one host's failure stops every host", play.pos)


def _task_keywords(task: Task) -> None:
    if task.run_once:
        _refuse(task.where, "run_once", "one host runs it for every host of the play", task.pos)
    if task.throttle:
        _refuse(task.where, "throttle", "it limits the play's hosts all together", task.pos)
    if task.delegate_facts and task.delegate_to:
        _refuse(
            task.where,
            "delegate_facts",
            "the facts go to another host, which another worker may run",
            task.pos,
        )
    if task.module == "meta":
        action = str(task.args.get("action", ""))
        if action == "refresh_inventory":
            _refuse(
                task.where,
                "meta: refresh_inventory",
                "later plays' hosts come from the client's inventory",
                task.pos,
            )
        if action in WHEN_METAS and task.when:
            _refuse(
                task.where,
                f"meta: {action} with when:",
                "one host's condition acts on every host of the play",
                task.pos,
            )
    if task.include is not None and task.include.tasks is None:
        _refuse(
            task.where,
            f"{task.module} of a templated name",
            "what it includes cannot be checked before the run (name the file plainly)",
            task.pos,
        )
    if task.module.rsplit(".", 1)[-1] == "fetch":
        _refuse(task.where, "fetch", "it writes to the controller, here a worker", task.pos)


def _tasks(play: Play, tags: frozenset[str], skip: frozenset[str]) -> Iterator[Task]:
    """The play's tasks that --tags/--skip-tags keep (static includes opened) and every
    handler."""

    def visit(tasks: Iterable[Task], selecting: bool) -> Iterator[Task]:
        for task in tasks:
            if selecting and not selected(task, tags, skip):
                continue
            yield task
            if task.include is not None:
                yield from visit(task.include.tasks or (), selecting)
                yield from visit(task.include.handlers, False)

    yield from visit(play.tasks, True)
    yield from visit(play.handlers, False)


def _variables(
    prepared: Prepared, play: Play, hosts: Iterable[str], scanner: Scanner, names: set[str]
) -> None:
    """Follow the names the play reads into the values that define them, transitively."""
    where = f"play '{play.name}'"
    layers: list[tuple[str, Mapping[str, Any], Position | None]] = [
        ("-e", prepared.extra, None),
        ("play vars", play.vars, play.pos),
        ("vars_files", play.vars_files, play.pos),
        ("role vars", play.role_vars, play.pos),
        ("role defaults", play.role_defaults, play.pos),
    ]
    inventory = prepared.play_inventory(prepared.inventory, play)
    members = [inventory.hosts[h] for h in hosts if h in inventory.hosts]
    given = prepared.request.inventory
    source = Position(", ".join(map(str, given)) if isinstance(given, tuple) else given)
    seen: set[str] = set()
    frontier = set(names)
    while frontier:
        name = frontier.pop()
        if name in seen:
            continue
        seen.add(name)
        for label, layer, position in layers:
            if name in layer:
                found, read = scanner.value(layer[name])
                if found:
                    _refuse_reads(f"{where}: variable '{name}' ({label})", found, position)
                frontier |= read - seen
        for host in members:
            if name in host.vars:
                found, read = scanner.value(host.vars[name])
                if found:
                    what = f"{where}: inventory variable '{name}' of host '{host.name}'"
                    _refuse_reads(what, found, source)
                frontier |= read - seen


class Scanner:
    """Finds, in templates, the reads of other hosts' state and the names they use."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self._cache: dict[tuple[str, bool], tuple[tuple[str, ...], frozenset[str]]] = {}

    def task(self, task: Task) -> tuple[list[str], set[str]]:
        found: list[str] = []
        names: set[str] = set()
        values = (
            task.name,
            dict(task.args),
            task.loop,
            task.delegate_to,
            dict(task.environment),
            task.loop_label,
            dict(task.vars),
        )
        for value in values:
            f, n = self.value(value)
            found += f
            names |= n
        conditions = (*task.when, *(task.changed_when or ()), *(task.failed_when or ()))
        conditions += (*(task.until or ()), task.ignore_errors)
        for cond in conditions:
            if isinstance(cond, str):
                f, n = self.text(cond, expression=not is_template(cond))
                found += f
                names |= n
        if task.module.rsplit(".", 1)[-1] == "template":
            f, n = self._template_file(task)
            found += [f"{x} in its template" for x in f]
            names |= n
        return found, names

    def value(self, value: Any) -> tuple[list[str], set[str]]:
        found: list[str] = []
        names: set[str] = set()
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if is_template(item):
                    f, n = self.text(item)
                    found += f
                    names |= n
            elif isinstance(item, Mapping):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                stack.extend(item)
        return found, names

    def text(self, source: str, *, expression: bool = False) -> tuple[list[str], set[str]]:
        key = (source, expression)
        cached = self._cache.get(key)
        if cached is None:
            text = f"{{{{ ({source}) }}}}" if expression else source
            try:
                ast = self.renderer.env.parse(text)
            except Exception:  # the run's own check reported syntax errors already
                cached = ((), frozenset())
            else:
                names = frozenset(meta.find_undeclared_variables(ast))
                cached = (tuple(other_host_reads(ast)), names)
            self._cache[key] = cached
        return list(cached[0]), set(cached[1])

    def _template_file(self, task: Task) -> tuple[list[str], set[str]]:
        src = task.args.get("src")
        if not isinstance(src, str) or is_template(src):
            return [], set()  # a templated source: its file is known only at run time
        role = task.role
        first: tuple[Path, ...] = (role.path / "templates", role.path) if role else ()
        try:
            path = self.renderer.find_template(src, first)
            return self.text(path.read_text(encoding="utf-8", errors="replace"))
        except (TemplateError, OSError):
            return [], set()


def other_host_reads(ast: nodes.Node) -> Iterator[str]:
    """Each read of another host's state in a parsed template: `hostvars` other than
    `hostvars[inventory_hostname]`, and the play's host lists."""

    def visit(node: nodes.Node, parent: nodes.Node | None) -> Iterator[str]:
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name == "hostvars" and not _own(node, parent):
                yield _shown(node, parent)
            elif node.name in PLAY_HOST_LISTS:
                yield node.name
        for child in node.iter_child_nodes():
            yield from visit(child, node)

    yield from visit(ast, None)


def _own(node: nodes.Name, parent: nodes.Node | None) -> bool:
    return (
        isinstance(parent, nodes.Getitem)
        and parent.node is node
        and isinstance(parent.arg, nodes.Name)
        and parent.arg.name == OWN
    )


def _shown(node: nodes.Name, parent: nodes.Node | None) -> str:
    if isinstance(parent, nodes.Getitem) and parent.node is node:
        arg = parent.arg
        if isinstance(arg, nodes.Const):
            return f"hostvars[{arg.value!r}]"
        if isinstance(arg, nodes.Name):
            return f"hostvars[{arg.name}]"
        return "hostvars[...]"
    if isinstance(parent, nodes.Getattr) and parent.node is node:
        return f"hostvars.{parent.attr}"
    return "hostvars"
