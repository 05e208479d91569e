"""YAML loading that remembers where things were written (file:line).

Inventories, vars files and playbooks report errors at the line a user wrote, so
mappings and lists come back as YamlMap/YamlList carrying `.pos` (and, for maps,
`.key_pos` per key). Scalars stay plain Python values. Duplicate keys are errors.

Input is bounded before anything is built (docs/reliability.md, "Input limits"):
files through fleetkit.safeio (regular files, 16 MiB), aliases may add at most
MAX_ALIAS_NODES nodes to a document (an alias bomb is refused, not expanded),
recursive aliases and nesting deeper than MAX_DEPTH are refused, and integers
longer than MAX_INT_DIGITS digits are errors at their line.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import yaml

from fleetkit import safeio
from fleetkit.errors import FleetkitError, Position
from fleetkit.vault.values import VaultStr

try:  # libyaml parses several times faster; the constructor (positions) is the same
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_ALIAS_NODES = 1_000_000
"""Nodes that aliases (`*name`) may add to one document when expanded: generous for
shared blocks (`<<: *defaults` on thousands of hosts), fatal to an alias bomb."""
MAX_DEPTH = 200
"""Nesting depth of one document (through aliases): deeper input would exhaust
Python's recursion in every consumer (templating, JSON output)."""
MAX_INT_DIGITS = 4000
"""Longest integer accepted, in decimal digits (Python refuses to print past 4300)."""
_MAX_INT_BITS = 13_288  # 10**4000 < 2**13288

_MERGE_TAG = "tag:yaml.org,2002:merge"
_SPECIAL_KEY_TAGS = (_MERGE_TAG, "tag:yaml.org,2002:value")  # what flatten_mapping rewrites


class YamlMap(dict[Any, Any]):
    """A YAML mapping with the position of the mapping and of each of its keys."""

    __slots__ = ("key_pos", "pos")

    def __init__(self, pos: Position) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[Any, Position] = {}


class YamlList(list[Any]):
    """A YAML sequence with the position where it starts."""

    __slots__ = ("pos",)

    def __init__(self, pos: Position) -> None:
        super().__init__()
        self.pos = pos


def position_of(obj: object, key: object = None) -> Position | None:
    """Where obj was written, or given key, that key of a YamlMap (else the map itself).

    None for values without a position (scalars, plain dicts).
    """
    if key is not None and isinstance(obj, YamlMap) and key in obj.key_pos:
        return obj.key_pos[key]
    pos = getattr(obj, "pos", None)
    return pos if isinstance(pos, Position) else None


class _Loader(_BaseLoader):
    """SafeLoader building YamlMap/YamlList; `source` and `error_cls` set per load."""

    source: Path | str
    error_cls: type[FleetkitError]
    lines: dict[int, Position]  # one Position per line: a map and its first key share it

    def pos(self, node: yaml.Node) -> Position:
        line = node.start_mark.line + 1
        found = self.lines.get(line)
        if found is None:
            found = self.lines[line] = Position(self.source, line)
        return found

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A node's value; a scalar its type refuses (a bad date, `!!int x`) is error_cls
        at the node's line rather than a traceback."""
        try:
            return super().construct_object(node, deep=deep)
        except (FleetkitError, yaml.YAMLError):
            raise
        except (ValueError, TypeError, AttributeError, OverflowError, LookupError) as err:
            value = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            raise self.error_cls(
                f"invalid {node.tag.rsplit(':', 1)[-1]} value {_short(value)!r}: {err}",
                position=self.pos(node),
            ) from None


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    """A YAML int, refused past MAX_INT_DIGITS digits (any base) with its line."""
    text = str(node.value)
    if len(text) <= MAX_INT_DIGITS + 8:  # sign, 0x prefix, underscores
        value = int(loader.construct_yaml_int(node))
        if value.bit_length() <= _MAX_INT_BITS:
            return value
    raise loader.error_cls(
        f"integer {_short(text)} is too large (more than {MAX_INT_DIGITS} digits)",
        position=loader.pos(node),
        hint="quote it to keep it as a string",
    )


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[YamlMap]:
    data = YamlMap(loader.pos(node))
    yield data
    merged = 0
    if any(key.tag in _SPECIAL_KEY_TAGS for key, _ in node.value):
        own = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
        loader.flatten_mapping(node)  # `<<:` merges come first; own keys override them
        merged = len(node.value) - own
    seen: set[Hashable] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=False)
        key_pos = loader.pos(key_node)
        if not isinstance(key, Hashable):
            raise loader.error_cls(
                "a mapping key must be a plain value, not a list or mapping", position=key_pos
            )
        if index >= merged:
            if key in seen:
                first = data.key_pos[key].line
                raise loader.error_cls(
                    f"duplicate key {key!r} (first at line {first}, again at line {key_pos.line})",
                    position=key_pos,
                    hint="a key may appear once per mapping: remove or rename one of them",
                )
            seen.add(key)
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_pos[key] = key_pos


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> Iterator[YamlList]:
    data = YamlList(loader.pos(node))
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)


