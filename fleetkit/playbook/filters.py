"""Jinja2 filters and tests that playbook users expect from Ansible.

Plain functions, registered on the environment by playbook.render; no state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fleetkit.modules.args import to_bool


def to_json(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    return json.dumps(value, indent=indent, sort_keys=sort_keys, default=str, ensure_ascii=False)


def to_nice_json(value: Any, indent: int = 4) -> str:
    return json.dumps(value, indent=indent, sort_keys=True, default=str, ensure_ascii=False)


def from_json(text: str) -> Any:
    return json.loads(text)


def _plain(value: Any) -> Any:
    """Mappings and sequences as plain dicts and lists, so YAML dumps them cleanly."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_yaml(value: Any, indent: int = 2) -> str:
    import yaml

    return str(
        yaml.safe_dump(_plain(value), default_flow_style=None, indent=indent, sort_keys=False)
    )


def to_nice_yaml(value: Any, indent: int = 2) -> str:
    import yaml

    return str(
        yaml.safe_dump(_plain(value), default_flow_style=False, indent=indent, sort_keys=True)
    )


def from_yaml(text: str) -> Any:
    """YAML text (registered output...) as data, with the alias budget of every YAML input."""
    from fleetkit.errors import TemplateError
    from fleetkit.yamlpos import parse_yaml

    return parse_yaml(str(text), "from_yaml", TemplateError)


def b64encode(text: str | bytes, encoding: str = "utf-8") -> str:
    data = text if isinstance(text, bytes) else str(text).encode(encoding)
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, encoding: str = "utf-8") -> str:
    return base64.b64decode(text).decode(encoding)


def safe_regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled template regex, refused when an unbounded repeat holds another one
    (`(a+)+`, `(x*)*y`): Python's engine backtracks exponentially on those and cannot
    be interrupted, so one bad `regex_search` would hang the run (docs/reliability.md).
    """
    from importlib import import_module

    from fleetkit.errors import TemplateError

    sre: Any = import_module("re._constants")  # the stdlib's own parser, untyped
    sre_parse: Any = import_module("re._parser")

    repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT}

    def nested(items: Any, inside: bool) -> bool:
        for op, av in items:
            if op in repeats:
                unbounded = av[1] == sre.MAXREPEAT
                if unbounded and inside:
                    return True
                if nested(av[2], inside or unbounded):
                    return True
                continue
            for part in av if isinstance(av, tuple | list) else ():
                subs = part if isinstance(part, list) else [part]
                for sub in subs:
                    if isinstance(sub, sre_parse.SubPattern) and nested(sub, inside):
                        return True
        return False

    compiled = re.compile(pattern, flags)
    if nested(sre_parse.parse(pattern, flags), False):
        raise TemplateError(
            f"regular expression {pattern[:60]!r} nests unbounded repeats (like (a+)+),"
            " which can take exponential time: write it without the nesting"
        )
    return compiled


def regex_replace(
    value: Any, pattern: str = "", replacement: str = "", ignorecase: bool = False
) -> str:
    flags = re.IGNORECASE if ignorecase else 0
    return safe_regex(pattern, flags).sub(replacement, str(value))


def regex_search(value: Any, pattern: str, *groups: str, ignorecase: bool = False) -> Any:
    flags = re.IGNORECASE if ignorecase else 0
    match = safe_regex(pattern, flags).search(str(value))
    if match is None:
        return None
    if not groups:
        return match.group(0)
    out: list[Any] = []
    for g in groups:
        if g.startswith("\\g<") and g.endswith(">"):
            out.append(match.group(g[3:-1]))
        elif g.startswith("\\"):
            out.append(match.group(int(g[1:])))
        else:
            out.append(match.group(g))
    return out


def regex_findall(value: Any, pattern: str, ignorecase: bool = False) -> list[Any]:
    flags = re.IGNORECASE if ignorecase else 0
    return safe_regex(pattern, flags).findall(str(value))


def bool_filter(value: Any) -> bool:
    try:
        return to_bool(value)
    except ValueError:
        return bool(value)


def quote(value: Any) -> str:
    return shlex.quote(str(value))


def combine(*dicts: Mapping[str, Any], recursive: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in dicts:
        for k, v in d.items():
            if recursive and isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
                out[k] = combine(out[k], v, recursive=True)
            else:
                out[k] = v
    return out


def dict2items(
    value: Mapping[str, Any], key_name: str = "key", value_name: str = "value"
) -> list[dict[str, Any]]:
    return [{key_name: k, value_name: v} for k, v in value.items()]


def items2dict(
    value: Iterable[Mapping[str, Any]], key_name: str = "key", value_name: str = "value"
) -> dict[Any, Any]:
    return {item[key_name]: item[value_name] for item in value}


def flatten(value: Iterable[Any], levels: int | None = None) -> list[Any]:
    out: list[Any] = []
    for item in value:
        if isinstance(item, (list, tuple)) and (levels is None or levels > 0):
            out.extend(flatten(item, None if levels is None else levels - 1))
        else:
            out.append(item)
    return out


def ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


def hash_filter(value: Any, algorithm: str = "sha1") -> str:
    return hashlib.new(algorithm, str(value).encode()).hexdigest()


def mandatory(value: Any, msg: str | None = None) -> Any:
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        from jinja2.exceptions import UndefinedError

        raise UndefinedError(msg or "mandatory variable is not defined")
    return value


def type_debug(value: Any) -> str:
    return type(value).__name__


def splitext(value: str) -> tuple[str, str]:
    return posixpath.splitext(str(value))


FILTERS: Mapping[str, Callable[..., Any]] = {
    "to_json": to_json,
    "to_nice_json": to_nice_json,
    "from_json": from_json,
    "to_yaml": to_yaml,
    "to_nice_yaml": to_nice_yaml,
    "from_yaml": from_yaml,
    "b64encode": b64encode,
    "b64decode": b64decode,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "regex_findall": regex_findall,
    "bool": bool_filter,
    "quote": quote,
    "combine": combine,
    "dict2items": dict2items,
    "items2dict": items2dict,
    "flatten": flatten,
    "ternary": ternary,
    "hash": hash_filter,
    "checksum": lambda v: hash_filter(v, "sha1"),
    "md5": lambda v: hash_filter(v, "md5"),
    "sha1": lambda v: hash_filter(v, "sha1"),
    "mandatory": mandatory,
    "type_debug": type_debug,
    "basename": lambda v: posixpath.basename(str(v)),
    "dirname": lambda v: posixpath.dirname(str(v)),
    "splitext": splitext,
    "expanduser": lambda v: posixpath.expanduser(str(v)),
}


def _result_flag(name: str) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        return isinstance(value, Mapping) and bool(value.get(name, False))

    return test


def _succeeded(value: Any) -> bool:
    return isinstance(value, Mapping) and not value.get("failed", False)


def _match(value: Any, pattern: str, ignorecase: bool = False) -> bool:
    return safe_regex(pattern, re.IGNORECASE if ignorecase else 0).match(str(value)) is not None


def _search(value: Any, pattern: str, ignorecase: bool = False) -> bool:
    return safe_regex(pattern, re.IGNORECASE if ignorecase else 0).search(str(value)) is not None


TESTS: Mapping[str, Callable[..., bool]] = {
    "failed": _result_flag("failed"),
    "changed": _result_flag("changed"),
    "skipped": _result_flag("skipped"),
    "succeeded": _succeeded,
    "success": _succeeded,
    "match": _match,
    "search": _search,
    "regex": _search,
}
