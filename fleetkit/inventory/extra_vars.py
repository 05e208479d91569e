"""Extra vars (`-e`): the command line's variables, above every inventory layer.

Each `-e` value is one of:
- `k=v k2="two words"`: shell-style words, each `name=value`; values stay strings,
  except a plain integer (`10`, `-3`; not `007` or `1.5`), which becomes an int so
  `replicas=10` is a number (Ansible keeps every k=v value a string)
- `{"json": 1}` (or any YAML flow mapping): its keys and typed values
- `@FILE` (.yml, .yaml or .json, relative to cwd): a mapping of variables, read
  as every YAML input is (a regular file under the size cap, aliases budgeted)
Later `-e` values replace earlier ones key by key (top-level keys, no deep merge).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from fleetkit.errors import Position, UsageError
from fleetkit.yamlpos import MAX_INT_DIGITS, load_yaml, parse_yaml, position_of

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")
SOURCE = "-e"


def parse_extra_vars(values: list[str], cwd: Path) -> dict[str, Any]:
    """Merge every `-e` value, in order, into one mapping of variables."""
    merged: dict[str, Any] = {}
    for value in values:
        text = value.strip()
        if not text:
            continue
        if text.startswith("@"):
            merged.update(_from_file(cwd / Path(text[1:]).expanduser()))
        elif text[0] in "{[":
            merged.update(_from_document(text))
        else:
            merged.update(_from_pairs(text))
    return merged


def _from_pairs(text: str) -> dict[str, Any]:
    try:
        words = shlex.split(text)
    except ValueError as err:
        raise UsageError(f"-e {text!r}: {err}", hint="quote values with spaces once") from None
    pairs: dict[str, Any] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not _NAME.match(key):
            raise UsageError(
                f"-e {text!r}: expected name=value, got {word!r}",
                hint="-e takes name=value pairs, a JSON object or @FILE",
            )
        if _INTEGER.match(value) and len(value.lstrip("-")) > MAX_INT_DIGITS:
            raise UsageError(
                f"{key}=...: integer of {len(value.lstrip('-'))} digits is too large"
                f" (more than {MAX_INT_DIGITS})",
                position=Position(SOURCE),
            )
        pairs[key] = int(value) if _INTEGER.match(value) else value
    return pairs


def _from_document(text: str) -> dict[str, Any]:
    return _mapping(parse_yaml(text, SOURCE, UsageError), Position(SOURCE))


def _from_file(path: Path) -> dict[str, Any]:
    return _mapping(load_yaml(path, UsageError), Position(path, 1))


def _mapping(data: Any, where: Position) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(
            f"extra vars must be a mapping of names to values, not {type(data).__name__}",
            position=position_of(data) or where,
        )
    bad = [key for key in data if not isinstance(key, str)]
    if bad:
        raise UsageError(f"extra vars names must be strings, got {bad[0]!r}", position=where)
    return data
