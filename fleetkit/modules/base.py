"""The small typed base every module builds on: declared arguments, a context, a result.

A module declares its arguments (type, required, choices, aliases) so a playbook
is validated before any host is touched, says whether it can predict its change
in check mode, and computes `changed` by comparing the wanted state with the
host's state. Modules never raise for a host's failure: they return it.
"""

from __future__ import annotations

import base64
import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from fleetkit.connection.base import CommandResult, Connection, become_wrap
from fleetkit.modules.template_vars import ANSIBLE_MANAGED

if TYPE_CHECKING:
    from fleetkit.orchestrators.factory import EngineOpener

ArgType = Literal["str", "int", "float", "bool", "list", "dict", "raw", "path", "mode"]

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Arg:
    """One declared module argument."""

    type: ArgType = "str"
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    aliases: tuple[str, ...] = ()
    secret: bool = False


@dataclass(frozen=True)
class ModuleResult:
    """What a module did (or, in check mode, would do) on one host."""

    changed: bool = False
    failed: bool = False
    skipped: bool = False
    msg: str = ""
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    diff: str = ""
    data: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    facts: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    registered: Mapping[str, Any] | None = None
    """The whole value `register:` stores, when the module knows it exactly (Ansible's
    modules run through the fallback); None: built from the fields above."""


def fail(msg: str, **kw: Any) -> ModuleResult:
    """A failed result with a message."""
    return ModuleResult(failed=True, msg=msg, **kw)


def from_command(res: CommandResult, *, changed: bool = True, msg: str = "") -> ModuleResult:
    """A result mirroring a command: failed on non-zero rc or timeout, changed either
    way (Ansible's command, shell and script report a failed run as changed)."""
    failed = not res.ok
    if res.timed_out:
        msg = msg or "command timed out"
    elif failed and not msg:
        msg = f"non-zero return code {res.rc}"
    return ModuleResult(
        changed=changed,
        failed=failed,
        msg=msg,
        rc=res.rc,
        stdout=res.stdout,
        stderr=res.stderr,
    )


ENV_LINE = 'IFS= read -r FLEETKIT_ENV && eval "$(printf %s "$FLEETKIT_ENV" | base64 -d)"'
"""Reads the environment's one line of stdin (the shell's `read` takes no byte past the
newline), decodes it and exports it, with builtins only: no value reaches an argv."""


def with_environment(
    command: str, environment: Mapping[str, str], stdin: bytes | None
) -> tuple[str, bytes]:
    """command and stdin that export environment first, then run command with the rest
    of stdin as its own (empty when it had none)."""
    exports = "".join(
        f"export {k}={shlex.quote(str(v))}\n" for k, v in environment.items()
    ).encode()
    line = base64.b64encode(exports + b"unset FLEETKIT_ENV\n") + b"\n"
    return f"{ENV_LINE} || exit 125\n{command}", line + (stdin or b"")


class Templar(Protocol):
    """The rendering services a module may use (implemented by playbook.render)."""

    def render(self, value: Any, variables: Mapping[str, Any]) -> Any: ...

    def evaluate(self, expression: str, variables: Mapping[str, Any]) -> Any: ...

    def render_file(
        self, name: str, variables: Mapping[str, Any], *, syntax: Mapping[str, Any] | None = None
    ) -> str: ...

    def find_template(self, name: str) -> Path: ...


@dataclass(frozen=True)
class ModuleContext:
    """Everything one module call needs: the host's connection, arguments, modes."""

    host: str
    conn: Connection
    args: Mapping[str, Any]
    variables: Mapping[str, Any]
    templar: Templar
    check: bool = False
    diff: bool = False
    become: bool = False
    become_user: str | None = None
    timeout: float | None = None
    playbook_dir: Path = Path(".")
    sleep: Callable[[float], None] | None = None
    environment: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    no_log: bool = False
    docker_engine: EngineOpener | None = None
    """The run's injected Docker engine opener (None: the host's engine over SSH)."""
    allow_broken_conditionals: bool = False
    """ansible.cfg's allow_broken_conditionals: a non-boolean assertion is taken as bool()."""
    interpreter_python: str | None = None
    """ansible.cfg's interpreter_python, under ansible_python_interpreter (None: discover)."""
    ansible_managed: str = ANSIBLE_MANAGED
    """ansible.cfg's ansible_managed, for template files that do not define it."""

    def run(self, command: str, *, stdin: bytes | None = None) -> CommandResult:
        """Run a shell command on the host with the task's become, environment and timeout.

        The environment travels on stdin, never on the command line (`ps` shows
        every local user the command line): see `with_environment`.
        """
        if self.environment:
            command, stdin = with_environment(command, self.environment, stdin)
        if self.become and self.become_user:
            return self.conn.run(
                become_wrap(command, self.become_user), timeout=self.timeout, stdin=stdin
            )
        return self.conn.run(command, timeout=self.timeout, become=self.become, stdin=stdin)

    def arg(self, name: str) -> Any:
        return self.args.get(name)

    def find_file(self, name: str) -> Path | None:
        """A controller file for src=: as given, else in the task's role (<role>/files/,
        the role itself), then <playbook dir>/files/, beside it."""
        path = Path(name).expanduser()
        if path.is_absolute():
            return path if path.exists() else None
        base = self.playbook_dir
        role = self.variables.get("role_path")
        first: tuple[Path, ...] = (
            (Path(str(role)) / "files" / path, Path(str(role)) / path) if role else ()
        )
        for candidate in (
            *first,
            base / "files" / path,
            base / path,
            base.parent / "files" / path,
        ):
            if candidate.exists():
                return candidate
        return None


class Module(ABC):
    """A module: declared arguments and a `run` that reports changes honestly."""

    name: ClassVar[str]
    args: ClassVar[Mapping[str, Arg]] = EMPTY
    check_mode: ClassVar[bool] = True
    """True when the module can predict its change without making it."""
    free_form: ClassVar[str | None] = None
    """Argument that receives a bare string (`shell: echo hi`), if any."""
    free_args: ClassVar[bool] = False
    """Accept any argument name (set_fact)."""
    local: ClassVar[bool] = False
    """Runs on the controller only (debug, set_fact...): no connection is opened for it."""
    exclusive: ClassVar[tuple[tuple[str, ...], ...]] = ()
    one_of: ClassVar[tuple[tuple[str, ...], ...]] = ()
    ansible_when_true: ClassVar[tuple[str, ...]] = ()
    """Arguments that, true, hand the task to Ansible's module (whose action plugin then
    only runs the module: copy's remote_src); declared false, the native module runs."""

    @abstractmethod
    def run(self, ctx: ModuleContext) -> ModuleResult:
        """Bring the host to the wanted state (or predict it in check mode)."""

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        """Module-specific checks of rendered arguments, as messages (none when fine)."""
        return []

    def preflight(self, args: Mapping[str, Any], unknown: frozenset[str]) -> list[str]:
        """Checks of the controller's side (local files...) before any host is touched.

        The pre-run check calls it with the arguments rendered from -e, play and
        task vars; `unknown` names those that read a host's or a run's variables.
        """
        return []
