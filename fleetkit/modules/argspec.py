"""Validate values against an Ansible argument spec, as ansible-core 2.19's ArgumentSpecValidator.

Used by `validate_argument_spec` and so by a role's meta/argument_specs.yml. The
steps, their order and their messages are ansible-core's (module_utils/common/
arg_spec.py, parameters.py, validation.py): aliases, sub-spec shapes, unsupported
names, defaults, required, types and elements, choices, then each nested
`options` (with its mutually_exclusive, required_together, required_one_of,
required_if and required_by), the unsupported names reported last. A spec's
`fallback` (a Python callable in a module) has no meaning in YAML and is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetkit.modules.argspec_types import BOOLEANS_FALSE, BOOLEANS_TRUE, check_dict, checker
from fleetkit.modules.argspec_types import type_name as _type

_FALSE = frozenset(BOOLEANS_FALSE)
_TRUE = frozenset(BOOLEANS_TRUE)

Key = str | tuple[str, ...]


class SpecError(ValueError):
    """An argument spec ansible-core could not even read (an option that is no mapping)."""


@dataclass(frozen=True)
class Validation:
    """The outcome: error messages in ansible-core's order, and the values with defaults set."""

    errors: tuple[str, ...]
    params: Mapping[str, Any]
    no_log_values: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Run:
    """What one validation collects as it walks the spec."""

    errors: list[str] = field(default_factory=list)
    unsupported: set[Key] = field(default_factory=set)
    supported: dict[Key, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)


def validate(spec: Mapping[str, Any], params: Mapping[str, Any]) -> Validation:
    """Check params against spec (option name -> its type, required, default, choices...)."""
    _check_shape(spec, ())
    values = {k: _copy(v) for k, v in params.items()}
    run = _Run()
    try:
        aliases = _aliases(spec, values)
    except (TypeError, ValueError) as err:
        run.errors.append(str(err))
        aliases = {}
    legal = [*aliases, *spec]
    _no_log(spec, values, run)
    try:
        run.unsupported |= _unsupported(spec, values, legal, [], run)
    except (TypeError, ValueError) as err:
        run.errors.append(str(err))
    _set_defaults(spec, values, everything=False)
    _guard(run, _required, spec, values, [])
    _types(spec, values, [], run)
    _choices(spec, values, [], run)
    _set_defaults(spec, values, everything=True)
    _sub_specs(spec, values, [], run)
    if run.unsupported:
        run.errors.append(_unsupported_message(run))
    return Validation(tuple(run.errors), values, frozenset(run.secrets))


def _copy(value: Any) -> Any:
    """A copy of the containers of value: validation converts and completes them in place,
    and the host's variables must stay as they were."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _check_shape(spec: Any, at: tuple[str, ...]) -> None:
    where = f" in '{'.'.join(at)}'" if at else ""
    if not isinstance(spec, Mapping):
        raise SpecError(f"an argument spec is a mapping of option names{where}")
    for name, option in spec.items():
        if not isinstance(option, Mapping):
            raise SpecError(
                f"the spec of option '{name}'{where} must be a mapping (type, required,"
                f" default...), got {_type(option)}"
            )
        sub = option.get("options")
        if sub is not None:
            _check_shape(sub, (*at, str(name)))


def _guard(run: _Run, check: Any, *args: Any) -> None:
    """Run one check that raises TypeError with its message (ansible-core's style)."""
    try:
        check(*args)
    except TypeError as err:
        run.errors.append(str(err))


def _context(ctx: Sequence[str]) -> str:
    return " -> ".join(ctx)


def _found_in(msg: str, ctx: Sequence[str]) -> str:
    return f"{msg} found in {_context(ctx)}" if ctx else msg


def _aliases(spec: Mapping[str, Any], params: dict[str, Any]) -> dict[str, str]:
    """alias -> option; an alias's value is copied to its option (as _handle_aliases)."""
    out: dict[str, str] = {}
    for name, option in spec.items():
        aliases = option.get("aliases")
        if option.get("default") is not None and option.get("required", False):
            raise ValueError(
                f"internal error: required and default are mutually exclusive for {name}"
            )
        if aliases is None:
            continue
        if isinstance(aliases, (str, bytes)) or not isinstance(aliases, Iterable):
            raise TypeError("internal error: aliases must be a list or tuple")
        for alias in aliases:
            out[alias] = name
            if alias in params:
                params[name] = params[alias]
    return out


def _no_log(spec: Mapping[str, Any], params: Mapping[str, Any], run: _Run) -> None:
    """Collect no_log values; a sub-option value that is no mapping is an error here first
    (ansible-core's _list_no_log_values runs before the type checks)."""
    try:
        _collect_no_log(spec, params, run.secrets)
    except TypeError as err:
        run.errors.append(str(err))


def _collect_no_log(spec: Mapping[str, Any], params: Mapping[str, Any], out: set[str]) -> None:
    for name, option in spec.items():
        if option.get("no_log", False) and params.get(name):
            out.update(_strings(params[name]))
        sub = option.get("options")
        value = params.get(name)
        if sub is None or value is None:
            continue
        wanted = option.get("type")
        if wanted == "dict" or (wanted == "list" and option.get("elements", "") == "dict"):
            for given in value if isinstance(value, list) else [value]:
                item = check_dict(given) if isinstance(given, str) else given
                if not isinstance(item, Mapping):
                    raise TypeError(
                        f"Value '{item}' in the sub parameter field '{name}' must be a"
                        f" {wanted}, not '{_type(item)}'"
                    )
                _collect_no_log(sub, item, out)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, (str, bytes)):
        if value:
            yield value if isinstance(value, str) else value.decode("utf-8", "replace")
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)


