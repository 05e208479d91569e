"""Typed, frozen playbook values: Playbook -> Play -> Task/Handler, each with its position.

Values keep their templates unrendered (rendering is per host, at execution);
loading has already checked their shape, keywords, modules and arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetkit.errors import Position

EMPTY: Mapping[str, Any] = MappingProxyType({})

TASK_KEYWORDS: frozenset[str] = frozenset(
    {
        "name",
        "args",
        "when",
        "loop",
        "with_items",
        "with_list",
        "loop_control",
        "loop_var",
        "register",
        "changed_when",
        "failed_when",
        "ignore_errors",
        "retries",
        "delay",
        "until",
        "timeout",
        "become",
        "become_user",
        "tags",
        "notify",
        "no_log",
        "delegate_to",
        "run_once",
        "vars",
        "check_mode",
        "environment",
    }
)
HANDLER_KEYWORDS: frozenset[str] = TASK_KEYWORDS | {"listen"}

PLAY_KEYWORDS: frozenset[str] = frozenset(
    {
        "name",
        "hosts",
        "vars",
        "vars_files",
        "become",
        "become_user",
        "serial",
        "max_fail_percentage",
        "any_errors_fatal",
        "gather_facts",
        "pre_tasks",
        "tasks",
        "post_tasks",
        "handlers",
        "tags",
        "environment",
        "timeout",
    }
)


@dataclass(frozen=True)
class Task:
    """One task: a module with raw (unrendered) arguments and its keywords."""

    name: str
    module: str
    args: Mapping[str, Any]
    pos: Position
    play: str = ""
    when: tuple[Any, ...] = ()
    loop: Any = None
    loop_var: str = "item"
    index_var: str | None = None
    register: str | None = None
    changed_when: tuple[Any, ...] | None = None
    failed_when: tuple[Any, ...] | None = None
    ignore_errors: Any = False
    retries: int | None = None
    delay: float = 5.0
    until: tuple[Any, ...] | None = None
    timeout: float | None = None
    become: bool | None = None
    become_user: str | None = None
    tags: frozenset[str] = frozenset()
    notify: tuple[str, ...] = ()
    no_log: bool = False
    delegate_to: str | None = None
    run_once: bool = False
    vars: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    check_mode: bool | None = None
    environment: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @property
    def where(self) -> str:
        """ "play 'P', task 'T'" for messages."""
        return f"play '{self.play}', task '{self.name}'"


@dataclass(frozen=True)
class Handler(Task):
    """A task that runs at the end of a play (or at flush_handlers) when notified."""

    listen: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"play '{self.play}', handler '{self.name}'"

    def answers(self, topic: str) -> bool:
        return topic == self.name or topic in self.listen


@dataclass(frozen=True)
class Play:
    """One play: which hosts, its variables, how to batch them, what to run."""

    name: str
    hosts: str
    pos: Position
    path: Path
    vars: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    vars_files: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    become: bool | None = None
    become_user: str | None = None
    serial: tuple[int | str, ...] = ()
    max_fail_percentage: float | None = None
    any_errors_fatal: bool = False
    gather_facts: bool | None = None
    tasks: tuple[Task, ...] = ()
    handlers: tuple[Handler, ...] = ()
    tags: frozenset[str] = frozenset()
    environment: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    timeout: float | None = None

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
