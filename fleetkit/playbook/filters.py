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

from fleetkit.playbook.ansible_filters import ANSIBLE_FILTERS
from fleetkit.playbook.ansible_tests import ANSIBLE_TESTS


def _json_default(value: Any) -> Any:
    """What json.dumps cannot encode: dates as ISO text (as Ansible's encoder), else an error."""
    import datetime

    from fleetkit.errors import TemplateError

    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TemplateError(f"cannot encode a {native_type_name(value)} as JSON")


def to_json(value: Any, **kwargs: Any) -> str:
    """Ansible's to_json: json.dumps with its defaults (ASCII escapes, keys in their order)."""
    return json.dumps(value, default=_json_default, **kwargs)


def to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kwargs: Any) -> str:
    """Ansible's to_nice_json: indent 4, sorted keys, ', '/': ' separators."""
    kwargs.pop("separators", None)
    return to_json(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **kwargs)


def from_json(text: str) -> Any:
    return json.loads(text)


def _plain(value: Any) -> Any:
    """Mappings and sequences as plain dicts and lists, so YAML dumps them cleanly."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_yaml(value: Any, *_args: Any, default_flow_style: bool | None = None, **kwargs: Any) -> str:
    """Ansible's to_yaml: yaml.dump's defaults (sorted keys, flow style for leaves, Unicode)."""
    import yaml

    kwargs.setdefault("allow_unicode", True)
    text = str(yaml.safe_dump(_plain(value), default_flow_style=default_flow_style, **kwargs))
    return text[:-4] if text.endswith("\n...\n") else text  # a scalar: no document end


def to_nice_yaml(value: Any, indent: int = 4, *_args: Any, **kwargs: Any) -> str:
    """Ansible's to_nice_yaml: block style, indent 4."""
    kwargs.setdefault("default_flow_style", False)
    return to_yaml(value, indent=indent, **kwargs)


def from_yaml(text: str) -> Any:
    """YAML text (registered output...) as data, with the alias budget of every YAML input."""
    from fleetkit.errors import TemplateError
    from fleetkit.yamlpos import parse_yaml

    return parse_yaml(str(text), "from_yaml", TemplateError)