def _construct_vault(loader: _Loader, node: yaml.Node) -> str:
    """An Ansible `!vault |` value: decrypted now, with the command's vault passwords."""
    from fleetkit.vault.yaml import open_value

    if not isinstance(node, yaml.ScalarNode):
        raise loader.error_cls("!vault takes a block of vault text", position=loader.pos(node))
    return open_value(str(loader.construct_scalar(node)), loader.pos(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)
_Loader.add_constructor("!vault", _construct_vault)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _check_graph(loader: _Loader, root: yaml.Node) -> None:
    """Refuse a node graph whose expansion is unbounded, before anything is built.

    One iterative walk, each node once: its expanded size and height are memoised,
    and every further reference to a finished node (an alias) adds its expanded
    size to the budget. A reference to a node still being walked is a cycle.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    acc: dict[int, list[int]] = {id(root): [1, 0]}  # node -> [size so far, child height]
    stack: list[tuple[yaml.Node, Iterator[yaml.Node]]] = [(root, iter(_children(root)))]
    added = 0
    while stack:
        parent, children = stack[-1]
        pid = id(parent)
        child = next(children, None)
        if child is None:
            stack.pop()
            total, tallest = acc.pop(pid)
            size[pid], height[pid] = total, tallest + 1
            if stack:
                up = acc[id(stack[-1][0])]
                up[0] += total
                up[1] = max(up[1], tallest + 1)
            continue
        cid = id(child)
        if cid in acc:
            raise loader.error_cls(
                "recursive alias: a node contains itself", position=loader.pos(parent)
            )
        if cid in size:  # met before: an alias, expanded wherever it is used
            added += size[cid]
            if added > MAX_ALIAS_NODES:
                raise loader.error_cls(
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (an alias bomb?)",
                    position=loader.pos(parent),
                    hint="YAML aliases (*name) repeat a whole block each time they are used",
                )
            if len(stack) + height[cid] > MAX_DEPTH:
                raise _too_deep(loader, parent)
            acc[pid][0] += size[cid]
            acc[pid][1] = max(acc[pid][1], height[cid])
            continue
        if len(stack) >= MAX_DEPTH:
            raise _too_deep(loader, child)
        acc[cid] = [1, 0]
        stack.append((child, iter(_children(child))))


def _too_deep(loader: _Loader, node: yaml.Node) -> FleetkitError:
    return loader.error_cls(f"nested more than {MAX_DEPTH} levels deep", position=loader.pos(node))


def parse_yaml(text: str, source: Path | str, error_cls: type[FleetkitError]) -> Any:
    """Parse one YAML document from text; errors become error_cls at source:line:column.

    Text that came out of a vault (a VaultStr from read_text) gives VaultStr values.
    """
    loader = _Loader(str(text))  # libyaml takes exact str only
    loader.source = source
    loader.error_cls = error_cls
    loader.lines = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(loader, node)
        data = loader.construct_document(node)
        if isinstance(text, VaultStr):
            from fleetkit.vault.yaml import mark_secret

            data = mark_secret(data)
        return data
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(err, text, source, error_cls) from None
    except yaml.YAMLError as err:
        raise error_cls(f"invalid YAML: {err}", position=Position(source)) from None
    finally:
        loader.dispose()


def read_text(path: Path, error_cls: type[FleetkitError]) -> str:
    """A user's UTF-8 text file (BOM allowed); unreadable files are error_cls.

    Read through fleetkit.safeio: regular files only, up to its size cap. An
    Ansible Vault file is decrypted with the command's vault passwords (its
    text comes back as a VaultStr; see fleetkit.vault.yaml).
    """
    text = safeio.read_text(path, error_cls)
    if text.startswith(_VAULT_HEADER):
        from fleetkit.vault.yaml import open_file

        return open_file(text, path)
    return text


_VAULT_HEADER = "$ANSIBLE_VAULT;"


def load_yaml(path: Path, error_cls: type[FleetkitError]) -> Any:
    """Read and parse a YAML (or JSON) file; unreadable files are error_cls too."""
    return parse_yaml(read_text(path, error_cls), path, error_cls)


def _syntax_error(
    err: yaml.MarkedYAMLError, text: str, source: Path | str, error_cls: type[FleetkitError]
) -> FleetkitError:
    """error_cls for a YAML syntax error, at the problem's line and column."""
    mark = err.problem_mark or err.context_mark
    position = Position(source, mark.line + 1, mark.column + 1) if mark else Position(source)
    message = f"invalid YAML: {err.problem or err.context}"
    if err.context and err.problem:
        where = f" started at line {err.context_mark.line + 1}" if err.context_mark else ""
        message += f" ({err.context}{where})"
    lines = text.splitlines()
    tabbed = mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]
    hint = "indent YAML with spaces, not tabs" if tabbed else None
    return error_cls(message, position=position, hint=hint)


class _PlainDumper(_Dumper):
    """Safe dumper that writes YamlMap/YamlList as ordinary mappings and lists."""


_PlainDumper.add_representer(YamlMap, _PlainDumper.represent_dict)
_PlainDumper.add_representer(YamlList, _PlainDumper.represent_list)
_PlainDumper.add_representer(VaultStr, _PlainDumper.represent_str)


def dump_yaml(data: Any) -> str:
    """Block-style YAML text of data, keys in their given order."""
    return yaml.dump(
        data, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