def _unsupported(
    spec: Mapping[str, Any],
    params: dict[str, Any],
    legal: list[str],
    ctx: Sequence[str],
    run: _Run,
) -> set[Key]:
    out: set[Key] = set()
    for name in params:
        if name in legal:
            continue
        key: Key = (*ctx, str(name)) if ctx else str(name)
        out.add(key)
        aliases = _aliases(spec, params)
        run.supported[key] = ([o for o in legal if o not in aliases], aliases)
    return out


def _unsupported_message(run: _Run) -> str:
    names = {(".".join(k) if isinstance(k, tuple) else k): k for k in run.unsupported}
    shown = sorted(names)
    params, aliases = run.supported.get(names[shown[-1]], ([], {}))
    supported = ", ".join(sorted(params))
    if aliases:
        supported += f" ({', '.join(sorted(aliases))})"
    return f"{', '.join(shown)}. Supported parameters include: {supported}."


def _set_defaults(spec: Mapping[str, Any], params: dict[str, Any], *, everything: bool) -> None:
    """Defaults for absent options: those that have one (everything=False), else every
    option (None when it has no default), as ansible-core's two _set_defaults passes."""
    for name, option in spec.items():
        default = option.get("default")
        if name not in params and (default is not None or everything):
            params[name] = default


def _required(spec: Mapping[str, Any], params: Mapping[str, Any], ctx: Sequence[str]) -> None:
    missing = [
        name for name, opt in spec.items() if opt.get("required", False) and name not in params
    ]
    if missing:
        raise TypeError(_found_in(f"missing required arguments: {', '.join(sorted(missing))}", ctx))


def _types(spec: Mapping[str, Any], params: dict[str, Any], ctx: Sequence[str], run: _Run) -> None:
    where = f" found in '{_context(ctx)}'." if ctx else ""
    for name, option in spec.items():
        if name not in params:
            continue
        value = params[name]
        if value is None and not option.get("required") and option.get("default") is None:
            continue
        check, wanted = checker(option.get("type"))
        try:
            params[name] = check(value)
            elements = option.get("elements")
            if elements:
                converted = params[name]
                if not isinstance(converted, list):
                    run.errors.append(
                        f"Invalid type {wanted} for option '{converted}'{where}, elements value"
                        " check is supported only with 'list' type"
                    )
                params[name] = _elements(elements, name, converted, ctx, run)
        except (TypeError, ValueError) as err:
            run.errors.append(
                f"argument '{name}' is of type {_type(value)}{where} and we were unable to"
                f" convert to {wanted}: {err}"
            )


def _elements(wanted: Any, name: str, values: Any, ctx: Sequence[str], run: _Run) -> list[Any]:
    check, type_name = checker(wanted)
    where = f" found in '{_context(ctx)}'" if ctx else ""
    out: list[Any] = []
    for value in values:
        try:
            out.append(check(value))
        except (TypeError, ValueError) as err:
            run.errors.append(
                f"Elements value for option '{name}'{where} is of type {_type(value)} and we"
                f" were unable to convert to {type_name}: {err}"
            )
    return out


def _choices(
    spec: Mapping[str, Any], params: dict[str, Any], ctx: Sequence[str], run: _Run
) -> None:
    for name, option in spec.items():
        choices = option.get("choices")
        if choices is None:
            continue
        if not isinstance(choices, (frozenset, KeysView, Sequence)) or isinstance(
            choices, (str, bytes)
        ):
            run.errors.append(
                _found_in(
                    f"internal error: choices for argument {name} are not iterable: {choices!s}",
                    ctx,
                )
            )
            continue
        if name not in params:
            continue
        shown = ", ".join(str(c) for c in choices)
        value = params[name]
        if isinstance(value, list):
            missing = [item for item in value if item not in choices]
            if missing:
                run.errors.append(
                    _found_in(
                        f"value of {name} must be one or more of: {shown}. Got no match for:"
                        f" {', '.join(str(m) for m in missing)}",
                        ctx,
                    )
                )
        elif value not in choices:
            for word, booleans in (("False", _FALSE), ("True", _TRUE)):
                if value == word:
                    overlap = _overlap(booleans, choices)
                    if len(overlap) == 1:
                        (value,) = overlap
                        params[name] = value
            if value not in choices:
                run.errors.append(
                    _found_in(f"value of {name} must be one of: {shown}, got: {value}", ctx)
                )


