"""Typed, frozen playbook values: Playbook -> Play -> Task/Handler, each with its position.

Values keep their templates unrendered (rendering is per host, at execution);
loading has already checked their shape, keywords, modules and arguments. Each
keyword is declared once, as a field with a keywords.Keyword (coercer,
inheritance); blocks, roles and imports are flattened into tasks that carry
their enclosing blocks (`frames`) and their role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from fleetkit.errors import Position
from fleetkit.playbook import keywords as kw
from fleetkit.playbook.keywords import keyword

EMPTY: Mapping[str, Any] = MappingProxyType({})

Section = Literal["block", "rescue", "always"]


@dataclass(frozen=True)
class Frame:
    """One block around a task: which block, which of its sections, what it has."""

    block: int
    section: Section
    rescue: bool = False
    always: bool = False


@dataclass(frozen=True)
class Role:
    """A role as its tasks see it: where it lives and its vars and defaults."""

    name: str
    path: Path
    vars: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    defaults: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    collection: str | None = None
    """The collection a role comes from (`ns.coll`), None for a role of a roles path."""

    @property
    def fqcn(self) -> str:
        """ns.coll.role for a collection's role, else its name."""
        return f"{self.collection}.{self.name}" if self.collection else self.name

    @property
    def magic(self) -> Mapping[str, Any]:
        """role_path, role_name, ansible_role_name (the FQCN for a collection's role) and
        ansible_collection_name (None outside a collection), as Ansible sets them."""
        return {
            "role_path": str(self.path),
            "role_name": self.name,
            "ansible_role_name": self.fqcn,
            "ansible_collection_name": self.collection,
        }


@dataclass(frozen=True)
class Include:
    """A dynamic include (include_tasks, include_role): what to load per host at run time.

    `tasks` is the file's tasks loaded ahead (static file name) for validation
    and reuse; `file` is a template rendered per host when the name is not static.
    """

    kind: Literal["tasks", "role"]
    file: str
    tasks: tuple[Task, ...] | None = None
    handlers: tuple[Handler, ...] = ()
    chain: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    """The `collections:` search list the include's file is read with (a run-time load)."""


@dataclass(frozen=True)
class Task:
    """One task: a module with raw (unrendered) arguments and its keywords."""

    name: str = keyword(kw.as_str, default="")
    module: str = ""
    args: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    pos: Position = field(default_factory=lambda: Position(Path(".")))
    play: str = ""
    when: tuple[Any, ...] = keyword(kw.as_when, default=(), inherit="and", block=True)
    loop: Any = keyword(kw.as_loop, keys=kw.LOOP_KEYS)  # noqa: RUF009
    loop_with: str = keyword(kw.as_loop_with, default="", keys=kw.LOOP_KEYS)
    """The lookup of a with_<name>: loop ('items', 'dict', ...); '' for loop:."""
    loop_var: str = keyword(kw.as_loop_var, default="item", keys=("loop_control", "loop_var"))
    index_var: str | None = keyword(kw.as_index_var, keys=("loop_control",))
    loop_label: Any = keyword(kw.as_label, keys=("loop_control",))  # noqa: RUF009
    loop_pause: float = keyword(kw.as_pause, default=0.0, keys=("loop_control",))
    loop_extended: bool = keyword(kw.as_extended, default=False, keys=("loop_control",))
    loop_allitems: bool = keyword(kw.as_extended_allitems, default=True, keys=("loop_control",))
    register: str | None = keyword(kw.as_identifier)
    changed_when: tuple[Any, ...] | None = keyword(kw.as_conditions)
    failed_when: tuple[Any, ...] | None = keyword(kw.as_conditions)
    ignore_errors: Any = keyword(  # noqa: RUF009
        kw.as_bool_or_template, default=False, inherit="override", block=True
    )
    retries: int | None = keyword(kw.as_int)
    delay: float = keyword(kw.as_delay, default=kw.DEFAULT_DELAY)
    until: tuple[Any, ...] | None = keyword(kw.as_conditions)
    timeout: float | None = keyword(kw.as_float, inherit="override", block=True)
    become: bool | None = keyword(kw.as_bool, inherit="override", block=True)
    become_user: str | None = keyword(kw.as_str, inherit="override", block=True)
    tags: frozenset[str] = keyword(kw.as_tags, default=frozenset(), inherit="union", block=True)
    notify: tuple[str, ...] = keyword(kw.as_names, default=())
    no_log: bool = keyword(kw.as_flag, default=False, inherit="override", block=True)
    delegate_to: str | None = keyword(kw.as_str, inherit="override", block=True)
    run_once: bool = keyword(kw.as_flag, default=False, inherit="override", block=True)
    vars: Mapping[str, Any] = keyword(
        kw.as_mapping, factory=lambda: EMPTY, inherit="merge", block=True
    )
    check_mode: bool | None = keyword(kw.as_bool, inherit="override", block=True)
    diff: bool | None = keyword(kw.as_bool, inherit="override", block=True)
    throttle: int | None = keyword(kw.as_positive, inherit="override", block=True)
    delegate_facts: bool = keyword(kw.as_flag, default=False, inherit="override", block=True)
    environment: Mapping[str, Any] = keyword(
        kw.as_mapping, factory=lambda: EMPTY, inherit="merge", block=True
    )
    frames: tuple[Frame, ...] = ()
    role: Role | None = None
    include: Include | None = None
    known: frozenset[str] = frozenset()
    """Names the task's context defines at run time (include loop vars, ansible_failed_*)."""
    given_name: str = ""
    """The name the playbook gave ('' when `name` is fleetkit's default, as Ansible's
    task name is then; ansible_failed_task.name shows it)."""
    via_ansible: bool = False
    """Ansible's module runs it although fleetkit has its own: the task gives an option
    only Ansible's takes (`module` is then Ansible's FQCN)."""

    @property
    def where(self) -> str:
        """ "play 'P', task 'T'" (with the role) for messages."""
        role = f"role '{self.role.name}', " if self.role else ""
        return f"play '{self.play}', {role}task '{self.name}'"


