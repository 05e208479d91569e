"""Jinja2 for playbooks: a sandboxed environment with StrictUndefined and Ansible's filters.

Rendering is lazy and per host: values are rendered when a task runs, against a
variables mapping that resolves its own templated values on access. Compiled
templates are cached per Renderer, and strings without Jinja syntax skip Jinja
entirely, so a plain `shell: uptime` costs nothing to "render". `check` parses
a value ahead of the run and lists the variables it needs that no guard
(`is defined`, `| default`) protects, so certainly-undefined names are caught
before any host is touched.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from fleetkit import safeio
from fleetkit.errors import TemplateError

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from jinja2 import Environment, Template, nodes

    _F = TypeVar("_F", bound=Callable[..., Any])

SINGLE_EXPR = re.compile(r"^\{\{((?:(?!\{\{|\}\}).)*)\}\}\Z", re.DOTALL)
RESULT = "__fleetkit_result"
GUARD_TESTS = frozenset({"defined", "undefined"})
GUARD_FILTERS = frozenset({"default", "d"})


def is_template(value: Any) -> bool:
    """True when value is a string holding Jinja2 syntax."""
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


def contains_template(value: Any) -> bool:
    """True when value or anything nested in it holds Jinja2 syntax."""
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, Mapping):
        return any(contains_template(k) or contains_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_template(v) for v in value)
    return False


RENDER_SECONDS = 10.0
"""Render time budget of one top-level render (a value, a condition, a template file)."""
MAX_SEQUENCE = 10_000_000
"""Longest string or list `*` or `+` may build in a template (items or characters)."""
MAX_INT_BITS = 13_288
"""Largest integer `*` or `**` may build: 4000 decimal digits, as fleetkit.yamlpos reads."""


class _Budget(threading.local):
    """The deadline of the render running on this thread (hosts render in parallel)."""

    deadline: float | None = None


def _limited_environment_class() -> type[Environment]:
    """ImmutableSandboxedEnvironment with operand limits and a render time budget.

    `*`, `**` and `+` are intercepted (which also stops Jinja folding them at compile
    time), ranges check the deadline as they are iterated, and every call and
    attribute access checks it too: `range` products, `[1] * 10**9`, `7 ** 7 ** 10`
    become a TemplateError instead of a hang.
    """
    from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

    class LimitedEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "+"})

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.budget = _Budget()
            self.render_seconds = RENDER_SECONDS
            self.globals["range"] = self.checked_range
            self.escaping = _Escaping()
            self._escaping_lexer: Any = None

        @property
        def lexer(self) -> Any:
            """Jinja's lexer, or while compiling a playbook value Ansible's: backslashes in
            string literals doubled, so YAML's escaping is the only one applied."""
            from jinja2.lexer import get_lexer

            if not self.escaping.mode:
                return get_lexer(self)
            if self._escaping_lexer is None:
                self._escaping_lexer = _escaping_lexer_class()(self)
            return self._escaping_lexer

        @contextmanager
        def escaped(self, mode: str) -> Iterator[None]:
            """Compile under Ansible's backslash rule: "variable" ({{ }} only) or "all"."""
            self.escaping.mode = mode
            try:
                yield
            finally:
                self.escaping.mode = ""

        @contextmanager
        def deadline(self) -> Iterator[None]:
            """Give the outermost render on this thread render_seconds; nested ones share it."""
            if self.budget.deadline is not None:
                yield
                return
            self.budget.deadline = time.monotonic() + self.render_seconds
            try:
                yield
            finally:
                self.budget.deadline = None

        def check_time(self) -> None:
            deadline = self.budget.deadline
            if deadline is not None and time.monotonic() > deadline:
                raise TemplateError(
                    f"template took longer than its {self.render_seconds:g} s render budget"
                )

        def checked_range(self, *args: int) -> _CheckedRange:
            return _CheckedRange(safe_range(*args), self)

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            self.check_time()
            _check_operands(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            self.check_time()
            return super().call(context, obj, *args, **kwargs)

        def getattr(self, obj: Any, attribute: str) -> Any:
            self.check_time()
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            self.check_time()
            return super().getitem(obj, argument)

    return LimitedEnvironment


class _Escaping(threading.local):
    """Which string literals the template being compiled on this thread escapes."""

    mode: str = ""


def _escaping_lexer_class() -> type[Any]:
    """A Lexer doubling backslashes in string literals, as ansible-core 2.19 does for
    templates from YAML (so `regex_replace('(\\d+)', 'n=\\1')` in a double-quoted YAML
    string keeps its backreference): inside {{ }}, or everywhere in a bare expression."""
    from jinja2.lexer import TOKEN_STRING, TOKEN_VARIABLE_BEGIN, TOKEN_VARIABLE_END, Lexer

    class EscapingLexer(Lexer):
        def __init__(self, environment: Any) -> None:
            super().__init__(environment)
            self.escaping = environment.escaping

        def tokeniter(self, *args: Any, **kwargs: Any) -> Iterator[tuple[int, str, str]]:
            everywhere = self.escaping.mode == "all"
            inside = False
            for line, kind, text in super().tokeniter(*args, **kwargs):
                if kind == TOKEN_VARIABLE_BEGIN:
                    inside = True
                elif kind == TOKEN_VARIABLE_END:
                    inside = False
                escape = kind == TOKEN_STRING and (inside or everywhere)
                yield line, kind, text.replace("\\", "\\\\") if escape else text

    return EscapingLexer


class _CheckedRange(Sequence[int]):
    """range() for templates: a real sequence (len, index, `in`) whose iteration checks
    the render deadline, so nested loops cannot run for hours."""

    def __init__(self, numbers: range, env: Any) -> None:
        self._numbers = numbers
        self._env = env

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, index: Any) -> Any:
        return self._numbers[index]

    def __contains__(self, value: object) -> bool:
        return value in self._numbers

    def __iter__(self) -> Iterator[int]:
        for count, number in enumerate(self._numbers):
            if not count & 1023:
                self._env.check_time()
            yield number

    def __repr__(self) -> str:
        return repr(self._numbers)