def b64encode(text: str | bytes, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    data = text if isinstance(text, bytes) else str(text).encode(encoding)
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode("ascii")


def b64decode(text: str, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    return (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(str(text)).decode(encoding)


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


def _flags(ignorecase: bool, multiline: bool) -> int:
    return (re.IGNORECASE if ignorecase else 0) | (re.MULTILINE if multiline else 0)


def regex_replace(
    value: Any,
    pattern: str = "",
    replacement: str = "",
    ignorecase: bool = False,
    multiline: bool = False,
    count: int = 0,
    mandatory_count: int = 0,
) -> str:
    from fleetkit.errors import TemplateError

    text = str(value)
    out, subs = safe_regex(pattern, _flags(ignorecase, multiline)).subn(
        replacement, text, count=count
    )
    if mandatory_count and mandatory_count != subs:
        raise TemplateError(
            f"'{pattern}' should match {mandatory_count} times, but matches {subs} times in"
            f" '{text}'"
        )
    return out


def regex_search(
    value: Any, pattern: str, *groups: str, ignorecase: bool = False, multiline: bool = False
) -> Any:
    from fleetkit.errors import TemplateError

    wanted: list[int | str] = []
    for g in groups:  # as Ansible: only \N and \g<name>, checked before matching
        named = re.match(r"\\g<(\S+)>", g)
        number = re.match(r"\\(\d+)", g)
        if named:
            wanted.append(named.group(1))
        elif number:
            wanted.append(int(number.group(1)))
        else:
            raise TemplateError(
                f"regex_search: argument {g!r} is not a group reference (\\N or \\g<name>)"
            )
    flags = _flags(ignorecase, multiline)
    match = safe_regex(pattern, flags).search(str(value))
    if match is None:
        return None
    if not wanted:
        return match.group(0)
    return [match.group(g) for g in wanted]


def regex_findall(
    value: Any, pattern: str, multiline: bool = False, ignorecase: bool = False
) -> list[Any]:
    return safe_regex(pattern, _flags(ignorecase, multiline)).findall(str(value))


BOOL_TRUE = frozenset({"yes", "on", "true", "1"})
BOOL_FALSE = frozenset({"no", "off", "false", "0"})


def bool_filter(value: Any) -> bool:
    """Ansible's bool: true for yes/on/true/1 (any case, and 1/True), false otherwise."""
    word: Any = value
    if isinstance(value, str):
        word = value.lower()
    elif isinstance(value, int):
        word = str(value).lower()
    if word in BOOL_TRUE:
        return True
    if word in BOOL_FALSE:
        return False
    try:
        return bool(word == 1)
    except TypeError:
        return False


def quote(value: Any) -> str:
    return shlex.quote("" if value is None else str(value))


def dict2items(
    value: Any, key_name: str = "key", value_name: str = "value"
) -> list[dict[str, Any]]:
    if not isinstance(value, Mapping):
        from fleetkit.errors import TemplateError

        raise TemplateError(
            f"dict2items requires a dictionary, got {native_type_name(value)} instead."
        )
    return [{key_name: k, value_name: v} for k, v in value.items()]


def items2dict(
    value: Iterable[Mapping[str, Any]], key_name: str = "key", value_name: str = "value"
) -> dict[Any, Any]:
    return {item[key_name]: item[value_name] for item in value}


def flatten(value: Iterable[Any], levels: int | None = None, skip_nulls: bool = True) -> list[Any]:
    """Ansible's flatten: nested lists spliced (levels deep), None/'None'/'null' dropped."""
    out: list[Any] = []
    for item in value:
        if skip_nulls and (item is None or item in ("None", "null")):
            continue
        if isinstance(item, (list, tuple)) and (levels is None or levels > 0):
            out.extend(flatten(item, None if levels is None else levels - 1, skip_nulls))
        else:
            out.append(item)
    return out


def ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


def hash_filter(value: Any, algorithm: str = "sha1") -> str:
    try:
        digest = hashlib.new(algorithm)
    except ValueError as err:
        from fleetkit.errors import TemplateError

        raise TemplateError(f"hash: {err}") from None
    digest.update(value if isinstance(value, bytes) else str(value).encode())
    return digest.hexdigest()


def mandatory(value: Any, msg: str | None = None) -> Any:
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        from fleetkit.errors import TemplateError

        if msg is not None:
            raise TemplateError(str(msg))
        name = getattr(value, "_undefined_name", None)
        shown = f"{name!r} " if name else ""
        raise TemplateError(f"Mandatory variable {shown}not defined.")
    return value


NATIVE_TYPES = (bool, int, float, complex, str, bytes, dict, list, tuple, set, frozenset)


def native_type_name(value: Any) -> str:
    """The builtin type a value is, as Ansible names it: never fleetkit's own classes."""
    if value is None:
        return "NoneType"
    for kind in NATIVE_TYPES:
        if isinstance(value, kind):
            return kind.__name__
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def type_debug(value: Any) -> str:
    return native_type_name(value)


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
    **ANSIBLE_FILTERS,
}


def _match(value: Any, pattern: str, ignorecase: bool = False) -> bool:
    return safe_regex(pattern, re.IGNORECASE if ignorecase else 0).match(str(value)) is not None


def _search(value: Any, pattern: str, ignorecase: bool = False) -> bool:
    return safe_regex(pattern, re.IGNORECASE if ignorecase else 0).search(str(value)) is not None


TESTS: Mapping[str, Callable[..., bool]] = {
    **ANSIBLE_TESTS,
    "match": _match,
    "search": _search,
    "regex": _search,
}