def _overlap(booleans: frozenset[Any], choices: Iterable[Any]) -> frozenset[Any]:
    try:
        return booleans.intersection(choices)
    except TypeError:  # an unhashable choice
        return frozenset()


def _sub_specs(spec: Mapping[str, Any], params: dict[str, Any], ctx: list[str], run: _Run) -> None:
    """Each nested `options` spec, for a dict option or each element of a list of dicts."""
    for name, option in spec.items():
        wanted = option.get("type")
        if not (wanted == "dict" or (wanted == "list" and option.get("elements", "") == "dict")):
            continue
        sub = option.get("options")
        if option.get("apply_defaults", False):
            if sub is None:
                continue
            if params.get(name) is None:
                params[name] = {}
        elif sub is None or params.get(name) is None:
            continue
        ctx.append(str(name))
        value = params[name]
        items = [value] if not isinstance(value, Sequence) or isinstance(value, str) else value
        for item in items:
            if not isinstance(item, dict):
                run.errors.append(f"value of '{name}' must be of type dict or list of dicts")
                continue
            _one_sub_spec(sub, option, item, ctx, run)
        ctx.pop()


def _one_sub_spec(
    sub: Mapping[str, Any],
    option: Mapping[str, Any],
    item: dict[str, Any],
    ctx: list[str],
    run: _Run,
) -> None:
    try:
        aliases = _aliases(sub, item)
    except (TypeError, ValueError) as err:
        aliases = {}
        run.errors.append(str(err))
    _no_log(sub, item, run)
    try:
        run.unsupported |= _unsupported(sub, item, [*aliases, *sub], ctx, run)
    except (TypeError, ValueError) as err:
        run.errors.append(str(err))
    _guard(run, _mutually_exclusive, option.get("mutually_exclusive"), item, ctx)
    _set_defaults(sub, item, everything=False)
    _guard(run, _required, sub, item, ctx)
    _types(sub, item, ctx, run)
    _choices(sub, item, ctx, run)
    _guard(run, _required_together, option.get("required_together"), item, ctx)
    _guard(run, _required_one_of, option.get("required_one_of"), item, ctx)
    _guard(run, _required_if, option.get("required_if"), item, ctx)
    _guard(run, _required_by, option.get("required_by"), item, ctx)
    _set_defaults(sub, item, everything=True)
    _sub_specs(sub, item, ctx, run)


def _count(terms: Any, params: Mapping[str, Any]) -> int:
    names = [terms] if isinstance(terms, (str, bytes)) or not isinstance(terms, Iterable) else terms
    return len(set(names).intersection(params))


def _mutually_exclusive(terms: Any, params: Mapping[str, Any], ctx: Sequence[str]) -> None:
    if terms is None:
        return
    found = [check for check in terms if _count(check, params) > 1]
    if found:
        shown = ", ".join("|".join(check) for check in found)
        raise TypeError(_found_in(f"parameters are mutually exclusive: {shown}", ctx))


def _required_one_of(terms: Any, params: Mapping[str, Any], ctx: Sequence[str]) -> None:
    for term in terms or ():
        if _count(term, params) == 0:
            raise TypeError(_found_in(f"one of the following is required: {', '.join(term)}", ctx))


def _required_together(terms: Any, params: Mapping[str, Any], ctx: Sequence[str]) -> None:
    for term in terms or ():
        counts = [_count(name, params) for name in term]
        if any(counts) and 0 in counts:
            raise TypeError(_found_in(f"parameters are required together: {', '.join(term)}", ctx))


def _required_by(requirements: Any, params: Mapping[str, Any], ctx: Sequence[str]) -> None:
    for key, value in (requirements or {}).items():
        if params.get(key) is None:
            continue
        names = [value] if isinstance(value, str) else value
        missing = [n for n in names if params.get(n) is None]
        if missing:
            raise TypeError(
                _found_in(f"missing parameter(s) required by '{key}': {', '.join(missing)}", ctx)
            )


def _required_if(requirements: Any, params: Mapping[str, Any], ctx: Sequence[str]) -> None:
    for req in requirements or ():
        key, value, names = req[0], req[1], req[2]
        any_of = bool(req[3]) if len(req) == 4 else False
        if key not in params or params[key] != value:
            continue
        missing = [n for n in names if _count(n, params) == 0]
        if missing and len(missing) >= (len(names) if any_of else 0):
            kind = "any" if any_of else "all"
            raise TypeError(
                _found_in(
                    f"{key} is {value} but {kind} of the following are missing:"
                    f" {', '.join(missing)}",
                    ctx,
                )
            )
