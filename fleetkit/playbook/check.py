"""Check a loaded playbook against what the run will know, before any host is touched.

Every template (task arguments, conditions, loops, play vars, template files)
is parsed, and a variable no layer can define (not in the inventory of any
host, -e, play vars, vars_files, registered names, set_fact keys, magic names)
is an error with file:line, play and task. Names guarded by `is defined` or
`| default` are left alone; values defined on some hosts only fail on the
others at run time. Handlers named by `notify` must exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from fleetkit.errors import PlaybookError, Position, TemplateError
from fleetkit.playbook.render import Renderer, contains_template, is_template
from fleetkit.playbook.schema import Play, Playbook, Task
from fleetkit.playbook.variables import MAGIC_NAMES
from fleetkit.text import did_you_mean


def walk(tasks: Sequence[Task]) -> Iterator[Task]:
    """Every task, including the ones of static includes (depth first)."""
    for task in tasks:
        yield task
        if task.include is not None and task.include.tasks:
            yield from walk(task.include.tasks)


def condition_names(cond: Any, renderer: Renderer, *, guarded: bool = False) -> set[str]:
    """Names one when/until/changed_when condition reads."""
    if not isinstance(cond, str):
        return set()
    if "{{" in cond or "{%" in cond:
        return renderer.names(cond, guarded=guarded)
    return renderer.expression_names(cond, guarded=guarded)


def task_names(task: Task, renderer: Renderer, *, guarded: bool = False) -> set[str]:
    """Names a task's templates read; guarded=False leaves out `is defined`/`default` ones.

    TemplateError on a syntax error.
    """
    names: set[str] = set()
    values = (dict(task.args), task.loop, task.delegate_to, dict(task.environment), task.loop_label)
    for value in values:
        names |= renderer.names(value, guarded=guarded)
    for group in (task.when, task.changed_when or (), task.failed_when or (), task.until or ()):
        for cond in group:
            names |= condition_names(cond, renderer, guarded=guarded)
    if isinstance(task.ignore_errors, str):
        names |= condition_names(task.ignore_errors, renderer, guarded=guarded)
    return names


def defined_by_tasks(playbook: Playbook) -> set[str]:
    """Names tasks define for later ones: register targets and set_fact keys."""
    out: set[str] = set()
    for play in playbook.plays:
        for task in walk((*play.tasks, *play.handlers)):
            if task.register:
                out.add(task.register)
            if task.module == "set_fact":
                out.update(str(k) for k in task.args if not is_template(str(k)))
            if task.module == "include_vars":
                out |= included_names(task, play.directory)
            if task.module == "setup":
                from fleetkit.executor.facts import INJECTED_NAMES

                out.update(INJECTED_NAMES)
            out |= native_fact_names(task)
            if "." in task.module:
                out |= fallback_fact_names(task, play.collection_roots)
    return out


def templated_fact_keys(playbook: Playbook) -> tuple[re.Pattern[str], ...]:
    """The shapes of set_fact keys that are templates (`{{ prefix }}_port` -> any name
    ending in `_port`): a name of that shape is left to run time, where the key is known."""
    out: list[re.Pattern[str]] = []
    for play in playbook.plays:
        for task in walk((*play.tasks, *play.handlers)):
            if task.module != "set_fact":
                continue
            for key in map(str, task.args):
                if is_template(key):
                    parts = re.split(r"\{\{.*?\}\}|\{%.*?%\}", key)
                    out.append(re.compile(".*".join(re.escape(p) for p in parts)))
    return tuple(out)


def native_fact_names(task: Task) -> set[str]:
    """Facts getent and package_facts define (`getent_<database>`, `packages`)."""
    database = task.args.get("database")
    if task.module == "getent" and isinstance(database, str) and "{" not in database:
        return {f"getent_{database}"}
    if task.module == "package_facts":
        return {"packages"}
    return set()


def fallback_fact_names(task: Task, roots: Sequence[Path] = ()) -> set[str]:
    """Facts an Ansible module run by the fallback defines (from its RETURN doc);
    roots: the play's collection folders."""
    from fleetkit.modules.registry import find

    module = find(task.module, tuple(str(r) for r in roots), native=not task.via_ansible)
    resolution = getattr(module, "resolution", None)
    if resolution is None or not resolution.runnable:
        return set()
    from fleetkit.modules.ansible_fallback.doc import fact_names

    return fact_names(resolution, task.args)


