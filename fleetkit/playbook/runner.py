"""Run one task on one host: when, loop, arguments, module, until/retries, the verdict.

The runner renders the task for the host, runs its module (or predicts, in
check mode), applies changed_when/failed_when/ignore_errors and returns an
Outcome: a frozen StepResult plus what the strategy must apply (registered
value, facts, notified handlers, meta actions). It never mutates run state and
raises only fleetkit.errors.ConnectionError (the strategy makes it `unreachable`).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from fleetkit.config.defaults import ConfigDefaults
from fleetkit.connection.base import STREAM_TIMEOUT_S, CommandResult, Connection, Stream
from fleetkit.connection.spec import lookup as conn_lookup
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import FleetkitError, TaskError, TemplateError
from fleetkit.modules.args import prepare, secret_values
from fleetkit.modules.base import EMPTY, Module, ModuleContext, ModuleResult
from fleetkit.modules.registry import find
from fleetkit.playbook.lookups import run_loop
from fleetkit.playbook.render import is_template
from fleetkit.playbook.schema import Task
from fleetkit.playbook.variables import OMIT, Layered, PlayScope
from fleetkit.report.redact import register_secret
from fleetkit.results import Status, StepResult
from fleetkit.text import to_bool, truthy

if TYPE_CHECKING:
    from fleetkit.orchestrators.factory import EngineOpener

DEFAULT_RETRIES = 3
_T = TypeVar("_T")

Connect = Callable[[str], Connection]


@dataclass(frozen=True)
class Outcome:
    """A task's result on a host and the state changes the strategy applies."""

    result: StepResult
    registered: Mapping[str, Any] | None = None
    facts: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    notify: tuple[str, ...] = ()
    meta: str | None = None
    facts_host: str | None = None
    """Where facts go when not to the task's host (delegate_to with delegate_facts)."""

    @property
    def stops_host(self) -> bool:
        """The host leaves the play after this (it failed or is unreachable)."""
        return self.result.status in (Status.FAILED, Status.UNREACHABLE)