@dataclass(frozen=True)
class Handler(Task):
    """A task that runs at the end of a play (or at flush_handlers) when notified."""

    listen: tuple[str, ...] = keyword(kw.as_names, default=())

    @property
    def where(self) -> str:
        role = f"role '{self.role.name}', " if self.role else ""
        return f"play '{self.play}', {role}handler '{self.name}'"

    def answers(self, topic: str) -> bool:
        return topic == self.name or topic in self.listen


@dataclass(frozen=True)
class Play:
    """One play: which hosts, its variables, how to batch them, what to run."""

    name: str = keyword(kw.as_str, default="")
    hosts: str = keyword(kw.as_raw, default="")
    pos: Position = field(default_factory=lambda: Position(Path(".")))
    path: Path = Path(".")
    vars: Mapping[str, Any] = keyword(kw.as_mapping, factory=lambda: EMPTY)
    vars_files: Mapping[str, Any] = keyword(kw.as_raw, factory=lambda: EMPTY)
    become: bool | None = keyword(kw.as_bool)
    become_user: str | None = keyword(kw.as_str)
    serial: tuple[int | str, ...] = keyword(kw.as_serial, default=())
    max_fail_percentage: float | None = keyword(kw.as_float)
    any_errors_fatal: bool = keyword(kw.as_flag, default=False)
    gather_facts: bool | None = keyword(kw.as_bool)
    gather_subset: tuple[str, ...] = keyword(kw.as_names, default=())
    """The implicit gathering's gather_subset, as for setup (empty: Ansible's 'all')."""
    gather_timeout: int | None = keyword(kw.as_int)
    fact_path: str | None = keyword(kw.as_str)
    order: str = keyword(kw.as_order, default="inventory")
    tasks: tuple[Task, ...] = keyword(
        kw.as_raw, default=(), keys=("pre_tasks", "tasks", "post_tasks", "roles")
    )
    handlers: tuple[Handler, ...] = keyword(kw.as_raw, default=())
    tags: frozenset[str] = keyword(kw.as_tags, default=frozenset())
    environment: Mapping[str, Any] = keyword(kw.as_mapping, factory=lambda: EMPTY)
    timeout: float | None = keyword(kw.as_float)
    collections: tuple[str, ...] = keyword(kw.as_names, default=())
    """Collections searched for short module and role names (ansible.legacy appended)."""
    role_vars: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    """vars/ of the play's roles (roles:, import_role), exposed to the whole play."""
    role_defaults: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    """defaults/ of the play's roles: the lowest layer, below inventory."""
    roles_path: tuple[Path, ...] = ()
    """Where the play's roles were searched (for an include read at run time)."""
    collection_roots: tuple[Path, ...] = ()
    """Folders holding the collections the play could use (fleetkit/galaxy/search.py)."""

    @property
    def directory(self) -> Path:
        """The directory of the playbook file this play was written in."""
        return self.path.parent


@dataclass(frozen=True)
class Playbook:
    """A loaded playbook: its plays in order, imports already expanded."""

    path: Path
    plays: tuple[Play, ...]

    @property
    def name(self) -> str:
        """The playbook's name for retry files and metrics (file name without .yml)."""
        return self.path.stem


TASK_FIELDS = kw.keywords_of(Task)
HANDLER_FIELDS = kw.keywords_of(Handler)
PLAY_FIELDS = kw.keywords_of(Play)
BLOCK_FIELDS = {name: k for name, k in TASK_FIELDS.items() if k.block}

STRUCTURE_KEYS = frozenset({"block", "rescue", "always"})
TASK_KEYWORDS: frozenset[str] = kw.yaml_keys(TASK_FIELDS) | {"args"}
HANDLER_KEYWORDS: frozenset[str] = kw.yaml_keys(HANDLER_FIELDS) | {"args"}
BLOCK_KEYWORDS: frozenset[str] = kw.yaml_keys(BLOCK_FIELDS) | STRUCTURE_KEYS | {"name"}
PLAY_KEYWORDS: frozenset[str] = kw.yaml_keys(PLAY_FIELDS)
ROLE_ENTRY_KEYWORDS: frozenset[str] = frozenset(
    {
        *("any_errors_fatal", "become", "become_exe", "become_flags", "become_method"),
        *("become_user", "check_mode", "collections", "connection", "debugger"),
        *("delegate_facts", "delegate_to", "diff", "environment", "ignore_errors"),
        *("ignore_unreachable", "module_defaults", "name", "no_log", "port", "remote_user"),
        *("role", "run_once", "tags", "throttle", "timeout", "vars", "when"),
    }
)
"""The keys of a roles: entry (or a meta dependency) that ansible-core 2.19 takes as
keywords (RoleInclude's attributes), not as role parameters."""