def fallback_warnings(playbook: Playbook) -> list[str]:
    """One warning per Ansible module the playbook names that this controller cannot run:
    its tasks fail where they run (never where `when:` skips them)."""
    from fleetkit.modules.registry import find

    seen: dict[str, str] = {}
    for play in playbook.plays:
        for task in walk((*play.tasks, *play.handlers)):
            if "." not in task.module or task.module in seen:
                continue
            roots = tuple(str(r) for r in play.collection_roots)
            resolution = getattr(
                find(task.module, roots, native=not task.via_ansible), "resolution", None
            )
            if resolution is not None and resolution.problem is not None:
                seen[task.module] = f"{task.pos}: module {task.module}: {resolution.problem}"
    if not seen:
        return []
    return [
        "modules this controller cannot run (their tasks fail if they run): "
        + "; ".join(seen.values())
    ]


def included_names(task: Task, playbook_dir: Path) -> set[str]:
    """Names an include_vars task may define: its name:, else the keys of every file it
    could read (a templated file name matches any file of that folder)."""
    if task.args.get("name"):
        return {str(task.args["name"])}
    from fleetkit.playbook.include_vars import candidates
    from fleetkit.yamlpos import load_yaml

    out: set[str] = set()
    for key in ("file", "dir"):
        value = task.args.get(key)
        if not isinstance(value, str):
            continue
        pattern = re.sub(r"\{\{.*?\}\}", "*", value)
        for c in candidates(task, playbook_dir, pattern):
            paths = list(c.parent.glob(c.name)) if "*" in c.name else [c]
            for path in paths:
                files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
                for f in files:
                    if not f.is_file():
                        continue
                    try:
                        data = load_yaml(f, PlaybookError)
                    except PlaybookError:
                        continue
                    if isinstance(data, dict):
                        out.update(str(k) for k in data)
    return out


def configured_gather(play: Play, gathering: str | None) -> bool | None:
    """Whether play gathers facts by its gather_facts and ansible.cfg's `gathering`, as
    Ansible's play iterator decides (implicit and smart: unless false; explicit: only when
    true); None when neither decides (fleetkit's auto)."""
    if play.gather_facts is not None:
        return play.gather_facts
    return None if gathering is None else gathering in ("implicit", "smart")


def check_playbook(
    playbook: Playbook,
    renderer: Renderer,
    known: Iterable[str],
    *,
    extra: Mapping[str, Any] | None = None,
    gathering: str | None = None,
) -> None:
    """Raise TemplateError/PlaybookError for the first problem found, else return.

    `extra` (the -e values) lets modules' preflight checks see what -e sets.
    """
    base = set(known) | MAGIC_NAMES | set(renderer.globals) | defined_by_tasks(playbook)
    shapes = templated_fact_keys(playbook)
    for play in playbook.plays:
        check_play(play, renderer, base, extra=extra or {}, gathering=gathering, shapes=shapes)


def check_play(
    play: Play,
    renderer: Renderer,
    known: set[str],
    *,
    extra: Mapping[str, Any] | None = None,
    gathering: str | None = None,
    shapes: Sequence[re.Pattern[str]] = (),
) -> None:
    """Check one play; a name matching one of `shapes` (templated set_fact keys) is known."""
    play_known = (
        known
        | set(play.vars)
        | set(play.vars_files)
        | set(play.role_vars)
        | set(play.role_defaults)
    )
    if configured_gather(play, gathering):
        from fleetkit.executor.facts import INJECTED_NAMES

        play_known |= INJECTED_NAMES  # the play's gathering defines them, as setup does
    for source in (play.vars, play.vars_files):
        _check_vars(source, renderer, play_known, play.pos, f"play '{play.name}'")
    topics = {h.name for h in play.handlers} | {t for h in play.handlers for t in h.listen}
    included = {
        id(child)
        for task in walk((*play.tasks, *play.handlers))
        if task.include is not None and task.include.tasks
        for child in walk(task.include.tasks)
    }
    for task in walk((*play.tasks, *play.handlers)):
        task_known = play_known | set(task.vars) | task.known
        if id(task) in included:
            # a dynamic include's tasks may run only where its when/loop define more:
            # their names are checked when the include runs (syntax is checked here)
            task_known |= task_names(task, renderer)
        if task.role is not None:
            task_known |= set(task.role.vars) | set(task.role.defaults) | set(task.role.magic)
        if task.loop is not None:
            task_known |= {task.loop_var, "ansible_loop_var"}
            if task.index_var:
                task_known.add("ansible_index_var")
            if task.loop_extended:
                task_known.add("ansible_loop")
            if task.index_var:
                task_known.add(task.index_var)
        _check_vars(task.vars, renderer, task_known, task.pos, task.where, shapes)
        try:
            missing = task_names(task, renderer) - task_known
        except TemplateError as err:
            raise TemplateError(f"{task.where}: {err.message}", position=task.pos) from None
        missing = _unshaped(missing, shapes)
        if missing:
            name = sorted(missing)[0]
            raise TemplateError(
                f"{task.where}: undefined variable '{name}'{_hint(name, task_known)}",
                position=task.pos,
            )
        if task.module == "template" and id(task) not in included:
            _check_template_file(task, renderer, task_known, shapes)
        _preflight(task, play, renderer, task_known, extra or {})
        for topic in task.notify:
            if topic not in topics:
                tail = did_you_mean(topic, topics)
                raise PlaybookError(
                    f"{task.where}: notify '{topic}' names no handler of this play{tail}",
                    position=task.pos,
                )