class LazyConnection(Connection):
    """A host's connection, fetched (opened) only when a module first runs a command.

    For a delegated task (`delegate_for` is the task's own host) a lost delegate
    fails the task instead of marking the task's host unreachable.
    """

    def __init__(self, name: str, connect: Connect, *, delegate_for: str | None = None) -> None:
        super().__init__(name)
        self._connect = connect
        self._conn: Connection | None = None
        self._delegate_for = delegate_for

    def _get(self) -> Connection:
        if self._conn is None:
            self._conn = self._connect(self.name)
        return self._conn

    def open(self) -> None:
        self._guard(self._get)

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        become: bool = False,
        stdin: bytes | None = None,
    ) -> CommandResult:
        return self._guard(
            lambda: self._get().run(command, timeout=timeout, become=become, stdin=stdin)
        )

    def put_file(
        self,
        local_path: Path,
        remote_path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        self._guard(lambda: self._get().put_file(local_path, remote_path, mode=mode, become=become))

    def remote_sha256(self, remote_path: str, *, become: bool = False) -> str | None:
        return self._guard(lambda: self._get().remote_sha256(remote_path, become=become))

    def open_unix_stream(self, path: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        return self._guard(lambda: self._get().open_unix_stream(path, timeout=timeout))

    def open_tcp_stream(
        self, port: int, *, host: str = "127.0.0.1", timeout: float = STREAM_TIMEOUT_S
    ) -> Stream:
        return self._guard(lambda: self._get().open_tcp_stream(port, host=host, timeout=timeout))

    def open_command_stream(self, command: str, *, timeout: float = STREAM_TIMEOUT_S) -> Stream:
        return self._guard(lambda: self._get().open_command_stream(command, timeout=timeout))

    def _guard(self, call: Callable[[], _T]) -> _T:
        if self._delegate_for is None:
            return call()
        try:
            return call()
        except HostConnectionError as err:
            raise TaskError(f"delegate_to {self.name}: {err.message}") from None

    def close(self) -> None:
        """The pool owns the real connection; nothing to close here."""


@dataclass(frozen=True)
class _Item:
    """One module call's verdict (a task without loop has one)."""

    module: ModuleResult
    registered: dict[str, Any]
    failed: bool
    changed: bool
    skipped: bool
    args: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    """The module's prepared arguments."""


class TaskRunner:
    """Runs tasks for one play of a run; shared by every host (holds no per-host state)."""

    def __init__(
        self,
        scope: PlayScope,
        connect: Connect,
        *,
        check: bool = False,
        diff: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        docker_engine: EngineOpener | None = None,
        defaults: ConfigDefaults | None = None,
    ) -> None:
        self.scope = scope
        self.renderer = scope.renderer
        self.connect = connect
        self.check = check
        self.diff = diff
        self.sleep = sleep
        self.docker_engine = docker_engine
        self.defaults = defaults or ConfigDefaults()
        self._names: dict[int, str] = {}
        self._roots = tuple(str(r) for r in scope.play.collection_roots)
        """The play's collection folders: a module of one of them resolves there."""

    def display_name(self, task: Task) -> str:
        """The task's name with play-level variables rendered ('Deploy {{ image }}')."""
        name = self._names.get(id(task))
        if name is None:
            name = task.name
            if is_template(name):
                with contextlib.suppress(TemplateError):
                    name = str(self.renderer.render(name, self.scope.play_level()))
            self._names[id(task)] = name
        return name

    def include_instances(
        self, task: Task, host: str
    ) -> list[tuple[str, str, tuple[Task, ...]]] | None:
        """A dynamic include on host: (key, label, tasks) per loop item; None when skipped.

        The key (JSON of the file and the loop variables) is shared by hosts that
        include the same thing, so they run its tasks together.
        """
        variables = self.scope.host(host, task)
        items = self._items(task, variables)
        scopes: list[tuple[dict[str, Any], str]] = []
        if items is None:
            if not self._when(task, variables):
                return None
            scopes.append(({}, ""))
        else:
            for index, value in enumerate(items):
                local = loop_vars(task, items, index)
                if self._when(task, variables.over(local)):
                    scopes.append((local, f" (item={self._label(task, value, local, variables)})"))
            if not scopes:
                return None
        out: list[tuple[str, str, tuple[Task, ...]]] = []
        for local, label in scopes:
            tasks, file = self._included(task, variables.over(local))
            key = json.dumps({"file": file, "vars": local}, sort_keys=True, default=str)
            out.append((key, label, tasks))
        return out

    def _included(self, task: Task, variables: Layered) -> tuple[tuple[Task, ...], str]:
        include = task.include
        assert include is not None
        if include.tasks is not None:
            return include.tasks, include.file
        from fleetkit.playbook.load import load_task_file

        name = str(self.renderer.render(include.file, variables))
        bases = [Path(str(task.pos.path)).parent, self.scope.play.directory]
        if task.role is not None:
            bases.insert(0, task.role.path / "tasks")
        file = next((b / name for b in bases if (b / name).is_file()), None)
        if file is None:
            raise TaskError(f"include_tasks: {name} not found (beside {task.pos.path})")
        play = self.scope.play
        loaded = load_task_file(
            file,
            task,
            extra=self.scope.extra,
            roles_path=play.roles_path,
            collection_roots=play.collection_roots,
        )
        return loaded, str(file)

    def run(self, task: Task, host: str) -> Outcome:
        """Run task on host; ConnectionError propagates (the host is unreachable)."""
        outcome = self._run(task, host)
        if task.delegate_facts and task.delegate_to and outcome.facts:
            try:
                target = str(self.renderer.render(task.delegate_to, self.scope.host(host, task)))
            except TemplateError:
                return outcome
            if target != host:
                return replace(outcome, facts_host=target)
        return outcome

    def _run(self, task: Task, host: str) -> Outcome:
        start = time.monotonic()
        if task.module == "include_vars":
            return self._include_vars(task, host, start)
        module = find(task.module, self._roots, native=not task.via_ansible)
        assert module is not None  # the loader resolved it
        variables = self.scope.host(host, task)
        try:
            items = self._items(task, variables)
            if items is None:
                if not self._when(task, variables):
                    return self._skipped(task, host, start, variables)
                item = self._call(task, module, host, variables)
                return self._outcome(task, host, start, [item], looped=False)
            done: list[_Item] = []
            pending: dict[str, Any] = {}
            for index, value in enumerate(items):
                if index and task.loop_pause:
                    self.sleep(task.loop_pause)
                if pending:
                    # a later item sees the earlier items' facts and registered value
                    variables = self.scope.host(host, task, pending)
                local = loop_vars(task, items, index)
                scoped = variables.over(local)
                label = self._label(task, value, local, variables)
                if not self._when(task, scoped):
                    false = next((c for c in task.when if not self.condition(c, scoped)), "")
                    skipped = {
                        **_when_skipped(false),
                        **local,
                        "_ansible_item_label": label,
                    }
                    done.append(_Item(ModuleResult(skipped=True), skipped, False, False, True))
                    continue
                item = self._call(task, module, host, scoped)
                if not module.local and not item.skipped:
                    # Ansible keeps a module's invocation in each loop item's result
                    item.registered["invocation"] = {"module_args": item.args}
                item.registered.update(local)
                item.registered["_ansible_item_label"] = label
                done.append(item)
                if not item.failed:
                    pending.update(item.module.facts)
                if task.register:
                    pending[task.register] = item.registered
            return self._outcome(task, host, start, done, looped=True)
        except TemplateError as err:
            return self._failed(task, host, start, f"{task.pos}: {err.message}")

    def _include_vars(self, task: Task, host: str, start: float) -> Outcome:
        """include_vars: read YAML files on the controller into the host's variables."""
        from fleetkit.playbook.include_vars import read_vars

        variables = self.scope.host(host, task)
        try:
            items = self._items(task, variables)
            if items is not None:
                return self._include_vars_loop(task, host, start, variables, items)
            if not self._when(task, variables):
                return self._skipped(task, host, start, variables)
            args = self.renderer.render(dict(task.args), variables)
            values, files = read_vars(args, task, self.scope.play.directory)
        except (TemplateError, TaskError) as err:
            return self._failed(task, host, start, f"{task.pos}: {err.message}")
        result = StepResult(
            host=host,
            task=self.display_name(task),
            status=Status.OK,
            msg=", ".join(files),
            duration_s=time.monotonic() - start,
            data=MappingProxyType({"ansible_facts": values, "ansible_included_var_files": files}),
            no_log=task.no_log,
        )
        return Outcome(result=result, registered=dict(result.data), facts=values)

    def _include_vars_loop(
        self, task: Task, host: str, start: float, variables: Layered, items: list[Any]
    ) -> Outcome:
        """include_vars in a loop (the with_first_found idiom): each item's files, in order,
        later items' values winning; a loop of no items is skipped, as in Ansible."""
        from fleetkit.playbook.include_vars import read_vars

        values: dict[str, Any] = {}
        files: list[str] = []
        results: list[dict[str, Any]] = []
        for index in range(len(items)):
            local = loop_vars(task, items, index)
            scoped = variables.over(local)
            if not self._when(task, scoped):
                false = next((c for c in task.when if not self.condition(c, scoped)), "")
                results.append({**_when_skipped(false), **local})
                continue
            args = self.renderer.render(dict(task.args), scoped)
            found, read = read_vars(args, task, self.scope.play.directory)
            values.update(found)
            files += read
            results.append(
                {"ansible_facts": found, "ansible_included_var_files": read, "changed": False}
                | local
            )
        skipped = all(r.get("skipped") for r in results)
        data: dict[str, Any] = {"changed": False, "results": results, "skipped": skipped}
        if not results:
            data["skipped_reason"] = "No items in the list"
        else:
            data["msg"] = "All items skipped" if skipped else "All items completed"
        result = StepResult(
            host=host,
            task=self.display_name(task),
            status=Status.SKIPPED if skipped else Status.OK,
            msg=", ".join(files) or data.get("msg", "No items in the list"),
            duration_s=time.monotonic() - start,
            data=MappingProxyType(data),
            no_log=task.no_log,
        )
        return Outcome(result=result, registered=dict(data), facts=values)

    # pieces -------------------------------------------------------------------------

    def _items(self, task: Task, variables: Layered) -> list[Any] | None:
        if task.loop is None:
            return None
        value = self.renderer.render(task.loop, variables)
        if task.loop_with:
            return run_loop(task.loop_with, value, variables, self.renderer, task.module)
        if isinstance(value, Mapping):
            raise TemplateError("loop needs a list; for a mapping use '| dict2items'")
        if isinstance(value, str):
            raise TemplateError(f"loop needs a list, got the string {value[:60]!r}")
        if not isinstance(value, (list, tuple)):
            raise TemplateError(f"loop needs a list, got {type(value).__name__}")
        return list(value)

    def _label(self, task: Task, value: Any, local: Mapping[str, Any], variables: Layered) -> Any:
        """What a loop item is shown as: loop_control.label rendered, else the item."""
        if task.loop_label is None:
            return value
        try:
            return self.renderer.render(task.loop_label, variables.over(local))
        except TemplateError:
            return value

    def condition(self, expr: Any, variables: Mapping[str, Any], *, strict: bool = True) -> bool:
        """One when/changed_when/failed_when/until condition.

        As in ansible-core 2.19 a condition must be a boolean or an expression with a
        boolean result: a string, list or number fails the task (TemplateError), where
        it used to be taken as truthy. strict=False keeps truthiness (ignore_errors).
        ansible.cfg's allow_broken_conditionals takes a non-boolean as Python's bool() and
        an empty condition as true, as ansible-core 2.19 does with it on.
        """
        if isinstance(expr, bool):
            return expr
        broken_ok = strict and self.defaults.allow_broken_conditionals
        if broken_ok and (expr is None or (isinstance(expr, str) and not expr.strip())):
            return True
        if broken_ok and not isinstance(expr, str):
            return bool(expr)
        if strict and not isinstance(expr, str):
            raise TemplateError(
                f"conditional {expr!r} is a {_type_name(expr)}: conditional expressions"
                " must be strings"
            )
        text = str(expr)
        value = (
            self.renderer.render(text, variables)
            if is_template(text)
            else (self.renderer.evaluate(text, variables))
        )
        if isinstance(value, bool) or not strict:
            return truthy(value)
        if broken_ok:
            return bool(value)
        raise TemplateError(
            f"conditional {text!r}: its result ({bool(value)}) was derived from a value"
            f" of type '{_type_name(value)}'; conditionals must have a boolean result"
            " (`| bool`, `| length > 0`, `is truthy`)"
        )

    def _when(self, task: Task, variables: Mapping[str, Any]) -> bool:
        return all(self.condition(c, variables) for c in task.when)

    def module_context(self, task: Task, host: str) -> ModuleContext:
        """The context task's module gets on host (become, environment, timeout, check)."""
        return self._context(task, host, self.scope.host(host, task), dict(task.args))

    def _same_user(self, host: str, become_user: str | None, variables: Layered) -> bool:
        """Whether becoming would only switch to the connection's own user, which
        ansible-core skips (unless become_allow_same_user): the explicit remote user
        (the local connection's: whoever runs fleetkit) is the become user (default
        root). A delegated task keeps its become (its connection is another host's)."""
        if self.defaults.become_allow_same_user:
            return False
        spec = self.defaults.spec_for(host, variables)
        remote = getpass.getuser() if spec.local else spec.user
        return remote is not None and remote == (become_user or spec.become_user or "root")

    def _context(
        self, task: Task, host: str, variables: Layered, args: dict[str, Any]
    ) -> ModuleContext:
        play = self.scope.play
        become = task.become if task.become is not None else play.become
        if become is None:
            by_var = conn_lookup(variables, "become")
            become = self.defaults.become if by_var is None else _as_bool(by_var)
        become_user = task.become_user or play.become_user
        target = host
        if task.delegate_to:
            target = str(self.renderer.render(task.delegate_to, variables))
        if become and target == host and self._same_user(host, become_user, variables):
            become = False
        env = {**play.environment, **task.environment}
        environment = (
            {str(k): str(v) for k, v in self.renderer.render(env, variables).items()} if env else {}
        )
        return ModuleContext(
            host=host,
            conn=LazyConnection(
                target, self.connect, delegate_for=host if target != host else None
            ),
            args=MappingProxyType(args),
            variables=variables,
            templar=self.renderer if task.role is None else _RoleTemplar(self.renderer, task),
            check=self.check if task.check_mode is None else task.check_mode,
            diff=self.diff if task.diff is None else task.diff,
            become=become,
            become_user=become_user,
            timeout=task.timeout if task.timeout is not None else play.timeout,
            playbook_dir=play.directory,
            sleep=self.sleep,
            environment=MappingProxyType(environment),
            no_log=task.no_log,
            docker_engine=self.docker_engine,
            allow_broken_conditionals=self.defaults.allow_broken_conditionals,
            interpreter_python=self.defaults.interpreter_python,
            ansible_managed=self.defaults.ansible_managed,
        )

    def _call(self, task: Task, module: Module, host: str, variables: Layered) -> _Item:
        rendered = self.renderer.render(dict(task.args), variables)
        rendered = {k: v for k, v in rendered.items() if v != OMIT}
        for secret in secret_values(module, rendered):
            register_secret(secret)  # masked in every message and result from now on
        args, errors = prepare(module, rendered)
        if errors:
            mr = ModuleResult(failed=True, msg=f"{task.pos}: {errors[0]}")
            return _Item(mr, _register(mr), True, False, False)
        ctx = self._context(task, host, variables, args)
        if ctx.check and not module.check_mode:
            mr = ModuleResult(
                skipped=True, msg=f"skipped in check mode ({module.name} cannot predict)"
            )
            return _Item(mr, _register(mr), False, False, True)
        attempts = 1
        if task.retries is not None:
            attempts += task.retries
        elif task.until is not None:
            attempts += DEFAULT_RETRIES
        item = replace(self._attempt(task, module, ctx, variables, attempts), args=args)
        for _ in range(2, attempts + 1):
            if self._until(task, variables, item):
                break
            self.sleep(task.delay)
            item = replace(self._attempt(task, module, ctx, variables, attempts, item), args=args)
        else:
            if attempts > 1 and not self._until(task, variables, item):
                what = "until condition still false" if task.until is not None else "still failing"
                mr = ModuleResult(
                    failed=True,
                    msg=f"{what} after {attempts} attempt(s)"
                    + (f": {item.module.msg}" if item.module.msg else ""),
                    rc=item.module.rc,
                    stdout=item.module.stdout,
                    stderr=item.module.stderr,
                )
                # Ansible reports attempts = retries when they are exhausted
                registered = {**item.registered, "failed": True, "attempts": attempts - 1}
                item = _Item(mr, registered, True, item.changed, False, args)
        return item

    def _until(self, task: Task, variables: Layered, item: _Item) -> bool:
        """Whether a retried task is done: until: holds (without until: it did not fail)."""
        if task.until is None:
            return not item.failed
        scoped = variables.over({task.register: item.registered}) if task.register else variables
        try:
            return all(self.condition(c, scoped) for c in task.until)
        except TemplateError:
            return False

    def _attempt(
        self,
        task: Task,
        module: Module,
        ctx: ModuleContext,
        variables: Layered,
        attempts: int,
        last: _Item | None = None,
    ) -> _Item:
        """One run of the module with changed_when/failed_when applied; `attempts` is the
        most the task may take (Ansible registers `attempts` only when it retries)."""
        attempt = 1 if last is None else int(last.registered.get("attempts", 1)) + 1
        try:
            mr = module.run(ctx)
        except HostConnectionError:
            raise
        except FleetkitError as err:
            mr = ModuleResult(failed=True, msg=err.message)
        except Exception as err:
            mr = ModuleResult(failed=True, msg=f"module {module.name} crashed: {err!r}")
        registered = _register(mr)
        if attempts > 1:
            registered["attempts"] = attempt
        failed, changed = mr.failed, mr.changed
        if task.changed_when is not None or task.failed_when is not None:
            scoped = variables.over({task.register: registered}) if task.register else variables
            if task.changed_when is not None:
                changed = all(self.condition(c, scoped) for c in task.changed_when)
            if task.failed_when is not None:
                failed = all(self.condition(c, scoped) for c in task.failed_when)
            registered["changed"] = changed
            registered["failed"] = failed
        if mr.skipped:
            changed = False
        # a failed item keeps its `changed`: ignore_errors counts it, as Ansible does
        return _Item(mr, registered, failed, changed, mr.skipped)

    # verdicts -----------------------------------------------------------------------

    def _outcome(
        self, task: Task, host: str, start: float, items: list[_Item], *, looped: bool
    ) -> Outcome:
        failed = any(i.failed for i in items)
        changed = any(i.changed for i in items)
        skipped = bool(items) and all(i.skipped for i in items)
        ignored = False
        if failed and task.ignore_errors is not False:
            ignored = self._ignored(task, host)
        if looped:
            registered = _loop_registered(items)
            msg = _loop_msg(items)
            mr = ModuleResult(
                rc=next((i.module.rc for i in items if i.failed), None),
                stdout="\n".join(i.module.stdout for i in items if i.module.stdout),
                stderr="\n".join(i.module.stderr for i in items if i.module.stderr),
                diff="".join(i.module.diff for i in items),
            )
            failed_items = [i for i in items if i.failed]
            if failed_items:
                msg = f"{msg}; first failure: {failed_items[0].module.msg}"
        else:
            only = items[0]
            registered = only.registered
            mr = only.module
            msg = mr.msg
            if only.failed and not mr.failed and not msg:
                msg = "failed_when condition is true"
        if not items:
            status = Status.SKIPPED
            msg = "empty loop"
        elif failed and not ignored:
            status = Status.FAILED
        elif skipped:
            status = Status.SKIPPED
        elif changed:
            status = Status.CHANGED
        else:
            status = Status.OK
        if failed and ignored:
            msg = f"failed (ignored): {msg}"
        ignored = failed and ignored
        facts: dict[str, Any] = {}
        meta = None
        for item in items:
            if not item.failed:
                facts.update(item.module.facts)
            if task.module == "meta" and not item.skipped:
                meta = str(item.module.data.get("meta", ""))
        result = StepResult(
            host=host,
            task=self.display_name(task),
            status=status,
            rc=mr.rc,
            stdout=mr.stdout,
            stderr=mr.stderr,
            msg=msg,
            duration_s=time.monotonic() - start,
            diff=mr.diff,
            data=MappingProxyType(registered),
            no_log=task.no_log,
            ignored=ignored,
        )
        return Outcome(
            result=result,
            registered=registered if task.register else None,
            facts=facts,
            # an ignored failure counts as changed but notifies nothing, as in Ansible
            notify=task.notify if status is Status.CHANGED and not ignored else (),
            meta=meta,
        )

    def _ignored(self, task: Task, host: str) -> bool:
        if isinstance(task.ignore_errors, bool):
            return task.ignore_errors
        try:
            return self.condition(task.ignore_errors, self.scope.host(host, task), strict=False)
        except TemplateError:
            return False

    def _skipped(self, task: Task, host: str, start: float, variables: Layered) -> Outcome:
        false = next((c for c in task.when if not self.condition(c, variables)), "")
        result = StepResult(
            host=host,
            task=self.display_name(task),
            status=Status.SKIPPED,
            msg=f"when: {false} is false",
            duration_s=time.monotonic() - start,
            data=MappingProxyType(_when_skipped(false)),
            no_log=task.no_log,
        )
        return Outcome(result=result, registered=result.data if task.register else None)

    def _failed(self, task: Task, host: str, start: float, msg: str) -> Outcome:
        result = StepResult(
            host=host,
            task=self.display_name(task),
            status=Status.FAILED,
            msg=msg,
            duration_s=time.monotonic() - start,
            no_log=task.no_log,
        )
        registered = {"failed": True, "changed": False, "msg": msg}
        if task.ignore_errors is True:
            result = StepResult(
                host=host,
                task=self.display_name(task),
                status=Status.OK,
                msg=f"failed (ignored): {msg}",
                duration_s=result.duration_s,
                no_log=task.no_log,
                ignored=True,
            )
        return Outcome(result=result, registered=registered if task.register else None)


def loop_vars(task: Task, items: list[Any], index: int) -> dict[str, Any]:
    """The variables of loop item `index`: the loop var, its name, the index var and
    (loop_control.extended only) ansible_loop, as Ansible sets them."""
    local: dict[str, Any] = {task.loop_var: items[index], "ansible_loop_var": task.loop_var}
    if task.index_var:
        local[task.index_var] = index
        local["ansible_index_var"] = task.index_var
    if task.loop_extended:
        n = len(items)
        info: dict[str, Any] = {
            "index": index + 1,
            "index0": index,
            "revindex": n - index,
            "revindex0": n - index - 1,
            "first": index == 0,
            "last": index == n - 1,
            "length": n,
        }
        if task.loop_allitems:
            info["allitems"] = items
        if index > 0:
            info["previtem"] = items[index - 1]
        if index < n - 1:
            info["nextitem"] = items[index + 1]
        local["ansible_loop"] = info
    return local


class _RoleTemplar:
    """The renderer for a role's task: the role's templates/ are searched first."""

    def __init__(self, renderer: Any, task: Task) -> None:
        self._renderer = renderer
        role = task.role
        assert role is not None
        self._first = (role.path / "templates", role.path)

    def render(self, value: Any, variables: Mapping[str, Any]) -> Any:
        return self._renderer.render(value, variables)

    def evaluate(self, expression: str, variables: Mapping[str, Any]) -> Any:
        return self._renderer.evaluate(expression, variables)

    def render_file(
        self, name: str, variables: Mapping[str, Any], *, syntax: Mapping[str, Any] | None = None
    ) -> str:
        return str(self._renderer.render_file(name, variables, self._first, syntax=syntax))

    def find_template(self, name: str) -> Path:
        found: Path = self._renderer.find_template(name, self._first)
        return found


def _type_name(value: Any) -> str:
    """A value's type as Ansible names it (dict, list, str, int...), never an internal class."""
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _as_bool(value: Any) -> bool:
    if value is None:
        return False
    try:
        return to_bool(value)
    except ValueError:
        return False


def _when_skipped(condition: Any) -> dict[str, Any]:
    """What a task (or loop item) skipped by `when:` registers, as Ansible does."""
    return {
        "changed": False,
        "false_condition": condition,
        "skip_reason": "Conditional result was False",
        "skipped": True,
    }


def _loop_registered(items: list[_Item]) -> dict[str, Any]:
    """A loop's registered value, as Ansible's task executor builds it from its items."""
    if not items:
        return {
            "changed": False,
            "skipped": True,
            "skipped_reason": "No items in the list",
            "results": [],
        }
    out: dict[str, Any] = {
        "changed": any(i.changed for i in items),
        "results": [i.registered for i in items],
        "skipped": all(i.skipped for i in items),
    }
    if any(i.failed for i in items):
        out["failed"] = True
        out["msg"] = "One or more items failed"
    else:
        out["msg"] = "All items skipped" if out["skipped"] else "All items completed"
    return out


TRACEBACK_UNAVAILABLE = "(traceback unavailable)"
"""The `exception` ansible-core 2.19 registers with a failure that has no traceback."""


def _register(mr: ModuleResult) -> dict[str, Any]:
    """The value `register:` stores: Ansible's keys (changed, failed; msg and exception
    when failed; skipped only when skipped) plus the module's data, or the whole value
    a module shaped itself."""
    if mr.registered is not None:
        out = dict(mr.registered)
        if out.get("failed"):
            out.setdefault("exception", TRACEBACK_UNAVAILABLE)
        return out
    out = {"changed": mr.changed, "failed": mr.failed}
    if mr.skipped:
        out["skipped"] = True
    if mr.failed:
        out["msg"] = mr.msg
        out["exception"] = TRACEBACK_UNAVAILABLE
    elif mr.msg:
        out["msg"] = mr.msg
    if mr.rc is not None or mr.stdout or mr.stderr:
        out.update(
            rc=mr.rc,
            stdout=mr.stdout.rstrip("\n"),
            stderr=mr.stderr.rstrip("\n"),
            stdout_lines=mr.stdout.splitlines(),
            stderr_lines=mr.stderr.splitlines(),
        )
    out.update(mr.data)
    return out


def _loop_msg(items: list[_Item]) -> str:
    counts = {"changed": 0, "failed": 0, "skipped": 0}
    for i in items:
        if i.failed:
            counts["failed"] += 1
        elif i.skipped:
            counts["skipped"] += 1
        elif i.changed:
            counts["changed"] += 1
    parts = [f"{n} {k}" for k, n in counts.items() if n]
    return f"{len(items)} items" + (f" ({', '.join(parts)})" if parts else "")
