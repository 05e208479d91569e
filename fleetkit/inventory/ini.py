"""Ansible's INI inventory format, read line by line into an InventoryBuilder.

Hosts before the first section are `ungrouped`; `[g]` lists hosts (`host:port`,
ranges, inline `key=value`), `[g:vars]` sets group vars, `[g:children]` names
child groups, which must be declared by a `[child]` or `[child:children]` section
somewhere in the file. Values are read as Ansible does: `ast.literal_eval`
(numbers, True/False, quoted strings, lists, dicts), anything else stays a string.
literal_eval skips a trailing `# comment`, so `flag = False # off` is the boolean
false while `name = web # front` stays the string "web # front", as in Ansible.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from pathlib import Path
from typing import Any

from fleetkit.errors import InventoryError, Position
from fleetkit.inventory.builder import ROOT, UNGROUPED, InventoryBuilder
from fleetkit.inventory.hostnames import expand_host_entry
from fleetkit.yamlpos import MAX_INT_DIGITS

_MAX_INT_BITS = 13_288  # 10**MAX_INT_DIGITS < 2**13288, as in fleetkit.yamlpos

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_SECTION_LIKE = re.compile(r"^\[[^\]]*\]\s*(?:#.*)?$")  # not `[::1]:22` (a host)
_CHILD = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
_KINDS = ("hosts", "children", "vars")
_QUOTING = frozenset("\"'\\")
_QUOTES = frozenset("\"'")
_LITERAL_STARTS = frozenset("0123456789-+.([{\"'")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")
_DOTTED = re.compile(r"^\d+(\.\d+){2,}$")  # an IPv4 address or version: never a literal


def parse_ini(text: str, path: Path, builder: InventoryBuilder) -> None:
    """Declare every group, host and variable of an INI inventory in builder."""
    group, kind = UNGROUPED, "hosts"
    declared = {ROOT, UNGROUPED, *builder.groups}  # earlier sources count, as in Ansible
    child_refs: dict[str, Position] = {}
    vars_refs: dict[str, Position] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        pos = Position(path, lineno)
        section = _SECTION.match(line)
        if section:
            group, kind = section.group(1), section.group(2) or "hosts"
            if kind not in _KINDS:
                raise InventoryError(
                    f"section [{group}:{kind}] has unknown type {kind!r}",
                    position=pos,
                    hint="a section is [group], [group:vars] or [group:children]",
                )
            builder.group(group, pos)
            if kind == "vars":
                vars_refs.setdefault(group, pos)
            else:
                declared.add(group)
        elif _SECTION_LIKE.match(line):
            raise InventoryError(
                f"invalid section header {line!r}",
                position=pos,
                hint="write [group], [group:vars] or [group:children], without spaces",
            )
        elif kind == "hosts":
            _host_line(line, group, pos, builder)
        elif kind == "vars":
            key, value = _var_line(line, pos)
            builder.groups[group].vars[key] = value
        else:
            child = _CHILD.match(line)
            if not child:
                raise InventoryError(f"expected a group name, got {line!r}", position=pos)
            builder.group(child.group(1), pos)
            builder.add_child(group, child.group(1), pos)
            child_refs.setdefault(child.group(1), pos)
    _check_declared(declared, child_refs, vars_refs)


def _check_declared(
    declared: set[str], child_refs: dict[str, Position], vars_refs: dict[str, Position]
) -> None:
    """Like Ansible: a child group or a [g:vars] section needs a [g] section somewhere."""
    problems = [
        (pos, f"[{name}:vars] is for group {name!r}, which is never declared")
        for name, pos in vars_refs.items()
        if name not in declared
    ] + [
        (pos, f"child group {name!r} is never declared")
        for name, pos in child_refs.items()
        if name not in declared
    ]
    if problems:
        pos, message = min(problems, key=lambda p: p[0].line or 0)
        raise InventoryError(
            message, position=pos, hint="declare it with a [group] section (it may be empty)"
        )


def _host_line(line: str, group: str, pos: Position, builder: InventoryBuilder) -> None:
    if _QUOTING.isdisjoint(line):  # fast path, same words as shlex for unquoted lines
        tokens = line.split("#", 1)[0].split()
    else:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as err:
            raise InventoryError(f"cannot read host line {line!r}: {err}", position=pos) from None
    if not tokens:
        return
    names, port = expand_host_entry(tokens[0], pos)
    inline: dict[str, Any] = {}
    for token in tokens[1:]:
        key, eq, value = token.partition("=")
        if not eq or not key:
            raise InventoryError(
                f"expected key=value after host {tokens[0]!r}, got {token!r}",
                position=pos,
                hint='quote a value that has spaces: key="two words"',
            )
        inline[key] = parse_value(value, pos)
    for name in names:
        builder.host(name, group, pos, port).vars.update(inline)


def _var_line(line: str, pos: Position) -> tuple[str, Any]:
    key, eq, value = line.partition("=")
    if not eq or not key.strip():
        raise InventoryError(
            f"expected key=value, got {line!r}",
            position=pos,
            hint="a [group:vars] section holds one key=value per line",
        )
    return key.strip(), parse_value(value.strip(), pos)


def parse_value(text: str, pos: Position) -> Any:
    """An INI value as Ansible reads it: a Python literal if it is one, else the string.

    An integer of more than MAX_INT_DIGITS digits is an error at pos, as in YAML.
    """
    head = text.split("#", 1)[0].rstrip() if "#" in text else text
    if not _maybe_literal(head) or _DOTTED.match(head):
        return text
    if _DECIMAL.match(text):
        if len(text) > MAX_INT_DIGITS:
            raise _too_large(text, pos)
        return int(text)
    try:
        if "\\" in text:  # invalid escapes warn; Ansible ignores that too
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = ast.literal_eval(text)
        else:
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        if "integer string conversion" in str(err):  # Python's int size limit
            raise _too_large(text, pos) from None
        return text
    except (TypeError, MemoryError, RecursionError):
        return text
    try:
        return _plain(value)
    except OverflowError:
        raise _too_large(text, pos) from None


def _too_large(text: str, pos: Position) -> InventoryError:
    shown = text if len(text) <= 40 else f"{text[:37]}..."
    return InventoryError(
        f"value {shown} holds an integer of more than {MAX_INT_DIGITS} digits",
        position=pos,
        hint="fleetkit refuses integers this long (Python cannot print them)",
    )


def _maybe_literal(text: str) -> bool:
    """False for text literal_eval is sure to reject (a word, a path...): saves its cost."""
    if not text:
        return False
    if text[0] in _LITERAL_STARTS:
        return True
    return text in ("True", "False", "None") or not _QUOTES.isdisjoint(text)


def _plain(value: Any) -> Any:
    """Only YAML-representable types: tuples/sets become lists, bytes/complex strings."""
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, complex) or value is Ellipsis:
        return "..." if value is Ellipsis else str(value)
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        raise OverflowError(value.bit_length())
    return value