def _unshaped(missing: set[str], shapes: Sequence[re.Pattern[str]]) -> set[str]:
    """The names of missing that no templated set_fact key could define."""
    return {n for n in missing if not any(s.fullmatch(n) for s in shapes)}


def _check_vars(
    values: Mapping[str, Any],
    renderer: Renderer,
    known: set[str],
    pos: Position,
    where: str,
    shapes: Sequence[re.Pattern[str]] = (),
) -> None:
    for key, value in values.items():
        try:
            missing = _unshaped(renderer.names(value) - known, shapes)
        except TemplateError as err:
            raise TemplateError(f"{where}: variable '{key}': {err.message}", position=pos) from None
        if missing:
            name = sorted(missing)[0]
            raise TemplateError(
                f"{where}: variable '{key}' uses undefined variable '{name}'{_hint(name, known)}",
                position=pos,
            )


def _syntax_value(key: str, value: Any) -> Any:
    """A literal template option as the module takes it (trim_blocks: yes is True)."""
    from fleetkit.text import to_bool

    if key in ("trim_blocks", "lstrip_blocks"):
        try:
            return to_bool(value)
        except ValueError:
            return value
    return str(value)


def _check_template_file(
    task: Task, renderer: Renderer, known: set[str], shapes: Sequence[re.Pattern[str]] = ()
) -> None:
    src = task.args.get("src")
    if not isinstance(src, str) or "{{" in src:
        return
    from fleetkit.modules.template import TEMPLATE_ONLY_NAMES
    from fleetkit.modules.template_vars import SYNTAX_ARGS, syntax_of

    given = {k: task.args[k] for k in SYNTAX_ARGS if k in task.args}
    if any(contains_template(v) for v in given.values()):
        return  # its delimiters are known only at run time
    first = (task.role.path / "templates", task.role.path) if task.role else ()
    try:
        syntax = syntax_of({k: _syntax_value(k, v) for k, v in given.items()})
        names = renderer.template_file_names(src, first=first, syntax=syntax)
        missing = names - known - TEMPLATE_ONLY_NAMES
        missing = _unshaped(missing, shapes)
    except TemplateError as err:
        raise TemplateError(f"{task.where}: {err.message}", position=task.pos) from None
    if missing:
        name = sorted(missing)[0]
        path = renderer.find_template(src, first)
        raise TemplateError(
            f"{task.where}: template {path} uses undefined variable '{name}'{_hint(name, known)}",
            position=task.pos,
        )


def _preflight(
    task: Task, play: Play, renderer: Renderer, known: set[str], extra: Mapping[str, Any]
) -> None:
    """A module's controller-side checks (its `preflight`) with the arguments known now.

    Each argument is rendered from -e, play and task vars only (-e first, as at run
    time); one that reads anything a host or an earlier task defines is passed as
    unknown, for the module to leave to run time.
    """
    from fleetkit.modules.args import prepare
    from fleetkit.modules.base import Module
    from fleetkit.modules.registry import lookup
    from fleetkit.playbook.variables import OMIT, Layered

    module = None if task.via_ansible else lookup(task.module)
    if module is None or type(module).preflight is Module.preflight:
        return
    here = {"omit", *extra, *play.vars, *play.vars_files, *task.vars, *renderer.globals}
    level = Layered(
        renderer,
        [
            ({"omit": OMIT}, False),
            (extra, True),
            (task.vars, True),
            (play.vars_files, True),
            (play.vars, True),
            (renderer.globals, False),
        ],
    )
    raw: dict[str, Any] = {}
    unknown: set[str] = set()
    for key, value in task.args.items():
        try:
            if (renderer.names(value, guarded=True) - here) & known:
                unknown.add(key)
                continue
            rendered = renderer.render(value, level)
        except TemplateError:
            unknown.add(key)
            continue
        if rendered != OMIT:
            raw[key] = rendered
    args, _ = prepare(module, raw)
    problems = module.preflight(
        {k: v for k, v in args.items() if k not in unknown}, frozenset(unknown)
    )
    if problems:
        raise PlaybookError(f"{task.where}: {problems[0]}", position=task.pos)


def _hint(name: str, known: set[str]) -> str:
    return did_you_mean(name, (k for k in known if not k.startswith("_")))
