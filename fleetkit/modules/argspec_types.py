"""The value conversions of an Ansible argument spec's `type:` (ansible-core 2.19's check_type_*).

Each checker returns the converted value or raises TypeError with the message
ansible-core gives, which the validator wraps ("argument 'x' is of type str and
we were unable to convert to int: ..."). A class in a message is the value's
plain Python type (`<class 'str'>`): ansible-core 2.19 names its internal tagged
type there for a value read from YAML (docs/contracts.md, Role argument specs).
"""

from __future__ import annotations

import ast
import decimal
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

BOOLEANS_TRUE = ("y", "yes", "on", "1", "true", "t", 1, 1.0, True)
BOOLEANS_FALSE = ("n", "no", "off", "0", "false", "f", 0, 0.0, False)
BOOLEANS_SHOWN = "'y', 'yes', 'on', '1', 'true', 't', 1, 'n', 'no', 'off', '0', 'false', 'f', 0"
"""ansible-core's set of booleans as its message lists them (its order varies per process)."""

_PLAIN = (bool, int, float, str, bytes, dict, list, tuple, set, frozenset, type(None))


def base_type(value: Any) -> type:
    """The plain Python type of a value (str for a YAML or vault string, dict for a map...)."""
    for kind in _PLAIN:
        if isinstance(value, kind):
            return kind
    return type(value)


def type_name(value: Any) -> str:
    """What ansible-core's native_type_name says: 'str', 'int', 'dict', 'NoneType'..."""
    return base_type(value).__name__


def _cls(value: Any) -> str:
    return f"<class '{type_name(value)}'>"


def check_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


def check_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, (int, float)):
        return [str(value)]
    raise TypeError(f"{_cls(value)} cannot be converted to a list")


def _split_kv(text: str) -> list[str]:
    """ansible-core's key=value field splitter: spaces and commas outside quotes."""
    fields: list[str] = []
    buffer: list[str] = []
    quote: str | None = None
    escape = False
    for c in text.strip():
        if escape:
            buffer.append(c)
            escape = False
        elif c == "\\":
            escape = True
        elif quote is None and c in ("'", '"'):
            quote = c
        elif quote is not None and c == quote:
            quote = None
        elif quote is None and c in (",", " "):
            if buffer:
                fields.append("".join(buffer))
            buffer = []
        else:
            buffer.append(c)
    if buffer:
        fields.append("".join(buffer))
    return fields


def check_dict(value: Any) -> dict[Any, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        if value.startswith("{"):
            try:
                loaded = json.loads(value)
            except ValueError:
                try:
                    loaded = ast.literal_eval(value)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    loaded = None
            if isinstance(loaded, dict):
                return loaded
            raise TypeError("unable to evaluate string as dictionary")
        if "=" in value:
            fields = _split_kv(value)
            if not all("=" in f for f in fields):
                raise TypeError('unable to evaluate string in the "key=value" format as dictionary')
            return dict(f.split("=", 1) for f in fields)
        raise TypeError("dictionary requested, could not parse JSON or key=value")
    raise TypeError(f"{_cls(value)} cannot be converted to a dict")


def check_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int, float)):
        normal: Any = value.lower().strip() if isinstance(value, str) else value
        if normal in BOOLEANS_TRUE:
            return True
        if normal in BOOLEANS_FALSE:
            return False
        raise TypeError(
            f"The value '{value}' is not a valid boolean. Valid booleans include: {BOOLEANS_SHOWN}"
        )
    raise TypeError(f"{_cls(value)} cannot be converted to a bool")


def check_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    try:
        number = decimal.Decimal(value)
        whole = int(number)
        if number != whole:
            raise ValueError("Significant decimal part found")
    except (decimal.DecimalException, TypeError, ValueError, OverflowError):
        raise TypeError(f'"{_repr(value)}" cannot be converted to an int') from None
    return whole


def _repr(value: Any) -> str:
    """repr() of a plain value (a YAML map or list shows as a dict or list)."""
    if isinstance(value, dict):
        return repr(dict(value))
    if isinstance(value, list):
        return repr(list(value))
    if isinstance(value, str):
        return repr(str(value))
    return repr(value)


def check_float(value: Any) -> float:
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{_cls(value)} cannot be converted to a float") from None


def check_path(value: Any) -> str:
    return os.path.expanduser(os.path.expandvars(check_str(value)))


def check_raw(value: Any) -> Any:
    return value


def check_jsonarg(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bytes):
        return value.strip().decode("utf-8", "surrogateescape")
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str)
    raise TypeError(f"{_cls(value)} cannot be converted to a json string")


SIZES = {"Y": 1 << 80, "Z": 1 << 70, "E": 1 << 60, "P": 1 << 50, "T": 1 << 40, "G": 1 << 30}
SIZES.update({"M": 1 << 20, "K": 1 << 10, "B": 1})
UNITS = {"B": (("byte", "B"), ("bit", "b"))} | {
    k: ((f"{w}byte", f"{k}B"), (f"{w}bit", f"{k}b"))
    for k, w in zip(
        "KMGTPEZY", ("kilo", "mega", "giga", "tera", "peta", "exa", "zeta", "yotta"), strict=True
    )
}
"""ansible-core's VALID_UNITS: the long and short spellings of each unit, bytes then bits."""
_NUMBER = re.compile(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$")


def _human(value: Any, *, isbits: bool) -> int:
    """ansible-core's human_to_bytes ('2K' -> 2048; 'Kb' is bits only, 'KB' bytes only)."""
    m = _NUMBER.match(str(value))
    unit = m.group(2) if m else None
    key = unit[0].upper() if unit else ""
    if m is not None and unit is None:
        return round(float(m.group(1)))
    if m is not None and key in SIZES:
        long, short = UNITS[key][1 if isbits else 0]
        if len(unit or "") == 1 or (unit or "").lower() == long or unit == short:
            return round(float(m.group(1)) * SIZES[key])
    kind = "Bit" if isbits else "Byte"
    raise TypeError(f"{_cls(value)} cannot be converted to a {kind} value")


def check_bytes(value: Any) -> int:
    return _human(value, isbits=False)


def check_bits(value: Any) -> int:
    return _human(value, isbits=True)


CHECKERS: Mapping[str, Callable[[Any], Any]] = {
    "str": check_str,
    "list": check_list,
    "dict": check_dict,
    "bool": check_bool,
    "int": check_int,
    "float": check_float,
    "path": check_path,
    "raw": check_raw,
    "jsonarg": check_jsonarg,
    "json": check_jsonarg,
    "bytes": check_bytes,
    "bits": check_bits,
}
"""ansible-core's DEFAULT_TYPE_VALIDATORS: `type:` name -> checker (no type: str)."""


def checker(wanted: Any) -> tuple[Callable[[Any], Any], str]:
    """The checker for a spec's `type:` and the name messages use; an unknown name gives
    a checker that fails as ansible-core's missing one does."""
    name = "str" if wanted is None else str(wanted)
    found = CHECKERS.get(name)
    if found is not None:
        return found, name

    def unknown(_value: Any) -> Any:
        raise TypeError("'NoneType' object is not callable")

    return unknown, name
