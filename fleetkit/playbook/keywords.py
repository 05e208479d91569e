"""Playbook keywords declared once, the way Ansible's FieldAttribute does.

Each keyword of a task or play is a dataclass field of schema.Task/Play whose
metadata holds a Keyword: the YAML keys it reads, its coercer (YAML value ->
typed value, PlaybookError with file:line otherwise) and how a block, role or
import passes it down to the tasks inside (`inherit`). The loader, the block
inheritance and the "did you mean" lists all read this one table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

from fleetkit.errors import PlaybookError, Position
from fleetkit.playbook.lookups import PLUGINS as LOOKUPS
from fleetkit.playbook.render import is_template
from fleetkit.text import did_you_mean, to_bool
from fleetkit.yamlpos import position_of

Inherit = Literal["none", "override", "and", "union", "merge"]
"""How an enclosing block/role/import passes a keyword down: not at all; the task's
own value wins; conditions ANDed (outer first); tags united; mappings merged."""

Coercer = Callable[[Mapping[str, Any], str, Position], Any]
"""(the YAML mapping, the keyword, the mapping's position) -> typed value."""

EMPTY: Mapping[str, Any] = MappingProxyType({})
LOOP_CONTROL = frozenset(
    {"loop_var", "index_var", "label", "extended", "extended_allitems", "pause"}
)
LOOP_KEYS = ("loop", *(f"with_{name}" for name in LOOKUPS))
"""The keys that make a task loop: loop: or with_<lookup>: for every lookup (one per task)."""
ORDERS = ("inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle")
DEFAULT_DELAY = 5.0


@dataclass(frozen=True)
class Keyword:
    """One playbook keyword: the keys it reads, its coercer, its inheritance."""

    coerce: Coercer
    keys: tuple[str, ...] = ()
    inherit: Inherit = "none"
    block: bool = False
    """Also allowed on a block (and on roles: entries, import_* tasks)."""


def keyword(
    coerce: Coercer,
    *,
    default: Any = None,
    factory: Callable[[], Any] | None = None,
    keys: tuple[str, ...] = (),
    inherit: Inherit = "none",
    block: bool = False,
) -> Any:
    """A dataclass field that is a playbook keyword (see Keyword)."""
    meta = {"keyword": Keyword(coerce, keys, inherit, block)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def keywords_of(cls: type) -> dict[str, Keyword]:
    """Field name -> Keyword for every keyword field of a schema dataclass."""
    out: dict[str, Keyword] = {}
    for f in fields(cls):
        kw = f.metadata.get("keyword")
        if isinstance(kw, Keyword):
            out[f.name] = kw if kw.keys else Keyword(kw.coerce, (f.name,), kw.inherit, kw.block)
    return out


def yaml_keys(table: Mapping[str, Keyword]) -> frozenset[str]:
    """Every YAML key the table's keywords read."""
    return frozenset(k for kw in table.values() for k in kw.keys)


def coerce_all(
    table: Mapping[str, Keyword], entry: Mapping[str, Any], pos: Position
) -> dict[str, Any]:
    """Coerce the keywords present in entry: field name -> typed value."""
    out: dict[str, Any] = {}
    for name, kw in table.items():
        if any(k in entry for k in kw.keys):
            out[name] = kw.coerce(entry, name, pos)
    return out


def combine(
    table: Mapping[str, Keyword], outer: Mapping[str, Any], own: Mapping[str, Any]
) -> dict[str, Any]:
    """What a task (or inner block) ends up with: own values over inherited ones."""
    out = {k: v for k, v in outer.items() if table[k].inherit != "none"}
    for name, value in own.items():
        mode = table[name].inherit
        if name not in out or mode in ("none", "override"):
            out[name] = value
        elif mode == "and":
            out[name] = (*out[name], *value)
        elif mode == "union":
            out[name] = out[name] | value
        else:
            out[name] = MappingProxyType({**out[name], **value})
    return out


def unknown(key: Any, known: frozenset[str] | set[str], what: str) -> str:
    """The one "unknown X 'k' (did you mean 'y'?)" message."""
    return f"unknown {what} '{key}'{did_you_mean(str(key), known)}"


# coercers ---------------------------------------------------------------------------


def _at(entry: Mapping[str, Any], key: str, pos: Position) -> Position:
    return position_of(entry, key) or pos


def as_str(entry: Mapping[str, Any], key: str, pos: Position) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise PlaybookError(f"{key} must be a string", position=_at(entry, key, pos))
    return str(value)


def parse_bool(value: Any) -> bool | None:
    """The one boolean parser of playbooks: None stays None, else yes/no/true/false."""
    if value is None:
        return None
    return to_bool(value)


def as_bool(entry: Mapping[str, Any], key: str, pos: Position) -> bool | None:
    value = entry.get(key)
    try:
        return parse_bool(value)
    except ValueError:
        raise PlaybookError(
            f"{key} must be yes/no (true/false), got {value!r}", position=_at(entry, key, pos)
        ) from None


def as_flag(entry: Mapping[str, Any], key: str, pos: Position) -> bool:
    return bool(as_bool(entry, key, pos))


def as_bool_or_template(entry: Mapping[str, Any], key: str, pos: Position) -> Any:
    value = entry.get(key)
    if value is None:
        return False
    if is_template(value):
        return value
    return as_bool(entry, key, pos)


def as_int(entry: Mapping[str, Any], key: str, pos: Position) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PlaybookError(f"{key} must be a whole number", position=_at(entry, key, pos))
    try:
        number = int(value)
    except ValueError:
        raise PlaybookError(
            f"{key} must be a whole number, got {value!r}", position=_at(entry, key, pos)
        ) from None
    if number < 0:
        raise PlaybookError(f"{key} must not be negative", position=_at(entry, key, pos))
    return number


def as_float(entry: Mapping[str, Any], key: str, pos: Position) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    if isinstance(value, bool):
        raise PlaybookError(f"{key} must be a number", position=_at(entry, key, pos))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PlaybookError(
            f"{key} must be a number, got {value!r}", position=_at(entry, key, pos)
        ) from None
    if number < 0:
        raise PlaybookError(f"{key} must not be negative", position=_at(entry, key, pos))
    return number


def as_delay(entry: Mapping[str, Any], key: str, pos: Position) -> float:
    return as_float(entry, key, pos) or 0.0


def as_mapping(entry: Mapping[str, Any], key: str, pos: Position) -> Mapping[str, Any]:
    value = entry.get(key)
    if value is None:
        return EMPTY
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        merged: dict[str, Any] = {}
        for v in value:
            merged.update(v)
        return MappingProxyType(merged)
    if not isinstance(value, dict):
        raise PlaybookError(
            f"{key} must be a mapping of names to values", position=_at(entry, key, pos)
        )
    return MappingProxyType(dict(value))


def as_tags(entry: Mapping[str, Any], key: str, pos: Position) -> frozenset[str]:
    value = entry.get(key)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list):
        return frozenset(str(t).strip() for t in value if str(t).strip())
    raise PlaybookError(f"{key} must be a name or a list of names", position=_at(entry, key, pos))


def as_names(entry: Mapping[str, Any], key: str, pos: Position) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PlaybookError(f"{key} must be a name or a list of names", position=_at(entry, key, pos))


def as_identifier(entry: Mapping[str, Any], key: str, pos: Position) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isidentifier():
        raise PlaybookError(
            f"{key} must be a variable name, got {value!r}", position=_at(entry, key, pos)
        )
    return value


def as_conditions(entry: Mapping[str, Any], key: str, pos: Position) -> tuple[Any, ...] | None:
    value = entry.get(key)
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, (str, bool, int)):
            raise PlaybookError(
                f"{key} takes expressions (strings) or booleans, got {item!r}",
                position=_at(entry, key, pos),
            )
    return tuple(items)


