"""Host entries as Ansible writes them: `name:port`, `[ipv6]:port`, `[name]:port`, ranges.

`www[01:50].example.com` (zero padding kept), `db-[a:f]`, `node[1:10:2]` (stride)
and several ranges in one name expand in order, exactly as Ansible expands them.
"""

from __future__ import annotations

import re
import string

from fleetkit.errors import InventoryError, Position

MAX_EXPANSION = 100_000  # a typo like [1:1000000000] must not eat the machine's memory

_MAX_RANGE_DIGITS = 18  # range() len() overflows past sys.maxsize; int() refuses 4300+ digits

_BRACKETED = re.compile(r"^\[([0-9A-Fa-f:.%]+)\](?::(\d+))?$")
_BRACKETED_NAME = re.compile(r"^\[([A-Za-z0-9_.-]+)\]:(\d+)$")  # [192.0.2.20]:2222, [web]:22
_RANGE = re.compile(r"^(.*?)\[([^\]]*)\](.*)$")


def expand_host_entry(entry: str, pos: Position) -> tuple[list[str], int | None]:
    """Host names and the optional port of one inventory host entry."""
    name, port = _split_port(entry.strip(), pos)
    if not name:
        raise InventoryError(f"empty host name in {entry!r}", position=pos)
    if name == "---":
        raise InventoryError(
            "host entry '---' looks like YAML", position=pos, hint="name a YAML file .yml"
        )
    names = _expand(name, pos) if "[" in name else [name]
    if len(names) > MAX_EXPANSION:
        raise InventoryError(
            f"host range {name!r} expands to {len(names)} hosts (limit {MAX_EXPANSION})",
            position=pos,
        )
    return names, port


def check_host_name(name: str, pos: Position) -> None:
    """Refuse a host name that cannot name a directory: fetch writes to dest/<host>/,
    so `/`, NUL, `.` or `..` in it would let an inventory write outside dest."""
    if "/" in name or "\0" in name or name in (".", ".."):
        raise InventoryError(
            f"invalid host name {name!r}",
            position=pos,
            hint="a host name cannot contain '/' or NUL or be '.' or '..'"
            " (set its address with ansible_host)",
        )


def _split_port(entry: str, pos: Position) -> tuple[str, int | None]:
    if ":" not in entry:
        return entry, None
    bracketed = _BRACKETED.match(entry)
    if bracketed and _is_ipv6(bracketed.group(1)):
        return bracketed.group(1), _port(bracketed.group(2), entry, pos)
    named = _BRACKETED_NAME.match(entry)
    if named and ":" not in named.group(1):
        return named.group(1), _port(named.group(2), entry, pos)
    colons = _outer_colons(entry)
    if len(colons) != 1:
        return entry, None  # no port, or an IPv6 address
    name, port = entry[: colons[0]], entry[colons[0] + 1 :]
    if not port:
        raise InventoryError(
            f"host entry {entry!r} ends with ':'",
            position=pos,
            hint="':' after a host name is reserved for its port; a YAML inventory needs .yml",
        )
    if not _digits(port):
        raise InventoryError(
            f"host entry {entry!r}: port {port!r} is not a number",
            position=pos,
            hint="':' after a host name is reserved for its SSH port (host:2222)",
        )
    return name, _port(port, entry, pos)


def _outer_colons(entry: str) -> list[int]:
    """Indexes of the colons outside [range] brackets."""
    depth, found = 0, []
    for index, char in enumerate(entry):
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif char == ":" and depth == 0:
            found.append(index)
    return found


def _port(text: str | None, entry: str, pos: Position) -> int | None:
    if text is None:
        return None
    port = int(text) if len(text.lstrip("0")) <= 5 else 65536
    if not 0 < port < 65536:
        raise InventoryError(f"host entry {entry!r}: port {port} out of range", position=pos)
    return port


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²', which int() refuses."""
    return text.isascii() and text.isdigit()


def _is_ipv6(text: str) -> bool:
    import ipaddress  # only for bracketed entries, rare

    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _expand(name: str, pos: Position) -> list[str]:
    """Expand the first [begin:end(:step)] range of name, then the rest, recursively."""
    m = _RANGE.match(name)
    if not m:
        raise InventoryError(f"host range in {name!r} is not closed with ']'", position=pos)
    head, spec, tail = m.groups()
    seq = _range_values(spec, name, pos)
    out: list[str] = []
    for value in seq:
        expanded = f"{head}{value}{tail}"
        out.extend(_expand(expanded, pos) if "[" in tail else [expanded])
        if len(out) > MAX_EXPANSION:
            break
    return out


def _range_values(spec: str, name: str, pos: Position) -> list[str]:
    bounds = spec.split(":")
    if len(bounds) not in (2, 3):
        raise InventoryError(
            f"host range [{spec}] in {name!r} must be [begin:end] or [begin:end:step]",
            position=pos,
        )
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise InventoryError(f"host range [{spec}] in {name!r} has no end", position=pos)
    if not _digits(step_text) or len(step_text) > _MAX_RANGE_DIGITS or int(step_text) == 0:
        raise InventoryError(
            f"host range [{spec}] in {name!r}: step must be a positive number", position=pos
        )
    step = int(step_text)
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        first, last = letters.index(begin), letters.index(end)
        values = list(letters[first : last + 1 : step])
    elif _digits(begin) and _digits(end):
        if max(len(begin.lstrip("0")), len(end.lstrip("0"))) > _MAX_RANGE_DIGITS:
            raise InventoryError(
                f"host range [{spec}] in {name!r}: bounds longer than {_MAX_RANGE_DIGITS}"
                f" digits (limit {MAX_EXPANSION} hosts)",
                position=pos,
            )
        width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
        if width and len(end) != width:
            raise InventoryError(
                f"host range [{spec}] in {name!r}: a zero-padded begin needs an end of"
                f" the same width ({begin!r}, {end!r})",
                position=pos,
            )
        numbers = range(int(begin), int(end) + 1, step)
        if len(numbers) > MAX_EXPANSION:
            raise InventoryError(
                f"host range [{spec}] in {name!r} has {len(numbers)} hosts (limit {MAX_EXPANSION})",
                position=pos,
            )
        values = [str(n).zfill(width) for n in numbers]
    else:
        raise InventoryError(
            f"host range [{spec}] in {name!r}: use numbers ([01:20]) or letters ([a:f])",
            position=pos,
        )
    if not values:
        raise InventoryError(
            f"host range [{spec}] in {name!r} is empty (begin after end)", position=pos
        )
    return values
