"""Load a playbook: YAML with positions -> validated, frozen Plays and Tasks.

Everything that can be checked without a host is checked here, each error with
file:line, the play and the task: YAML syntax, play and task keywords (with a
"did you mean"), the module name, its argument names, required arguments and the
types of literal values. `import_playbook`, `vars_files`, `import_tasks`,
`import_role` and `roles:` are expanded here; blocks are flattened into tasks
that carry their frames; `include_tasks`/`include_role` stay dynamic tasks whose
files (when their names are static) are loaded and validated here too.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetkit.errors import PlaybookError, Position
from fleetkit.galaxy.search import BUILTIN, CollectionSearch, search_list
from fleetkit.galaxy.search import collections_path as default_collections_path
from fleetkit.modules.args import canonical, unknown_names, validate_static
from fleetkit.modules.base import Module
from fleetkit.modules.registry import MODULES, find, suggest_module, task_module_name
from fleetkit.playbook import keywords as kw
from fleetkit.playbook.keywords import coerce_all, combine, unknown
from fleetkit.playbook.kv import parse_free_form
from fleetkit.playbook.render import contains_template, is_template
from fleetkit.playbook.role_specs import validation_entry
from fleetkit.playbook.roles import RoleDir, find_role
from fleetkit.playbook.schema import (
    BLOCK_FIELDS,
    BLOCK_KEYWORDS,
    EMPTY,
    HANDLER_FIELDS,
    HANDLER_KEYWORDS,
    PLAY_KEYWORDS,
    ROLE_ENTRY_KEYWORDS,
    STRUCTURE_KEYS,
    TASK_FIELDS,
    TASK_KEYWORDS,
    Frame,
    Handler,
    Include,
    Play,
    Playbook,
    Role,
    Task,
)
from fleetkit.report.redact import mask_userinfo
from fleetkit.text import did_you_mean, suggestion_tail, to_bool, truthy
from fleetkit.yamlpos import load_yaml, position_of

UNSUPPORTED_TASK = {
    "local_action": "local_action is not supported: use delegate_to: localhost",
    "action": "action: is not supported: name the module as the task's key",
}
UNSUPPORTED_PLAY = {
    "strategy": "only the linear strategy exists (hosts run ahead when nothing needs the others)",
}
ACTIONS = (
    "import_tasks",
    "include_tasks",
    "include",
    "import_role",
    "include_role",
    "include_vars",
)
ROLE_ARGS = frozenset(
    {
        "name",
        "tasks_from",
        "vars_from",
        "defaults_from",
        "handlers_from",
        "public",
        "allow_duplicates",
        "apply",
        "rolespec_validate",
    }
)
INVENTORY_INSTEAD = MappingProxyType(
    {
        "port": "ansible_port",
        "remote_user": "ansible_user",
        "connection": "ansible_connection",
    }
)
"""Role-entry keywords fleetkit does not take there, and the host variable that does it."""

INCLUDE_VARS_ARGS = frozenset({"file", "dir", "name", "_raw_params"})
FAILED_NAMES = frozenset({"ansible_failed_task", "ansible_failed_result"})
ROLE_NAMES = frozenset({"role_path", "role_name", "ansible_role_name", "ansible_collection_name"})
INCLUDE_OWN = frozenset({"name", "when", *kw.LOOP_KEYS, "loop_control", "loop_var", "vars", "tags"})
"""Keywords an include_tasks/include_role applies to itself (the rest needs apply:)."""
INCLUDE_KEYWORDS = frozenset(
    {"args", "ignore_errors", "no_log", "register", "run_once", "timeout"} | INCLUDE_OWN
)
"""The keywords ansible-core 2.19 allows on include_tasks/include_role (TaskInclude's
VALID_INCLUDE_KEYWORDS that fleetkit has); any other is refused, as Ansible does."""
INCLUDE_TASKS_ARGS = frozenset({"file", "_raw_params", "apply"})


def load_playbook(
    path: str | Path,
    extra_vars: Mapping[str, Any] | None = None,
    *,
    roles_path: Sequence[Path] = (),
    collections_path: Sequence[Path] | None = None,
) -> Playbook:
    """Read and validate a playbook file and the playbooks, tasks and roles it imports.

    roles_path and collections_path are the configured search paths (fleetkit/config);
    collections_path None: ANSIBLE_COLLECTIONS_PATH, else Ansible's default. The
    playbook's own roles/ and collections/ folders are searched first.
    """
    source = Path(path)
    if not source.is_file():
        raise PlaybookError(f"playbook {str(source)!r} not found")
    search = CollectionSearch.for_playbook(
        source.resolve().parent, default_collections_path(configured=collections_path)
    )
    loader = _Loader(dict(extra_vars or {}), tuple(roles_path), search)
    plays = tuple(loader.playbook(source, ()))
    if not plays:  # as Ansible: an empty file is a mistake, not a successful run
        raise PlaybookError(
            "empty playbook: no play to run",
            position=Position(source, 1),
            hint="a playbook is a list of plays: '- hosts: all' with tasks: below it",
        )
    return Playbook(path=source, plays=plays)


def load_task_file(
    path: Path,
    parent: Task,
    *,
    extra: Mapping[str, Any],
    roles_path: Sequence[Path] = (),
    collection_roots: Sequence[Path] = (),
) -> tuple[Task, ...]:
    """An include's file loaded at run time (its name was a template), as the include's children."""
    loader = _Loader(dict(extra), tuple(roles_path), CollectionSearch(tuple(collection_roots)))
    ctx = _Ctx(
        path=path,
        base=path.parent,
        play=parent.play,
        playbook_dir=Path(str(parent.pos.path)).parent
        if parent.role is None
        else parent.role.path.parent,
        inherited=_child_inherited(parent),
        frames=parent.frames,
        role=parent.role,
        chain=parent.include.chain if parent.include else (),
        known=parent.known,
        collections=parent.include.collections if parent.include else (),
    )
    return tuple(loader.task_file(path, ctx, parent.pos))


def _child_inherited(parent: Task) -> dict[str, Any]:
    """What an include's children inherit: the include's block context and its vars."""
    out: dict[str, Any] = {"tags": frozenset(), "vars": parent.vars}
    return out


@dataclass(frozen=True)
class _Ctx:
    """Where a task list is read: its file, play, inherited keywords, blocks and role."""

    path: Path
    base: Path
    play: str
    playbook_dir: Path
    inherited: Mapping[str, Any]
    frames: tuple[Frame, ...] = ()
    role: Role | None = None
    handler: bool = False
    chain: tuple[str, ...] = ()
    known: frozenset[str] = frozenset()
    collections: tuple[str, ...] = ()
    """Collections searched for short module and role names (the play's, or the role's)."""


class _Loader:
    """Turns playbook YAML into plays; `extra` renders templated import/vars_files paths."""

    def __init__(
        self,
        extra: dict[str, Any],
        roles_path: tuple[Path, ...] = (),
        collections: CollectionSearch | None = None,
    ) -> None:
        self.extra = extra
        self.roles_path = roles_path
        self.collections = collections or CollectionSearch()
        self.roots = tuple(str(r) for r in self.collections.roots)
        self.ids = itertools.count(1)
        self._reset_play()

    def _reset_play(self) -> None:
        self.handlers: list[Handler] = []
        self.handler_files: set[str] = set()
        self.role_vars: dict[str, Any] = {}
        self.role_defaults: dict[str, Any] = {}
        self.seen_roles: dict[str, Role] = {}

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
        self._reset_play()
        for key in entry:
            if key in PLAY_KEYWORDS:
                continue
            where = position_of(entry, key) or pos
            if key in UNSUPPORTED_PLAY:
                raise PlaybookError(UNSUPPORTED_PLAY[key], position=where)
            raise PlaybookError(unknown(key, PLAY_KEYWORDS, "play keyword"), position=where)
        name = kw.as_str(entry, "name", pos) or ""
        hosts = entry.get("hosts")
        if isinstance(hosts, list):
            hosts = ",".join(str(h) for h in hosts)
        if not isinstance(hosts, str) or not hosts.strip():
            raise PlaybookError(
                f"play '{name or '(unnamed)'}' needs hosts: (a pattern such as all or a group)",
                position=pos,
            )
        name = name or hosts
        try:
            values = coerce_all(_PLAY_SCALARS, entry, pos)
        except PlaybookError as err:
            raise PlaybookError(f"play '{name}': {err.message}", position=err.position) from None
        variables = dict(values.get("vars", EMPTY))
        play_vars_files = self._vars_files(path, entry, pos, {**variables, **self.extra}, name)
        tags = values.get("tags", frozenset())
        ctx = _Ctx(
            path=path,
            base=path.parent,
            play=name,
            playbook_dir=path.parent,
            inherited={"tags": tags},
            collections=search_list(values.get("collections", ())),
        )
        handler_ctx = replace(ctx, handler=True)
        own_handlers = [
            h
            for h in self.tasks(_task_list(entry, "handlers", pos), handler_ctx)
            if isinstance(h, Handler)
        ]
        roles_at = position_of(entry, "roles") or pos
        roles = [
            t
            for spec in _task_list(entry, "roles", pos)
            for t in self.play_role(spec, roles_at, ctx)
        ]
        sections = [
            self.tasks(_task_list(entry, "pre_tasks", pos), ctx),
            roles + self.tasks(_task_list(entry, "tasks", pos), ctx),
            self.tasks(_task_list(entry, "post_tasks", pos), ctx),
        ]
        handlers = (*own_handlers, *self.handlers)
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
            become=values.get("become"),
            become_user=values.get("become_user"),
            serial=values.get("serial", ()),
            max_fail_percentage=values.get("max_fail_percentage"),
            any_errors_fatal=values.get("any_errors_fatal", False),
            gather_facts=values.get("gather_facts"),
            gather_subset=values.get("gather_subset", ()),
            gather_timeout=values.get("gather_timeout"),
            fact_path=values.get("fact_path"),
            order=values.get("order", "inventory"),
            tasks=tuple(tasks),
            handlers=tuple(handlers),
            tags=tags,
            environment=values.get("environment", EMPTY),
            timeout=values.get("timeout"),
            collections=values.get("collections", ()),
            roles_path=self.roles_path,
            collection_roots=self.collections.roots,
            role_vars=MappingProxyType(dict(self.role_vars)),
            role_defaults=MappingProxyType(dict(self.role_defaults)),
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

    # task lists ---------------------------------------------------------------------

    def tasks(self, items: Sequence[Any], ctx: _Ctx) -> list[Task]:
        out: list[Task] = []
        for entry in items:
            out.extend(self.entry(entry, ctx))
        return out

    def task_file(self, file: Path, ctx: _Ctx, by: Position) -> list[Task]:
        """A tasks file (import, include, role) read in ctx; loops refused with the chain."""
        resolved = str(file.resolve())
        if resolved in ctx.chain:
            chain = " -> ".join(Path(p).name for p in (*ctx.chain, resolved))
            raise PlaybookError(f"include loop: {chain}", position=by)
        data = load_yaml(file, PlaybookError)
        if data is None:
            return []
        if not isinstance(data, list):
            raise PlaybookError(
                "a tasks file is a list of tasks", position=position_of(data) or Position(file, 1)
            )
        sub = replace(ctx, path=file, base=file.parent, chain=(*ctx.chain, resolved))
        try:
            return self.tasks(data, sub)
        except PlaybookError as err:
            if err.message.endswith(")") and "included from" in err.message:
                raise
            raise PlaybookError(
                f"{err.message} (included from {by})", position=err.position, hint=err.hint
            ) from None

    def entry(self, entry: Any, ctx: _Ctx) -> list[Task]:
        pos = position_of(entry) or Position(ctx.path)
        if not isinstance(entry, dict):
            raise PlaybookError(
                f"play '{ctx.play}': each task must be a mapping (module: arguments),"
                f" got {entry!r}",
                position=pos,
            )
        if STRUCTURE_KEYS & set(entry):
            return self.block(entry, pos, ctx)
        for key in entry:
            action = _action(key)
            if action == "import_tasks":
                return self.import_tasks(entry, key, pos, ctx)
            if action in ("include_tasks", "include"):
                return [self.include_tasks(entry, key, pos, ctx)]
            if action in ("import_role", "include_role"):
                return self.role_task(entry, key, pos, ctx, static=action == "import_role")
            if action == "include_vars":
                return [self.include_vars(entry, key, pos, ctx)]
        return [self.task(entry, pos, ctx)]

    def _where(self, entry: Mapping[str, Any], ctx: _Ctx, what: str = "task") -> str:
        raw = entry.get("name")
        shown = f"'{raw}'" if isinstance(raw, str) else "(unnamed)"
        role = f"role '{ctx.role.name}', " if ctx.role else ""
        kind = "handler" if ctx.handler and what == "task" else what
        return f"play '{ctx.play}', {role}{kind} {shown}"

    def _coerce(
        self, table: Mapping[str, kw.Keyword], entry: Mapping[str, Any], pos: Position, where: str
    ) -> dict[str, Any]:
        try:
            return coerce_all(table, entry, pos)
        except PlaybookError as err:
            raise PlaybookError(f"{where}: {err.message}", position=err.position) from None

    def _only(
        self, entry: Mapping[str, Any], allowed: frozenset[str], pos: Position, where: str
    ) -> None:
        for key in entry:
            if key not in allowed:
                raise PlaybookError(
                    f"{where}: {unknown(key, allowed, 'keyword')}",
                    position=position_of(entry, key) or pos,
                )

    # blocks -------------------------------------------------------------------------

    def block(self, entry: dict[str, Any], pos: Position, ctx: _Ctx) -> list[Task]:
        where = self._where(entry, ctx, "block")
        self._only(entry, BLOCK_KEYWORDS, pos, where)
        if "block" not in entry:
            raise PlaybookError(f"{where}: rescue/always need a block: section", position=pos)
        own = self._coerce(BLOCK_FIELDS, entry, pos, where)
        inherited = combine(TASK_FIELDS, ctx.inherited, own)
        sections = {s: _task_list(entry, s, pos) for s in ("block", "rescue", "always")}
        bid = next(self.ids)
        out: list[Task] = []
        for section, items in sections.items():
            frame = Frame(bid, section, bool(sections["rescue"]), bool(sections["always"]))  # type: ignore[arg-type]
            known = ctx.known | (FAILED_NAMES if section == "rescue" else frozenset())
            sub = replace(ctx, inherited=inherited, frames=(*ctx.frames, frame), known=known)
            out += self.tasks(items, sub)
        return out

    # imports and includes -----------------------------------------------------------

    def _file_arg(self, entry: Mapping[str, Any], key: str, pos: Position, where: str) -> Any:
        value = entry[key]
        if isinstance(value, dict):
            value = value.get("file", value.get("_raw_params"))
        if not isinstance(value, str) or not value:
            raise PlaybookError(f"{where}: {key} needs a file name", position=pos)
        return value

    def import_tasks(self, entry: dict[str, Any], key: str, pos: Position, ctx: _Ctx) -> list[Task]:
        where = self._where(entry, ctx, "import_tasks")
        self._only(entry, BLOCK_KEYWORDS - STRUCTURE_KEYS | {key}, pos, where)
        name = self._file_arg(entry, key, pos, where)
        if is_template(name):
            name = str(_render_static(name, self.extra, pos))
        file = self._find_tasks_file(name, ctx)
        if file is None:
            raise PlaybookError(f"{where}: {name} not found (beside {ctx.path})", position=pos)
        own = self._coerce(BLOCK_FIELDS, entry, pos, where)
        sub = replace(ctx, inherited=combine(TASK_FIELDS, ctx.inherited, own))
        return self.task_file(file, sub, pos)

    def _find_tasks_file(self, name: str, ctx: _Ctx) -> Path | None:
        candidates = [ctx.base / name]
        if ctx.role is not None:
            candidates.append(ctx.role.path / "tasks" / name)
        candidates.append(ctx.playbook_dir / name)
        return next((c for c in candidates if c.is_file()), None)

    def _include_keywords(
        self, entry: Mapping[str, Any], key: str, pos: Position, where: str
    ) -> None:
        """An include's own keys: INCLUDE_KEYWORDS only, as ansible-core's TaskInclude."""
        for name in entry:
            if name == key or name in INCLUDE_KEYWORDS:
                continue
            at = position_of(entry, name) or pos
            if name == "apply":
                raise PlaybookError(
                    f"{where}: apply: is an argument of {key}, not a task keyword",
                    position=at,
                    hint=f"write it under {key}: (or args:), beside file:/name:",
                )
            if name in TASK_KEYWORDS:
                raise PlaybookError(
                    f"{where}: '{name}' is not a valid keyword for {key}",
                    position=at,
                    hint=f"an include's keywords apply to the include only: put '{name}' under"
                    " apply: to give it to the included tasks",
                )
            self._only({name: None}, INCLUDE_KEYWORDS | {key}, at, where)

    def _include_args(
        self,
        entry: Mapping[str, Any],
        key: str,
        pos: Position,
        where: str,
        valid: frozenset[str],
        free_form: str,
    ) -> dict[str, Any]:
        """An include's arguments: args: under the action's own (as ModuleArgsParser merges
        them), a string being the file (role) name; unknown ones refused."""
        out: dict[str, Any] = {}
        extra = entry.get("args")
        if extra is not None:
            if not isinstance(extra, dict):
                raise PlaybookError(f"{where}: args: must be a mapping", position=pos)
            out.update(extra)
        value = entry[key]
        if isinstance(value, dict):
            out.update(value)
        elif value is not None:
            out[free_form] = value
        bad = sorted(str(k) for k in out if k not in valid)
        if bad:
            raise PlaybookError(
                f"{where}: invalid options for {key}: {', '.join(bad)}"
                f"{did_you_mean(bad[0], valid - {'_raw_params'})}",
                position=position_of(entry, key) or pos,
            )
        apply = out.get("apply")
        if apply is not None and not isinstance(apply, dict):
            raise PlaybookError(
                f"{where}: apply must be a mapping of keywords, got"
                f" {'a list' if isinstance(apply, list) else type(apply).__name__}",
                position=position_of(entry, key) or pos,
            )
        return out

    def include_tasks(self, entry: dict[str, Any], key: str, pos: Position, ctx: _Ctx) -> Task:
        where = self._where(entry, ctx, "include_tasks")
        self._include_keywords(entry, key, pos, where)
        spec = self._include_args(entry, key, pos, where, INCLUDE_TASKS_ARGS, "_raw_params")
        name = spec.get("_raw_params") or spec.get("file")
        if not isinstance(name, str) or not name:
            raise PlaybookError(f"{where}: {key} needs a file name", position=pos)
        apply = spec.get("apply")
        own = self._coerce(TASK_FIELDS, entry, pos, where)
        own.pop("name", None)
        values = combine(TASK_FIELDS, ctx.inherited, own)
        child = self._apply(apply, pos, where, ctx, own)
        task = Task(
            name=entry.get("name") or f"include_tasks: {name}",
            module="include_tasks",
            pos=pos,
            play=ctx.play,
            role=ctx.role,
            frames=ctx.frames,
            known=ctx.known,
            include=Include("tasks", name, chain=ctx.chain),
            **values,
        )
        known = ctx.known | _loop_names(task)
        preloaded: tuple[Task, ...] | None = None
        if not is_template(name):
            file = self._find_tasks_file(name, ctx)
            if file is None:
                raise PlaybookError(f"{where}: {name} not found (beside {ctx.path})", position=pos)
            sub = replace(ctx, inherited=child, known=known)
            preloaded = tuple(self.task_file(file, sub, pos))
        include = Include(
            "tasks", name, tasks=preloaded, chain=ctx.chain, collections=ctx.collections
        )
        return replace(task, include=include, known=known)

    def _apply(
        self, apply: Any, pos: Position, where: str, ctx: _Ctx, own: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What an include's children inherit: the block context, apply: and the include's vars."""
        base = {k: v for k, v in ctx.inherited.items() if k != "when"}
        applied: dict[str, Any] = {}
        if apply is not None:
            if not isinstance(apply, dict):
                raise PlaybookError(f"{where}: apply must be a mapping of keywords", position=pos)
            self._only(apply, BLOCK_KEYWORDS - STRUCTURE_KEYS, pos, f"{where}: apply")
            applied = self._coerce(BLOCK_FIELDS, apply, pos, where)
        child = combine(TASK_FIELDS, base, applied)
        if own.get("vars"):
            child = combine(TASK_FIELDS, child, {"vars": own["vars"]})
        return child

    def include_vars(self, entry: dict[str, Any], key: str, pos: Position, ctx: _Ctx) -> Task:
        where = self._where(entry, ctx, "include_vars")
        self._only(entry, TASK_KEYWORDS | {key}, pos, where)
        value = entry[key]
        args: dict[str, Any] = {}
        if isinstance(value, str):
            args["file"] = value
        elif isinstance(value, dict):
            self._only(value, INCLUDE_VARS_ARGS, pos, where)
            args = {("file" if k == "_raw_params" else k): v for k, v in value.items()}
        if not args.get("file") and not args.get("dir"):
            raise PlaybookError(f"{where}: include_vars needs a file or dir", position=pos)
        own = self._coerce(TASK_FIELDS, entry, pos, where)
        own.pop("name", None)
        values = combine(TASK_FIELDS, ctx.inherited, own)
        shown = args.get("file") or args.get("dir")
        return Task(
            name=entry.get("name") or f"include_vars: {shown}",
            module="include_vars",
            args=MappingProxyType({**args, "_base": str(ctx.base)}),
            pos=pos,
            play=ctx.play,
            role=ctx.role,
            frames=ctx.frames,
            known=ctx.known,
            **values,
        )

    # roles --------------------------------------------------------------------------

    def play_role(self, spec: Any, pos: Position, ctx: _Ctx) -> list[Task]:
        """One entry of a play's roles: (a name, or a mapping with role: and keywords)."""
        at = position_of(spec) or pos
        if isinstance(spec, str):
            return self.apply_role(spec, {}, {}, at, ctx, dedup=True, expose=True)[0]
        if not isinstance(spec, dict) or not isinstance(spec.get("role", spec.get("name")), str):
            raise PlaybookError(
                f"play '{ctx.play}': a roles: entry is a name or a mapping with role:",
                position=at,
            )
        name = str(spec.get("role", spec.get("name")))
        own, params = self._role_entry(spec, at, f"play '{ctx.play}', role '{name}'")
        return self.apply_role(name, own, params, at, ctx, dedup=True, expose=True)[0]

    def _role_entry(
        self, spec: dict[str, Any], at: Position, where: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A roles: entry or dependency split as Ansible splits it: its keywords
        (coerced), and every other key as a role parameter. A keyword Ansible takes
        there that fleetkit does not implement is refused, never made a parameter."""
        for key in spec:
            if key in ROLE_ENTRY_KEYWORDS and key not in BLOCK_KEYWORDS | {"role"}:
                instead = INVENTORY_INSTEAD.get(key)
                hint = f"set the host variable {instead} instead" if instead else "remove it"
                raise PlaybookError(
                    f"{where}: '{key}' on a role entry is an Ansible keyword (not a role"
                    f" parameter) that fleetkit does not implement there: {hint}, or pass"
                    " the role a parameter under another name",
                    position=position_of(spec, key) or at,
                )
        keywords = {k: v for k, v in spec.items() if k in BLOCK_KEYWORDS - STRUCTURE_KEYS}
        keywords.pop("name", None)
        own = self._coerce(BLOCK_FIELDS, keywords, at, where)
        params = {k: v for k, v in spec.items() if k not in ROLE_ENTRY_KEYWORDS}
        return own, params

    def role_task(
        self, entry: dict[str, Any], key: str, pos: Position, ctx: _Ctx, *, static: bool
    ) -> list[Task]:
        """import_role (static: expanded here) or include_role (dynamic: a task)."""
        what = "import_role" if static else "include_role"
        where = self._where(entry, ctx, what)
        if static:
            self._only(entry, TASK_KEYWORDS | {key}, pos, where)
        else:
            self._include_keywords(entry, key, pos, where)
        if not isinstance(entry[key], (dict, str)):
            raise PlaybookError(f"{where}: {what} needs name: (the role)", position=pos)
        spec = self._include_args(entry, key, pos, where, ROLE_ARGS | {"role"}, "name")
        if "name" not in spec and "role" in spec:
            spec["name"] = spec.pop("role")
        if not isinstance(spec.get("name"), str):
            raise PlaybookError(f"{where}: {what} needs name: (the role)", position=pos)
        if static and spec.get("apply"):
            raise PlaybookError(
                f"{where}: apply is only valid for include_role (import_role's tasks inherit"
                " its keywords directly)",
                position=position_of(entry, key) or pos,
            )
        role = spec["name"]
        if is_template(role):
            raise PlaybookError(
                f"{where}: a templated role name is not supported: name the role", position=pos
            )
        froms: dict[str, Any] = {
            k: spec.get(k) for k in ("tasks_from", "vars_from", "defaults_from", "handlers_from")
        }
        public = kw.as_bool(spec, "public", pos)
        validate = kw.as_bool(spec, "rolespec_validate", pos) is not False
        if static:
            own = self._coerce(BLOCK_FIELDS, entry, pos, where)
            own.pop("name", None)
            return self.apply_role(
                role, own, {}, pos, ctx, expose=True, validate=validate, **froms
            )[0]
        own = self._coerce(TASK_FIELDS, entry, pos, where)
        own.pop("name", None)
        values = combine(TASK_FIELDS, ctx.inherited, own)
        child_ctx = replace(ctx, inherited=self._apply(spec.get("apply"), pos, where, ctx, own))
        task = Task(
            name=entry.get("name") or f"include_role: {role}",
            module="include_role",
            pos=pos,
            play=ctx.play,
            role=ctx.role,
            frames=ctx.frames,
            known=ctx.known,
            **values,
        )
        child_ctx = replace(child_ctx, known=ctx.known | _loop_names(task))
        tasks, _ = self.apply_role(
            role, {}, {}, pos, child_ctx, expose=bool(public), validate=validate, **froms
        )
        include = Include("role", role, tasks=tuple(tasks), chain=ctx.chain)
        return [replace(task, include=include, known=child_ctx.known)]

    def apply_role(
        self,
        name: str,
        own: Mapping[str, Any],
        params: Mapping[str, Any],
        pos: Position,
        ctx: _Ctx,
        *,
        dedup: bool = False,
        expose: bool = False,
        validate: bool = True,
        tasks_from: Any = None,
        vars_from: Any = None,
        defaults_from: Any = None,
        handlers_from: Any = None,
        basedir: Path | None = None,
    ) -> tuple[list[Task], Role]:
        """A role's tasks (its dependencies' first), registering its handlers and variables.

        Found by name among the collections ctx searches, then in the roles path (basedir:
        the folder of the role that depends on it); its own tasks search its collection
        and its meta's collections, not the play's (as Ansible).
        """
        found = find_role(
            name,
            ctx.playbook_dir,
            self.roles_path,
            pos,
            collections=self.collections,
            collection_list=ctx.collections,
            basedir=basedir,
        )
        meta = found.meta()
        searched = _role_collections(found, meta, pos)
        allow = kw.as_bool(meta, "allow_duplicates", pos) or False
        key = f"{found.path}|{tasks_from}|{sorted(params.items())!r}|{sorted(own.items())!r}"
        if str(found.path) in ctx.chain:
            shown = " -> ".join(Path(p).name for p in (*ctx.chain, str(found.path)))
            raise PlaybookError(f"role dependency loop: {shown}", position=pos)
        if dedup and not allow and key in self.seen_roles:
            return [], self.seen_roles[key]
        inherited = combine(TASK_FIELDS, ctx.inherited, own)
        if params:
            inherited = combine(TASK_FIELDS, inherited, {"vars": MappingProxyType(dict(params))})
        chain = (*ctx.chain, str(found.path))
        out: list[Task] = []
        dep_vars: dict[str, Any] = {}
        dep_defaults: dict[str, Any] = {}
        for dep in _dependencies(found, meta, pos):
            dep_name, dep_own, dep_params, dep_pos = self._dep(dep, found, pos, ctx)
            dep_ctx = replace(ctx, inherited=inherited, chain=chain, collections=searched)
            tasks, dep_role = self.apply_role(
                dep_name,
                dep_own,
                dep_params,
                dep_pos,
                dep_ctx,
                dedup=True,
                expose=expose,
                basedir=found.path.parent,
            )
            out += tasks
            dep_vars.update(dep_role.vars)
            dep_defaults.update(dep_role.defaults)
        role = Role(
            name=found.name,
            path=found.path,
            vars=MappingProxyType({**dep_vars, **found.vars_file("vars", _opt(vars_from), pos)}),
            defaults=MappingProxyType(
                {**dep_defaults, **found.vars_file("defaults", _opt(defaults_from), pos)}
            ),
            collection=found.collection,
        )
        if expose:
            self.role_defaults.update(role.defaults)
            self.role_vars.update(role.vars)
        if dedup:  # only roles: entries and dependencies count (Ansible's role cache)
            self.seen_roles[key] = role
        sub = replace(
            ctx,
            inherited=inherited,
            role=role,
            chain=chain,
            known=ctx.known | ROLE_NAMES,
            base=found.path / "tasks",
            collections=searched,
        )
        tasks_file = found.file("tasks", _opt(tasks_from))
        if tasks_from is not None and tasks_file is None:
            raise PlaybookError(
                f"role '{found.name}': tasks/{tasks_from} not found in {found.path}", position=pos
            )
        check = validation_entry(found, meta, _opt(tasks_from), params, pos) if validate else None
        if check is not None:
            out.append(self.task(check[0], check[1], sub))
        if tasks_file is not None:
            out += self.task_file(tasks_file, sub, pos)
        handlers_file = found.file("handlers", _opt(handlers_from))
        if handlers_file is not None and str(handlers_file) not in self.handler_files:
            self.handler_files.add(str(handlers_file))
            for h in self.task_file(handlers_file, replace(sub, handler=True), pos):
                if isinstance(h, Handler):
                    aliases = dict.fromkeys(
                        (f"{found.name} : {h.name}", f"{found.fqcn} : {h.name}")
                    )
                    self.handlers.append(replace(h, listen=(*h.listen, *aliases)))
        return out, role

    def _dep(
        self, dep: Any, parent: RoleDir, pos: Position, ctx: _Ctx
    ) -> tuple[str, dict[str, Any], dict[str, Any], Position]:
        at = position_of(dep) or pos
        if isinstance(dep, str):
            return dep, {}, {}, at
        if isinstance(dep, dict) and isinstance(dep.get("role", dep.get("name")), str):
            name = str(dep.get("role", dep.get("name")))
            own, params = self._role_entry(dep, at, f"role '{parent.name}' dependency")
            return name, own, params, at
        raise PlaybookError(
            f"role '{parent.name}': a dependency is a role name or a mapping with role:",
            position=at,
        )

    # module tasks -------------------------------------------------------------------

    def task(self, entry: dict[str, Any], pos: Position, ctx: _Ctx) -> Task:
        handler = ctx.handler
        where = self._where(entry, ctx)
        raw_name = entry.get("name")
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
            if find(self._target(key, ctx), self.roots) is not None:
                modules.append(key)
                continue
            candidates = keywords | set(MODULES) | set(ACTIONS)
            close = suggest_module(key, self.roots) if "." in key else None
            raise PlaybookError(
                f"{where}: unknown task keyword or module '{key}'{suggestion_tail(close)}"
                if close
                else f"{where}: {unknown(key, candidates, 'task keyword or module')}",
                position=key_pos,
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
        target = self._target(module_key, ctx)
        module_name = task_module_name(target, self.roots)
        module = find(target, self.roots)
        assert module is not None
        args = self._args(entry, module_key, module, where, pos)
        via_ansible = False
        ansible = self._ansible_instead(target, module, args)
        if ansible is not None:
            module, module_name, via_ansible = ansible, ansible.name, True
        hidden = _hides_args(entry.get("no_log", ctx.inherited.get("no_log")))
        name = (
            raw_name
            if isinstance(raw_name, str) and raw_name
            else _default_name(module_name, module, args, hidden=hidden)
        )
        role = f"role '{ctx.role.name}', " if ctx.role else ""
        where = f"play '{ctx.play}', {role}{'handler' if handler else 'task'} '{name}'"
        errors = validate_static(module, args, contains_template)
        errors += [] if via_ansible else self._needs_ansible(target, module, args)
        if errors:
            raise PlaybookError(
                f"{where}: {errors[0]}{self._ansible_hint(target, module, args)}",
                position=position_of(entry, module_key) or pos,
            )
        table = HANDLER_FIELDS if handler else TASK_FIELDS
        own = self._coerce(table, entry, pos, where)
        own.pop("name", None)
        values = combine(table, ctx.inherited, own)
        common: dict[str, Any] = {
            "module": module_name,
            "args": MappingProxyType(args),
            "pos": pos,
            "play": ctx.play,
            "frames": ctx.frames,
            "role": ctx.role,
            "known": ctx.known,
            **values,
            "name": name,
            "given_name": raw_name if isinstance(raw_name, str) else "",
            "via_ansible": via_ansible,
        }
        if handler:
            return Handler(**common)
        common.pop("listen", None)
        return Task(**common)

    def _ansible_instead(
        self, target: str, module: Module, args: Mapping[str, Any]
    ) -> Module | None:
        """Ansible's module for a task whose native module lacks an option it gives, when
        this controller runs Ansible's and that one documents every option given (a typo
        stays a load error with its suggestion)."""
        unknown = unknown_names(module, args)
        forced = any(_true_or_template(args.get(a)) for a in module.ansible_when_true)
        if not unknown and not forced:
            return None
        from fleetkit.modules.ansible_fallback.doc import option_names
        from fleetkit.modules.ansible_fallback.resolve import resolve
        from fleetkit.modules.ansible_fallback.run import AnsibleModule

        resolution = resolve(target, self.roots)
        if resolution is None or not resolution.runnable:
            return None
        options = option_names(resolution)
        if options is None or not all(str(k) in options for k in args):
            return None
        if resolution.needs_true and not any(
            _true_or_template(args.get(a)) for a in resolution.needs_true
        ):
            return None  # Ansible's action plugin would run: fleetkit's own module stays
        return AnsibleModule(resolution)

    def _needs_ansible(self, target: str, module: Module, args: Mapping[str, Any]) -> list[str]:
        """A native task whose literal argument hands it to Ansible's module (copy's
        remote_src: true) when this controller cannot run that module: why, at load."""
        given = [a for a in module.ansible_when_true if _true_or_template(args.get(a))]
        if not given or any(contains_template(args.get(a)) for a in given):
            return []
        from fleetkit.modules.ansible_fallback.resolve import resolve

        resolution = resolve(target, self.roots)
        if resolution is not None and resolution.problem is None:
            return []  # runnable: the loader's other errors say why it was not routed
        problem = resolution.problem if resolution is not None else "it is not installed"
        return [f"module {module.name}: {given[0]}: true runs Ansible's module, and {problem}"]

    def _ansible_hint(self, target: str, module: Module, args: Mapping[str, Any]) -> str:
        """What would run a native module's task with an option fleetkit lacks: Ansible's
        module, when ansible-core or its collection is what is missing."""
        if not unknown_names(module, args):
            return ""
        from fleetkit.modules.ansible_fallback.resolve import resolve

        resolution = resolve(target, self.roots)
        if resolution is None or resolution.problem is None or resolution.path is not None:
            return ""
        return (
            f"; if Ansible's {resolution.fqcn} takes it, fleetkit runs the task through that"
            f" module once this is fixed: {resolution.problem}"
        )

    def _target(self, key: str, ctx: _Ctx) -> str:
        """The module a task key names under ctx's `collections:` (the first listed collection
        that has it, before ansible.builtin/legacy), else the key itself."""
        if not ctx.collections:
            return key
        return self.collections.resolve_module(key, ctx.collections) or key

    def _args(
        self, entry: dict[str, Any], key: str, module: Module, where: str, pos: Position
    ) -> dict[str, Any]:
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


_PLAY_SCALARS = {
    k: v
    for k, v in kw.keywords_of(Play).items()
    if k not in ("name", "hosts", "tasks", "handlers", "vars_files")
}


def _action(key: Any) -> str | None:
    if not isinstance(key, str):
        return None
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key if key in ACTIONS else None


def _loop_names(task: Task) -> frozenset[str]:
    if task.loop is None:
        return frozenset()
    names = {task.loop_var, "ansible_loop_var"}
    if task.index_var:
        names.add("ansible_index_var")
    if task.loop_extended:
        names.add("ansible_loop")
    if task.index_var:
        names.add(task.index_var)
    return frozenset(names)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _role_collections(found: RoleDir, meta: Mapping[str, Any], pos: Position) -> tuple[str, ...]:
    """What a role's tasks search for short names: its own collection, then its meta's
    `collections:`, then ansible.builtin (a collection's role) or ansible.legacy."""
    names = [found.collection] if found.collection else []
    try:
        listed = kw.as_names(meta, "collections", pos)
    except PlaybookError as err:
        raise PlaybookError(f"role '{found.name}': {err.message}", position=err.position) from None
    names += [c for c in listed if c not in names]
    if names and not BUILTIN & set(names):
        names.append("ansible.builtin" if found.collection else "ansible.legacy")
    return tuple(names)


def _dependencies(found: RoleDir, meta: Mapping[str, Any], pos: Position) -> list[Any]:
    deps = meta.get("dependencies") or []
    if not isinstance(deps, list):
        raise PlaybookError(
            f"role '{found.name}': meta dependencies must be a list of roles",
            position=position_of(meta, "dependencies") or pos,
        )
    return deps


def _task_list(entry: Mapping[str, Any], key: str, pos: Position) -> list[Any]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PlaybookError(f"{key} must be a list", position=position_of(entry, key) or pos)
    return value


def _hides_args(no_log: Any) -> bool:
    """no_log as written or inherited: anything but a plain false value (a template too)."""
    return truthy(no_log)


def _default_name(
    label: str, module: Module, args: Mapping[str, Any], *, hidden: bool = False
) -> str:
    """A task's display name when it has none: the module and its main argument.

    A no_log task is named after its module only, and a secret argument
    (`Arg(secret=True)`) never names a task: names are shown in every output.
    """
    if hidden:
        return label
    shown, _ = canonical(module, args)
    shown = {k: v for k, v in shown.items() if k not in module.args or not module.args[k].secret}
    main = (
        shown.get("cmd")
        or shown.get("msg")
        or shown.get("name")
        or shown.get("dest")
        or shown.get("path")
    )
    if main is None and shown:
        main = next(iter(shown.values()))
    text = f"{label}: {main}" if main is not None else label
    text = mask_userinfo(" ".join(str(text).split()))
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


def _true_or_template(value: Any) -> bool:
    """A literal true (Ansible's booleans), or a template decided at run time."""
    if contains_template(value):
        return True
    try:
        return to_bool(value)
    except ValueError:
        return False
