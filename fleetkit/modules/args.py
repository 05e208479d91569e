"""Validation and coercion of module arguments against their declarations.

Runs twice: statically at load time (names, required, choices and types of the
values that hold no template) so nothing runs with a typo, and per host after
rendering (types, choices, exclusive groups) just before the module runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fleetkit.modules.base import Arg, Module
from fleetkit.text import did_you_mean, to_bool

SYMBOLIC_MODE = re.compile(
    r"^[ugoa]*[-+=][rwxXstugo]*([-+=][rwxXstugo]*)*(,[ugoa]*[-+=][rwxXstugo]*([-+=][rwxXstugo]*)*)*$"
)


def _aliases(module: Module) -> dict[str, str]:
    out = {name: name for name in module.args}
    for name, arg in module.args.items():
        for alias in arg.aliases:
            out[alias] = name
    return out


def unknown_names(module: Module, raw: Mapping[str, Any]) -> list[str]:
    """The argument names module does not declare (by name or alias)."""
    if module.free_args:
        return []
    names = _aliases(module)
    return [str(key) for key in raw if str(key) not in names]


def canonical(module: Module, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Map aliases to canonical names; unknown names become messages with a suggestion."""
    if module.free_args:
        return dict(raw), []
    names = _aliases(module)
    out: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in raw.items():
        target = names.get(str(key))
        if target is None:
            tail = did_you_mean(str(key), names)
            errors.append(f"module {module.name}: unknown argument '{key}'{tail}")
            continue
        if target in out:
            errors.append(f"module {module.name}: argument '{target}' given twice (via '{key}')")
            continue
        out[target] = value
    return out, errors


def _presence_errors(
    module: Module, args: Mapping[str, Any], known: Mapping[str, Any] | None = None
) -> list[str]:
    """Required and exclusive arguments; `known`: the values known before the run (a
    template may render to omit, so it counts for required but not against exclusive)."""
    errors: list[str] = []
    for name, arg in module.args.items():
        if arg.required and args.get(name) is None:
            errors.append(f"module {module.name}: missing required argument '{name}'")
    decided = args if known is None else known
    for group in module.exclusive:
        given = [g for g in group if decided.get(g) is not None]
        if len(given) > 1:
            errors.append(
                f"module {module.name}: arguments {' and '.join(given)} are mutually exclusive"
            )
    for group in module.one_of:
        if not any(args.get(g) is not None for g in group):
            errors.append(f"module {module.name}: one of {', '.join(group)} is required")
    return errors


def validate_static(
    module: Module, raw: Mapping[str, Any], is_template: Callable[[Any], bool]
) -> list[str]:
    """Errors found before any host is touched (templated values are checked later)."""
    args, errors = canonical(module, raw)
    known = {k: v for k, v in args.items() if not is_template(v)}
    errors += _presence_errors(module, args, known)
    if module.free_args:
        return errors
    for name, value in args.items():
        if value is None or is_template(value):
            continue
        try:
            coerce_value(module.args[name], value)
        except ValueError as err:
            errors.append(f"module {module.name}: argument '{name}': {err}")
    return errors


def prepare(module: Module, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Rendered arguments -> coerced values with defaults, plus error messages."""
    args, errors = canonical(module, raw)
    if module.free_args:
        return args, errors
    errors += _presence_errors(module, args)
    out: dict[str, Any] = {}
    for name, arg in module.args.items():
        value = args.get(name)
        if value is None:
            out[name] = arg.default
            continue
        try:
            out[name] = coerce_value(arg, value)
        except ValueError as err:
            errors.append(f"module {module.name}: argument '{name}': {err}")
    if not errors:
        errors += module.check_args(out)
    return out, errors


def secret_values(module: Module, raw: Mapping[str, Any]) -> list[str]:
    """The plaintexts of the arguments module declares `Arg(secret=True)` (by any alias),
    for the run's redactor: a Secret's revealed value, or every string in the value."""
    names = _aliases(module)
    out: list[str] = []
    for key, value in raw.items():
        target = names.get(str(key))
        if target is not None and module.args[target].secret:
            out.extend(_texts(value))
    return out


def _texts(value: Any) -> list[str]:
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return [str(reveal())]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def coerce_value(arg: Arg, value: Any) -> Any:
    """Convert value to the declared type; ValueError with a short reason otherwise."""
    out = _convert(arg, value)
    if arg.choices and out not in arg.choices:
        choices = ", ".join(str(c) for c in arg.choices)
        tail = did_you_mean(str(out), [str(c) for c in arg.choices])
        raise ValueError(f"{out!r} is not one of {choices}{tail}")
    return out


def _convert(arg: Arg, value: Any) -> Any:
    kind = arg.type
    if kind == "raw":
        return value
    if kind in ("str", "path"):
        if isinstance(value, (Mapping, list, tuple)):
            raise ValueError(f"expected a string, got {type(value).__name__}")
        return str(value)
    if kind == "bool":
        return to_bool(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected an integer, got {value!r}") from None
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
    if kind == "list":
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return [value]
    if kind == "dict":
        if isinstance(value, Mapping):
            return dict(value)
        raise ValueError(f"expected a mapping, got {type(value).__name__}")
    return _mode(value)


def _mode(value: Any) -> int | str:
    """A file mode: an int, an octal string ('0644'), or symbolic ('u+x')."""
    if isinstance(value, bool):
        raise ValueError(f"expected a file mode, got {value!r}")
    if isinstance(value, int):
        if not 0 <= value <= 0o7777:
            raise ValueError(f"mode {value} is out of range")
        return value
    text = str(value).strip()
    if text and all(c in "01234567" for c in text):
        return int(text, 8)
    if SYMBOLIC_MODE.match(text):
        return text
    raise ValueError(f"expected an octal mode like '0644' or 'u+x', got {value!r}")