def as_when(entry: Mapping[str, Any], key: str, pos: Position) -> tuple[Any, ...]:
    return as_conditions(entry, key, pos) or ()


def _loop_key(entry: Mapping[str, Any], pos: Position) -> str:
    present = [k for k in LOOP_KEYS if k in entry]
    if len(present) > 1:
        raise PlaybookError(
            f"{present[0]} and {present[1]} together", position=_at(entry, present[1], pos)
        )
    return present[0]


def as_loop(entry: Mapping[str, Any], key: str, pos: Position) -> Any:
    return entry[_loop_key(entry, pos)]


def as_loop_with(entry: Mapping[str, Any], key: str, pos: Position) -> str:
    """The lookup a with_<name>: loop runs ('' for loop:)."""
    found = _loop_key(entry, pos)
    return "" if found == "loop" else found[len("with_") :]


def _loop_control(entry: Mapping[str, Any], pos: Position) -> Mapping[str, Any]:
    control = entry.get("loop_control")
    if control is None:
        return EMPTY
    if not isinstance(control, dict):
        raise PlaybookError(
            "loop_control must be a mapping", position=_at(entry, "loop_control", pos)
        )
    for key in control:
        if key not in LOOP_CONTROL:
            raise PlaybookError(
                unknown(key, LOOP_CONTROL, "loop_control key"),
                position=position_of(control, key) or pos,
            )
    return control


def as_loop_var(entry: Mapping[str, Any], key: str, pos: Position) -> str:
    control = _loop_control(entry, pos)
    if "loop_var" in entry:
        return str(entry["loop_var"])
    return str(control.get("loop_var", "item"))


def as_index_var(entry: Mapping[str, Any], key: str, pos: Position) -> str | None:
    value = _loop_control(entry, pos).get("index_var")
    return None if value is None else str(value)


def as_label(entry: Mapping[str, Any], key: str, pos: Position) -> Any:
    return _loop_control(entry, pos).get("label")


def as_pause(entry: Mapping[str, Any], key: str, pos: Position) -> float:
    control = _loop_control(entry, pos)
    return as_float(control, "pause", position_of(entry, "loop_control") or pos) or 0.0


def as_extended(entry: Mapping[str, Any], key: str, pos: Position) -> bool:
    control = _loop_control(entry, pos)
    return as_flag(control, "extended", position_of(entry, "loop_control") or pos)


def as_extended_allitems(entry: Mapping[str, Any], key: str, pos: Position) -> bool:
    control = _loop_control(entry, pos)
    value = as_bool(control, "extended_allitems", position_of(entry, "loop_control") or pos)
    return True if value is None else value


def as_positive(entry: Mapping[str, Any], key: str, pos: Position) -> int | None:
    number = as_int(entry, key, pos)
    if number == 0:
        return None
    return number


def as_order(entry: Mapping[str, Any], key: str, pos: Position) -> str:
    value = entry.get(key)
    if value is None:
        return "inventory"
    if value not in ORDERS:
        raise PlaybookError(
            f"order must be one of {', '.join(ORDERS)}{did_you_mean(str(value), list(ORDERS))}",
            position=_at(entry, key, pos),
        )
    return str(value)


def as_serial(entry: Mapping[str, Any], key: str, pos: Position) -> tuple[int | str, ...]:
    value = entry.get("serial")
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[int | str] = []
    where = _at(entry, "serial", pos)
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


def as_raw(entry: Mapping[str, Any], key: str, pos: Position) -> Any:
    return entry.get(key)