def _check_operands(operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `+` whose result would be huge, before computing it."""
    ints = tuple(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
    sized = tuple(isinstance(v, str | list | tuple) for v in (left, right))
    if operator == "**" and all(ints) and right > 0 and abs(left) > 1:
        bits = right * math.log2(abs(left))
        if bits > MAX_INT_BITS:
            raise TemplateError(
                f"{_short(left)} ** {_short(right)} is too large (more than 4000 digits)"
            )
    elif operator == "*" and all(ints):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise TemplateError("integer product too large (more than 4000 digits)")
    elif operator == "*" and any(sized) and any(ints):
        seq, times = (left, right) if sized[0] else (right, left)
        if len(seq) * max(times, 0) > MAX_SEQUENCE:
            raise TemplateError(
                f"repeating a {type(seq).__name__} of {len(seq)} {_short(times)} times exceeds"
                f" the {MAX_SEQUENCE:,}-item limit"
            )
    elif operator == "+" and all(sized) and len(left) + len(right) > MAX_SEQUENCE:
        raise TemplateError(f"joining would exceed the {MAX_SEQUENCE:,}-item limit")


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 200 else "<huge>"
    return text if len(text) <= 30 else f"{text[:27]}..."


def _undefined_class() -> type[Any]:
    """Ansible's undefined: strict (printing, testing or iterating it fails) yet
    chainable (`a.b.c | default(x)` and `a.b.c is defined` work when a.b is missing),
    its message naming plain types ('dict object'), never fleetkit's own classes."""
    from jinja2 import ChainableUndefined, StrictUndefined
    from jinja2.utils import missing

    class Undefined(ChainableUndefined, StrictUndefined):
        __slots__ = ()

        @property
        def _undefined_message(self) -> str:
            if self._undefined_hint:
                return str(self._undefined_hint)
            if self._undefined_obj is missing:
                return f"{self._undefined_name!r} is undefined"
            obj = self._undefined_obj
            kind = (
                "dict"
                if isinstance(obj, Mapping)
                else "list"
                if isinstance(obj, (list, tuple))
                else type(obj).__name__
            )
            if not isinstance(self._undefined_name, str):
                return f"'{kind} object' has no element {self._undefined_name!r}"
            return f"'{kind} object' has no attribute {self._undefined_name!r}"

    return Undefined


def _finalize(value: Any) -> Any:
    """An expression's output in text, as Ansible prints it: None as nothing, a lazy
    result (a generator from map or unique) as its list, tuples as lists."""
    if value is None:
        return ""
    if isinstance(value, GeneratorType):
        value = list(value)
    return _lists(value)


def _lists(value: Any) -> Any:
    """value with every plain tuple inside it (in lists and dicts) a list, rebuilt only
    where there is one; a named tuple (groupby's groups) stays one, as in Ansible."""
    if type(value) is tuple:
        return [_lists(v) for v in value]
    if isinstance(value, list):
        items = [_lists(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        pairs = {k: _lists(v) for k, v in value.items()}
        return pairs if any(pairs[k] is not v for k, v in value.items()) else value
    return value


def _environment(search_paths: Sequence[Path]) -> Environment:
    from jinja2 import FileSystemLoader

    from fleetkit.playbook.filters import FILTERS, TESTS

    env = _limited_environment_class()(
        undefined=_undefined_class(),
        finalize=_finalize,
        loader=FileSystemLoader([str(p) for p in search_paths]),
        trim_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    return env


def _error(err: Exception, source: str | None = None) -> TemplateError:
    """A jinja2 (or filter) exception as a TemplateError naming what failed."""
    from jinja2.exceptions import TemplateSyntaxError, UndefinedError

    if isinstance(err, UndefinedError):
        return TemplateError(f"undefined variable: {err.message}")
    if isinstance(err, TemplateSyntaxError):
        where = f" in {source!r}" if source and len(source) < 120 else ""
        return TemplateError(f"template syntax error{where}: {err.message}")
    return TemplateError(f"template error: {type(err).__name__}: {err}")


def _secrets_whole(reader: str) -> Callable[[_F], _F]:
    """Render with Secrets kept whole: a Secret (a join token) may be a value's single
    expression, but one interpolated into text or filtered is a TemplateError naming
    the variable, never the mask '********' standing in for the value."""
    import functools

    def wrap(method: _F) -> _F:
        @functools.wraps(method)
        def render(
            self: Renderer, source: str, variables: Mapping[str, Any], *a: Any, **kw: Any
        ) -> Any:
            from fleetkit.orchestrators.base import secrets_kept_whole

            with secrets_kept_whole() as tripped:
                try:
                    return method(self, source, variables, *a, **kw)
                except TemplateError:
                    if not tripped:
                        raise
            try:
                first = {"first": kw.get("first", a[0])} if a or "first" in kw else {}
                names = getattr(self, reader)(source, guarded=True, **first)
            except TemplateError:
                names = set()
            held = _secret_paths(variables, sorted(names)) or sorted(names)
            shown = source if len(source) <= 80 else f"{source[:77]}..."
            raise TemplateError(
                f"{shown!r} turns secret variable {' / '.join(map(repr, held))} into text"
                " (interpolated or filtered): pass it whole, as a value's single"
                " expression ('{{ var }}'), to a module argument that takes a secret"
            ) from None

        return render  # type: ignore[return-value]

    return wrap


def _secret_paths(variables: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """Where the Secrets among the named variables are ('join.token'), looking a few
    levels into plain dicts and lists only (hostvars and other lazy views are not walked)."""
    from types import MappingProxyType

    from fleetkit.orchestrators.base import Secret

    found: list[str] = []

    def walk(value: Any, path: str, depth: int) -> None:
        if isinstance(value, Secret):
            found.append(path)
        elif depth and isinstance(value, dict | MappingProxyType):
            for key, item in list(value.items())[:200]:
                walk(item, f"{path}.{key}", depth - 1)
        elif depth and isinstance(value, list | tuple):
            for index, item in enumerate(value[:200]):
                walk(item, f"{path}[{index}]", depth - 1)

    for name in names:
        try:
            walk(variables[name], name, 4)
        except Exception:  # a lazy variable that fails to render: not the one we look for
            continue
    return found


class Renderer:
    """Renders playbook values and template files; one per run, shared by every host."""

    def __init__(self, search_paths: Sequence[Path] = (), ansible_managed: str = "") -> None:
        self.search_paths = tuple(search_paths)
        self.ansible_managed = ansible_managed or "Ansible managed"
        """ansible.cfg's ansible_managed, for lookup('template') files that do not define it."""
        self.env = _environment(self.search_paths)
        from fleetkit.playbook.lookups import lookup_globals

        self.env.globals.update(lookup_globals(self))
        self._texts: dict[tuple[str, bool], Template] = {}
        self._exprs: dict[tuple[str, bool], Template] = {}
        self._scans: dict[tuple[str, bool], frozenset[str]] = {}
        self._syntaxes: dict[tuple[tuple[str, Any], ...], Environment] = {}

    @property
    def globals(self) -> Mapping[str, Any]:
        """Jinja's globals (range, dict, namespace...), the lowest layer of every lookup."""
        return self.env.globals

    # compiling (cached) ---------------------------------------------------------------

    def _text(self, source: str, escape: bool = False) -> Template:
        tmpl = self._texts.get((source, escape))
        if tmpl is None:
            try:
                with self.env.escaped("variable" if escape else ""):  # type: ignore[attr-defined]
                    tmpl = self.env.from_string(source)
            except Exception as err:
                raise _error(err, source) from None
            self._texts[(source, escape)] = tmpl
        return tmpl

    def _expr(self, expression: str, escape: bool = False) -> Template:
        tmpl = self._exprs.get((expression, escape))
        if tmpl is None:
            try:
                with self.env.escaped("all" if escape else ""):  # type: ignore[attr-defined]
                    tmpl = self.env.from_string(f"{{% set {RESULT} = ({expression}) %}}")
            except Exception as err:
                raise _error(err, expression) from None
            self._exprs[(expression, escape)] = tmpl
        return tmpl

    # rendering ------------------------------------------------------------------------

    def render(self, value: Any, variables: Mapping[str, Any]) -> Any:
        """Render every string in value (recursively), as Ansible renders task values:
        '{{ x }}' alone, or followed by one newline, keeps x's type (a string result keeps
        the newline); string literals' backslashes are YAML's only."""
        if isinstance(value, str):
            if not is_template(value):
                return value
            match = SINGLE_EXPR.match(value)
            if match is not None:
                return self.evaluate(match.group(1), variables, escape=True)
            match = SINGLE_EXPR.match(value[:-1]) if value.endswith("\n") else None
            if match is not None:
                result = self.evaluate(match.group(1), variables, escape=True)
                return f"{result}\n" if isinstance(result, str) else result
            return self.render_text(value, variables, escape=True)
        if isinstance(value, Mapping):
            return {self.render(k, variables): self.render(v, variables) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.render(v, variables) for v in value]
        return value

    @_secrets_whole("names")
    def render_text(self, source: str, variables: Mapping[str, Any], escape: bool = False) -> str:
        """Render source as text (escape: backslashes as in a playbook value, see render)."""
        tmpl = self._text(source, escape)
        try:
            with self.env.deadline():  # type: ignore[attr-defined]
                ctx = tmpl.new_context(variables, shared=True)  # type: ignore[arg-type]
                return "".join(tmpl.root_render_func(ctx))
        except TemplateError:
            raise
        except Exception as err:
            raise _error(err, source) from None

    @_secrets_whole("expression_names")
    def evaluate(self, expression: str, variables: Mapping[str, Any], escape: bool = False) -> Any:
        """The value of a bare Jinja2 expression (as in `when:`), with its native type."""
        from jinja2 import Undefined

        tmpl = self._expr(expression, escape)
        try:
            with self.env.deadline():  # type: ignore[attr-defined]
                ctx = tmpl.new_context(variables, shared=True)  # type: ignore[arg-type]
                for _ in tmpl.root_render_func(ctx):
                    pass
                value = ctx.vars[RESULT]
                if isinstance(value, GeneratorType):
                    value = list(value)  # a lazy filter result (map, unique) is a list
            if isinstance(value, Undefined):
                str(value)  # raises UndefinedError with the missing name
            return value
        except TemplateError:
            raise
        except Exception as err:
            raise _error(err, expression) from None

    def find_template(self, name: str, first: Sequence[Path] = ()) -> Path:
        """Where template `name` is: in `first` (a role's templates/), then beside the
        playbook's templates/, then the repo's."""
        path = Path(name).expanduser()
        if path.is_absolute():
            if path.is_file():
                return path
            raise TemplateError(f"template {name} not found")
        for base in (*first, *self.search_paths):
            candidate = base / path
            if candidate.is_file():
                return candidate
        where = ", ".join(str(p) for p in (*first, *self.search_paths)) or "(no search path)"
        raise TemplateError(f"template {name} not found (looked in {where})")

    def _file_env(self, syntax: Mapping[str, Any] | None) -> Environment:
        """The environment for a template file: Jinja's settings a template task changes
        (delimiters, trim_blocks, lstrip_blocks, newline_sequence) over the run's own,
        filters and globals shared."""
        if not syntax:
            return self.env
        key = tuple(sorted(syntax.items()))
        env = self._syntaxes.get(key)
        if env is None:
            try:
                env = self.env.overlay(**dict(syntax))
            except (TypeError, ValueError) as err:
                raise TemplateError(f"template options {dict(syntax)!r}: {err}") from None
            self._syntaxes[key] = env
        return env

    @_secrets_whole("template_file_names")
    def render_file(
        self,
        name: str,
        variables: Mapping[str, Any],
        first: Sequence[Path] = (),
        *,
        syntax: Mapping[str, Any] | None = None,
    ) -> str:
        """Render a template file (found with find_template) as text; syntax: the Jinja
        settings the template task gives (see _file_env)."""
        from jinja2.exceptions import TemplateSyntaxError

        path = self.find_template(name, first)
        env = self._file_env(syntax)
        try:
            tmpl = env.from_string(safeio.read_text(path, TemplateError, what="template"))
        except TemplateSyntaxError as err:
            raise TemplateError(
                f"template syntax error in {path}:{err.lineno}: {err.message}"
            ) from None
        try:
            with self.env.deadline():  # type: ignore[attr-defined]
                ctx = tmpl.new_context(variables, shared=True)  # type: ignore[arg-type]
                return "".join(tmpl.root_render_func(ctx))
        except Exception as err:
            error = _error(err)
            raise TemplateError(f"{path}: {error.message}") from None

    # checking ahead of the run ---------------------------------------------------------

    def names(self, value: Any, *, guarded: bool = False) -> set[str]:
        """Variable names value reads (guarded=False: leave out those under `is defined`
        or `| default`); TemplateError on a syntax error."""
        return set(self._scan(value, guarded, {}))

    def _scan(self, value: Any, guarded: bool, seen: dict[int, frozenset[str]]) -> frozenset[str]:
        """names(), memoised: each template string is parsed once per Renderer, and each
        container once per scan, so a block shared by YAML aliases costs one visit."""
        if isinstance(value, str):
            if not is_template(value):
                return frozenset()
            key = (value, guarded)
            found = self._scans.get(key)
            if found is None:
                found = self._scans[key] = frozenset(
                    self._names(self._parse(value, value), guarded)
                )
            return found
        if not isinstance(value, Mapping | list | tuple):
            return frozenset()
        known = seen.get(id(value))
        if known is not None:
            return known
        seen[id(value)] = frozenset()  # a cycle contributes nothing more
        items = (x for kv in value.items() for x in kv) if isinstance(value, Mapping) else value
        out: set[str] = set()
        for item in items:
            out |= self._scan(item, guarded, seen)
        seen[id(value)] = result = frozenset(out)
        return result

    def expression_names(self, expression: str, *, guarded: bool = False) -> set[str]:
        """Variable names a bare expression reads (see names); TemplateError on bad syntax."""
        return self._names(self._parse(f"{{{{ ({expression}) }}}}", expression), guarded)

    def template_file_names(
        self,
        name: str,
        *,
        guarded: bool = False,
        first: Sequence[Path] = (),
        syntax: Mapping[str, Any] | None = None,
    ) -> set[str]:
        """Parse a template file ahead of the run: the names it reads (see names)."""
        from jinja2.exceptions import TemplateSyntaxError

        path = self.find_template(name, first)
        try:
            ast = self._file_env(syntax).parse(
                safeio.read_text(path, TemplateError, what="template")
            )
        except TemplateSyntaxError as err:
            raise TemplateError(
                f"template syntax error in {path}:{err.lineno}: {err.message}"
            ) from None
        return self._names(ast, guarded)

    def _parse(self, source: str, shown: str) -> nodes.Template:
        try:
            return self.env.parse(source)
        except Exception as err:
            raise _error(err, shown) from None

    @staticmethod
    def _names(ast: nodes.Template, include_guarded: bool) -> set[str]:
        from jinja2 import meta, nodes

        needed = set(meta.find_undeclared_variables(ast))
        if include_guarded:
            return needed
        guarded: set[str] = set()
        for node in ast.find_all((nodes.Test, nodes.Filter)):
            name = node.name
            is_guard = (isinstance(node, nodes.Test) and name in GUARD_TESTS) or (
                isinstance(node, nodes.Filter) and name in GUARD_FILTERS
            )
            inner = node.node
            if not is_guard or inner is None:
                continue
            if isinstance(inner, nodes.Name):
                guarded.add(inner.name)
            guarded.update(n.name for n in inner.find_all(nodes.Name))
        # what may never be evaluated (`a == 1 or nope`, `x if c else nope`) is no
        # certain need: Jinja, like Ansible, evaluates it only when it is reached
        lazy: list[nodes.Node] = [n.right for n in ast.find_all((nodes.And, nodes.Or))]
        for cond in ast.find_all(nodes.CondExpr):
            lazy.append(cond.expr1)
            if cond.expr2 is not None:
                lazy.append(cond.expr2)
        for part in lazy:
            if isinstance(part, nodes.Name):
                guarded.add(part.name)
            guarded.update(n.name for n in part.find_all(nodes.Name))
        return needed - guarded
