"""Load a playbook: YAML with positions -> validated, frozen Plays and Tasks.

Everything that can be checked without a host is checked here, each error with
file:line, the play and the task: YAML syntax, play and task keywords (with a
"did you mean"), the module name, its argument names, required arguments and the
types of literal values. `import_playbook` and `vars_files` are read here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetkit.errors import PlaybookError, Position
from fleetkit.modules.args import suggest, to_bool, validate_static
from fleetkit.modules.registry import MODULES, canonical_name, lookup
from fleetkit.playbook.kv import parse_free_form
from fleetkit.playbook.render import contains_template, is_template
from fleetkit.playbook.schema import (
    HANDLER_KEYWORDS,
    PLAY_KEYWORDS,
    TASK_KEYWORDS,
    Handler,
    Play,
    Playbook,
    Task,
)
from fleetkit.yamlpos import load_yaml, position_of

DEFAULT_DELAY = 5.0
LOOP_CONTROL = frozenset({"loop_var", "index_var", "label", "extended"})
UNSUPPORTED_TASK = {
    "block": "blocks are not supported yet: write the tasks one after another",
    "include_tasks": "include_tasks is not supported: use import_playbook",
    "import_tasks": "import_tasks is not supported: use import_playbook",
    "include_role": "roles are not supported: use import_playbook",
    "import_role": "roles are not supported: use import_playbook",
    "local_action": "local_action is not supported: use delegate_to: localhost",
    "action": "action: is not supported: name the module as the task's key",
}
UNSUPPORTED_PLAY = {
    "roles": "roles are not supported: put the tasks in the play or use import_playbook",
    "strategy": "only the linear strategy exists (hosts run ahead when nothing needs the others)",
}


def load_playbook(path: str | Path, extra_vars: Mapping[str, Any] | None = None) -> Playbook:
    """Read and validate a playbook file and the playbooks it imports."""
    source = Path(path)
    if not source.is_file():
        raise PlaybookError(f"playbook {str(source)!r} not found")
    loader = _Loader(dict(extra_vars or {}))
    return Playbook(path=source, plays=tuple(loader.playbook(source, ())))


class _Loader:
    """Turns playbook YAML into plays; `extra` renders templated import/vars_files paths."""

    def __init__(self, extra: dict[str, Any]) -> None:
        self.extra = extra

    def playbook(self, path: Path, stack: tuple[Path, ...]) -> list[Play]:
        resolved = path.resolve()
        if resolved in stack:
            chain = " -> ".join(p.name for p in (*stack, resolved))
            raise PlaybookError(f"import_playbook loop: {chain}", position=Position(path))
        data = load_yaml(path, PlaybookError)
        if data is None:
            return []
        if not isinstance(data, list):
            raise PlaybookError(
                "a playbook is a list of plays (each starting with '- hosts: ...')",
                position=position_of(data) or Position(path, 1),
            )
        plays: list[Play] = []
        for entry in data:
            pos = position_of(entry) or Position(path)
            if not isinstance(entry, dict):
                raise PlaybookError(
                    "each play must be a mapping with hosts: and tasks:", position=pos
                )
            if "import_playbook" in entry:
                plays.extend(self._import(path, entry, pos, (*stack, resolved)))
            else:
                plays.append(self.play(path, entry, pos))
        return plays

    def _import(
        self, path: Path, entry: dict[str, Any], pos: Position, stack: tuple[Path, ...]
    ) -> list[Play]:
        extra = set(entry) - {"import_playbook", "name", "vars"}
        if extra:
            key = sorted(map(str, extra))[0]
            raise PlaybookError(
                f"import_playbook takes no '{key}' (only name and vars)",
                position=position_of(entry, key) or pos,
            )
        target = entry["import_playbook"]
        if not isinstance(target, str) or not target:
            raise PlaybookError("import_playbook needs a file name", position=pos)
        if is_template(target):
            target = str(_render_static(target, self.extra, pos))
        file = (path.parent / target).resolve()
        if not file.is_file():
            raise PlaybookError(
                f"import_playbook: {target} not found (beside {path})", position=pos
            )
        plays = self.playbook(file, stack)
        import_vars = entry.get("vars")
        if import_vars:
            if not isinstance(import_vars, dict):
                raise PlaybookError("import_playbook vars must be a mapping", position=pos)
            plays = [_with_vars(p, import_vars) for p in plays]
        return plays

    # plays --------------------------------------------------------------------------

    def play(self, path: Path, entry: dict[str, Any], pos: Position) -> Play:
        for key in entry:
            if key in PLAY_KEYWORDS:
                continue
            where = position_of(entry, key) or pos
            if key in UNSUPPORTED_PLAY:
                raise PlaybookError(UNSUPPORTED_PLAY[key], position=where)
            hint = suggest(str(key), sorted(PLAY_KEYWORDS))
            tail = f" (did you mean '{hint}'?)" if hint else ""
            raise PlaybookError(f"unknown play keyword '{key}'{tail}", position=where)
        name = _str(entry, "name", pos) or ""
        hosts = entry.get("hosts")
        if isinstance(hosts, list):
            hosts = ",".join(str(h) for h in hosts)
        if not isinstance(hosts, str) or not hosts.strip():
            raise PlaybookError(
                f"play '{name or '(unnamed)'}' needs hosts: (a pattern such as all or a group)",
                position=pos,
            )
        name = name or hosts
        variables = _mapping(entry, "vars", pos, f"play '{name}'")
        play_vars_files = self._vars_files(path, entry, pos, {**variables, **self.extra}, name)
        tags = _tags(entry, "tags", pos)
        handler_list = [
            self.task(path, t, name, tags, handler=True) for t in _task_list(entry, "handlers", pos)
        ]
        handlers = tuple(h for h in handler_list if isinstance(h, Handler))
        sections = [
            [self.task(path, t, name, tags) for t in _task_list(entry, key, pos)]
            for key in ("pre_tasks", "tasks", "post_tasks")
        ]
        tasks: list[Task] = []
        for section in sections:
            if section and tasks and handlers:
                tasks.append(_flush(tasks[-1].pos, name))
            tasks.extend(section)
        return Play(
            name=name,
            hosts=hosts.strip(),
            pos=pos,
            path=path,
            vars=MappingProxyType(variables),
            vars_files=MappingProxyType(play_vars_files),
            become=_opt_bool(entry, "become", pos),
            become_user=_str(entry, "become_user", pos),
            serial=_serial(entry, pos),
            max_fail_percentage=_opt_float(entry, "max_fail_percentage", pos),
            any_errors_fatal=bool(_opt_bool(entry, "any_errors_fatal", pos)),
            gather_facts=_opt_bool(entry, "gather_facts", pos),
            tasks=tuple(tasks),
            handlers=handlers,
            tags=tags,
            environment=MappingProxyType(_mapping(entry, "environment", pos, f"play '{name}'")),
            timeout=_opt_float(entry, "timeout", pos),
        )

    def _vars_files(
        self, path: Path, entry: dict[str, Any], pos: Position, known: Mapping[str, Any], play: str
    ) -> dict[str, Any]:
        files = entry.get("vars_files")
        if files is None:
            return {}
        where = position_of(entry, "vars_files") or pos
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list):
            raise PlaybookError("vars_files must be a list of file names", position=where)
        merged: dict[str, Any] = {}
        for item in files:
            candidates = item if isinstance(item, list) else [item]
            chosen: Path | None = None
            for candidate in candidates:
                name = (
                    str(_render_static(candidate, known, where))
                    if is_template(candidate)
                    else str(candidate)
                )
                file = (path.parent / name).expanduser()
                if file.is_file():
                    chosen = file
                    break
            if chosen is None:
                shown = " or ".join(str(c) for c in candidates)
                raise PlaybookError(
                    f"play '{play}': vars file {shown} not found"
                    f" (paths are relative to {path.parent})",
                    position=where,
                )
            data = load_yaml(chosen, PlaybookError)
            if data is None:
                continue
            if not isinstance(data, dict):
                raise PlaybookError(
                    "a vars file must be a mapping of names to values",
                    position=position_of(data) or Position(chosen, 1),
                )
            merged.update(data)
        return merged

    # tasks --------------------------------------------------------------------------

    def task(
        self, path: Path, entry: Any, play: str, play_tags: frozenset[str], *, handler: bool = False
    ) -> Task:
        pos = position_of(entry) or Position(path)
        if not isinstance(entry, dict):
            raise PlaybookError(
                f"play '{play}': each task must be a mapping (module: arguments), got {entry!r}",
                position=pos,
            )
        raw_name = entry.get("name")
        shown = f"'{raw_name}'" if isinstance(raw_name, str) else "(unnamed)"
        where = f"play '{play}', {'handler' if handler else 'task'} {shown}"
        keywords = HANDLER_KEYWORDS if handler else TASK_KEYWORDS
        modules: list[str] = []
        for key in entry:
            if key in keywords:
                continue
            key_pos = position_of(entry, key) or pos
            if not isinstance(key, str):
                raise PlaybookError(f"{where}: keys must be names, got {key!r}", position=key_pos)
            if key in UNSUPPORTED_TASK:
                raise PlaybookError(f"{where}: {UNSUPPORTED_TASK[key]}", position=key_pos)
            if lookup(key) is not None:
                modules.append(key)
                continue
            hint = suggest(key, sorted(keywords | set(MODULES)))
            tail = f" (did you mean '{hint}'?)" if hint else ""
            raise PlaybookError(
                f"{where}: unknown task keyword or module '{key}'{tail}", position=key_pos
            )
        if not modules:
            raise PlaybookError(
                f"{where}: no module to run (add one, e.g. shell: or copy:)", position=pos
            )
        if len(modules) > 1:
            raise PlaybookError(
                f"{where}: one module per task, got {' and '.join(modules)}",
                position=position_of(entry, modules[1]) or pos,
            )
        module_key = modules[0]
        module_name = canonical_name(module_key)
        module = MODULES[module_name]
        args = self._args(entry, module_key, where, pos)
        name = (
            raw_name if isinstance(raw_name, str) and raw_name else _default_name(module_name, args)
        )
        where = f"play '{play}', {'handler' if handler else 'task'} '{name}'"
        errors = validate_static(module, args, contains_template)
        if errors:
            raise PlaybookError(
                f"{where}: {errors[0]}", position=position_of(entry, module_key) or pos
            )
        fields = self._task_fields(entry, pos, where)
        tags = play_tags | _tags(entry, "tags", pos)
        common: dict[str, Any] = {
            "name": name,
            "module": module_name,
            "args": MappingProxyType(args),
            "pos": pos,
            "play": play,
            "tags": tags,
            **fields,
        }
        if handler:
            return Handler(**common, listen=_names(entry, "listen", pos))
        return Task(**common)

    def _args(self, entry: dict[str, Any], key: str, where: str, pos: Position) -> dict[str, Any]:
        module = MODULES[canonical_name(key)]
        value = entry[key]
        key_pos = position_of(entry, key) or pos
        args: dict[str, Any] = {}
        extra = entry.get("args")
        if extra is not None:
            if not isinstance(extra, dict):
                raise PlaybookError(f"{where}: args: must be a mapping", position=key_pos)
            args.update(extra)
        if value is None:
            return args
        if isinstance(value, dict):
            args.update(value)
        elif isinstance(value, str):
            names = frozenset(module.args) | frozenset(
                a for arg in module.args.values() for a in arg.aliases
            )
            try:
                args.update(parse_free_form(value, module.free_form, names))
            except PlaybookError as err:
                raise PlaybookError(
                    f"{where}: module {module.name}: {err.message}", position=key_pos
                ) from None
        elif module.free_form is not None and isinstance(value, (int, float, bool)):
            args[module.free_form] = value
        else:
            raise PlaybookError(
                f"{where}: module {module.name} takes a mapping of arguments or key=value text,"
                f" got {type(value).__name__}",
                position=key_pos,
            )
        return args

    def _task_fields(self, entry: dict[str, Any], pos: Position, where: str) -> dict[str, Any]:
        loop = entry.get("loop")
        for alias in ("with_items", "with_list"):
            if alias in entry:
                if loop is not None:
                    raise PlaybookError(
                        f"{where}: loop and {alias} together",
                        position=position_of(entry, alias) or pos,
                    )
                loop = entry[alias]
        loop_var = "item"
        index_var: str | None = None
        control = entry.get("loop_control")
        if control is not None:
            if not isinstance(control, dict):
                raise PlaybookError(f"{where}: loop_control must be a mapping", position=pos)
            for key in control:
                if key not in LOOP_CONTROL:
                    hint = suggest(str(key), sorted(LOOP_CONTROL))
                    tail = f" (did you mean '{hint}'?)" if hint else ""
                    raise PlaybookError(
                        f"{where}: unknown loop_control key '{key}'{tail}",
                        position=position_of(control, key) or pos,
                    )
            loop_var = str(control.get("loop_var", "item"))
            if control.get("index_var") is not None:
                index_var = str(control["index_var"])
        if "loop_var" in entry:
            loop_var = str(entry["loop_var"])
        if "delegate_to" in entry and entry["delegate_to"] is not None:
            delegate: str | None = str(entry["delegate_to"])
        else:
            delegate = None
        return {
            "when": _conditions(entry, "when", pos) or (),
            "loop": loop,
            "loop_var": loop_var,
            "index_var": index_var,
            "register": _identifier(entry, "register", pos, where),
            "changed_when": _conditions(entry, "changed_when", pos),
            "failed_when": _conditions(entry, "failed_when", pos),
            "ignore_errors": _bool_or_template(entry, "ignore_errors", pos),
            "retries": _opt_int(entry, "retries", pos),
            "delay": (_opt_float(entry, "delay", pos) or 0.0)
            if "delay" in entry
            else DEFAULT_DELAY,
            "until": _conditions(entry, "until", pos),
            "timeout": _opt_float(entry, "timeout", pos),
            "become": _opt_bool(entry, "become", pos),
            "become_user": _str(entry, "become_user", pos),
            "notify": _names(entry, "notify", pos),
            "no_log": bool(_opt_bool(entry, "no_log", pos)),
            "delegate_to": delegate,
            "run_once": bool(_opt_bool(entry, "run_once", pos)),
            "vars": MappingProxyType(_mapping(entry, "vars", pos, where)),
            "check_mode": _opt_bool(entry, "check_mode", pos),
            "environment": MappingProxyType(_mapping(entry, "environment", pos, where)),
        }


# field helpers ----------------------------------------------------------------------


def _where(entry: Mapping[str, Any], key: str, pos: Position) -> Position:
    return position_of(entry, key) or pos


def _str(entry: Mapping[str, Any], key: str, pos: Position) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise PlaybookError(f"{key} must be a string", position=_where(entry, key, pos))
    return str(value)


def _opt_bool(entry: Mapping[str, Any], key: str, pos: Position) -> bool | None:
    value = entry.get(key)
    if value is None:
        return None
    try:
        return to_bool(value)
    except ValueError:
        raise PlaybookError(
            f"{key} must be yes/no (true/false), got {value!r}", position=_where(entry, key, pos)
        ) from None


def _bool_or_template(entry: Mapping[str, Any], key: str, pos: Position) -> Any:
    value = entry.get(key)
    if value is None:
        return False
    if is_template(value):
        return value
    return _opt_bool(entry, key, pos)


def _opt_int(entry: Mapping[str, Any], key: str, pos: Position) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PlaybookError(f"{key} must be a whole number", position=_where(entry, key, pos))
    try:
        number = int(value)
    except ValueError:
        raise PlaybookError(
            f"{key} must be a whole number, got {value!r}", position=_where(entry, key, pos)
        ) from None
    if number < 0:
        raise PlaybookError(f"{key} must not be negative", position=_where(entry, key, pos))
    return number


def _opt_float(entry: Mapping[str, Any], key: str, pos: Position) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    if isinstance(value, bool):
        raise PlaybookError(f"{key} must be a number", position=_where(entry, key, pos))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PlaybookError(
            f"{key} must be a number, got {value!r}", position=_where(entry, key, pos)
        ) from None
    if number < 0:
        raise PlaybookError(f"{key} must not be negative", position=_where(entry, key, pos))
    return number


def _mapping(entry: Mapping[str, Any], key: str, pos: Position, where: str) -> dict[str, Any]:
    value = entry.get(key)
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        merged: dict[str, Any] = {}
        for v in value:
            merged.update(v)
        return merged
    if not isinstance(value, dict):
        raise PlaybookError(
            f"{where}: {key} must be a mapping of names to values", position=_where(entry, key, pos)
        )
    return dict(value)


def _tags(entry: Mapping[str, Any], key: str, pos: Position) -> frozenset[str]:
    value = entry.get(key)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list):
        return frozenset(str(t).strip() for t in value if str(t).strip())
    raise PlaybookError(
        f"{key} must be a name or a list of names", position=_where(entry, key, pos)
    )


def _names(entry: Mapping[str, Any], key: str, pos: Position) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PlaybookError(
        f"{key} must be a name or a list of names", position=_where(entry, key, pos)
    )


def _identifier(entry: Mapping[str, Any], key: str, pos: Position, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isidentifier():
        raise PlaybookError(
            f"{where}: {key} must be a variable name, got {value!r}",
            position=_where(entry, key, pos),
        )
    return value


def _conditions(entry: Mapping[str, Any], key: str, pos: Position) -> tuple[Any, ...] | None:
    value = entry.get(key)
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, (str, bool, int)):
            raise PlaybookError(
                f"{key} takes expressions (strings) or booleans, got {item!r}",
                position=_where(entry, key, pos),
            )
    return tuple(items)


def _serial(entry: Mapping[str, Any], pos: Position) -> tuple[int | str, ...]:
    value = entry.get("serial")
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[int | str] = []
    where = _where(entry, "serial", pos)
    for item in items:
        if isinstance(item, bool):
            raise PlaybookError("serial takes numbers or percentages", position=where)
        if isinstance(item, int) and item > 0:
            out.append(item)
        elif isinstance(item, str) and item.strip().endswith("%"):
            try:
                percent = float(item.strip()[:-1])
            except ValueError:
                raise PlaybookError(f"serial: bad percentage {item!r}", position=where) from None
            if not 0 < percent <= 100:
                raise PlaybookError(f"serial: {item!r} is not within 1%..100%", position=where)
            out.append(item.strip())
        elif isinstance(item, str) and item.strip().isdigit() and int(item) > 0:
            out.append(int(item))
        else:
            raise PlaybookError(
                f"serial takes positive numbers or percentages ('30%'), got {item!r}",
                position=where,
            )
    return tuple(out)


def _task_list(entry: Mapping[str, Any], key: str, pos: Position) -> list[Any]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PlaybookError(f"{key} must be a list of tasks", position=_where(entry, key, pos))
    return value


def _default_name(module: str, args: Mapping[str, Any]) -> str:
    """A task's display name when it has none: the module and its main argument."""
    main = (
        args.get("cmd")
        or args.get("msg")
        or args.get("name")
        or args.get("dest")
        or args.get("path")
    )
    if main is None and args:
        main = next(iter(args.values()))
    text = f"{module}: {main}" if main is not None else module
    text = " ".join(str(text).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _flush(pos: Position, play: str) -> Task:
    return Task(
        name="flush handlers",
        module="meta",
        args=MappingProxyType({"action": "flush_handlers"}),
        pos=pos,
        play=play,
        tags=frozenset({"always"}),
    )


def _with_vars(play: Play, extra: Mapping[str, Any]) -> Play:
    from dataclasses import replace

    return replace(play, vars=MappingProxyType({**play.vars, **extra}))


def _render_static(value: str, variables: Mapping[str, Any], pos: Position) -> Any:
    """Render a value at load time (file names), with only extra and play vars."""
    from fleetkit.errors import TemplateError
    from fleetkit.playbook.render import Renderer

    try:
        return Renderer().render(value, variables)
    except TemplateError as err:
        raise PlaybookError(
            f"{err.message} (only -e and play vars are known here)", position=pos
        ) from None
