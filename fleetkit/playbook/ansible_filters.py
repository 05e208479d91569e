"""The rest of ansible.builtin's filters, with ansible-core 2.19's semantics.

Sets, zips, paths, dates, URLs, math, combinatorics, human sizes, comment, extract,
random/shuffle with a seed, password_hash. Written from Ansible's documented
behaviour (ansible-core is never imported here: it is an optional extra).
"""

from __future__ import annotations

import datetime
import itertools
import math
import ntpath
import os
import random as _random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit as _urlsplit

from fleetkit.errors import TemplateError

UUID_NAMESPACE_ANSIBLE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")


def _dedupe(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _set_op(op: Callable[[set[Any], set[Any]], set[Any]], slow: Callable[..., list[Any]]) -> Any:
    """A set filter as Ansible's: through set() (its order) unless items are unhashable."""

    def run(a: Iterable[Any], b: Iterable[Any]) -> list[Any]:
        a, b = list(a), list(b)
        try:
            return list(op(set(a), set(b)))
        except TypeError:
            return slow(a, b)

    return run


def _symmetric_slow(a: list[Any], b: list[Any]) -> list[Any]:
    both = [x for x in _dedupe(a) if x in b]
    return [x for x in _dedupe(a + b) if x not in both]


def zip_filter(*lists: Iterable[Any]) -> list[tuple[Any, ...]]:
    return list(zip(*lists, strict=False))


def zip_longest(*lists: Iterable[Any], fillvalue: Any = None) -> list[tuple[Any, ...]]:
    return list(itertools.zip_longest(*lists, fillvalue=fillvalue))


def split(value: Any, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    return str(value).split(sep, maxsplit)


def extract(item: Any, container: Any, morekeys: Any = None) -> Any:
    keys = (
        [item]
        if morekeys is None
        else [item, *morekeys]
        if isinstance(morekeys, list)
        else [
            item,
            morekeys,
        ]
    )
    value = container
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise TemplateError(f"extract: {key!r} not found in {_shown(value)}") from None
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


LIST_MERGES = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def merge_hash(
    low: Mapping[str, Any], high: Mapping[str, Any], recursive: bool, list_merge: str
) -> dict[str, Any]:
    """Ansible's merge_hash: high's keys win; dicts merge when recursive; lists per list_merge."""
    if list_merge not in LIST_MERGES:
        raise TemplateError(f"combine: list_merge must be one of {', '.join(LIST_MERGES)}")
    if not low or low == high:
        return dict(high)
    merged = dict(low)
    for key, new in high.items():
        old = merged.get(key)
        if key not in merged:
            merged[key] = new
        elif isinstance(old, Mapping) and isinstance(new, Mapping):
            merged[key] = merge_hash(old, new, recursive, list_merge) if recursive else new
        elif isinstance(old, list) and isinstance(new, list):
            merged[key] = _merge_lists(old, new, list_merge)
        else:
            merged[key] = new
    return merged


def _merge_lists(old: list[Any], new: list[Any], how: str) -> list[Any]:
    if how == "keep":
        return old
    if how == "append":
        return old + new
    if how == "prepend":
        return new + old
    if how == "append_rp":
        return [x for x in old if x not in new] + new
    if how == "prepend_rp":
        return new + [x for x in old if x not in new]
    return new


def combine(*terms: Any, recursive: bool = False, list_merge: str = "replace") -> dict[str, Any]:
    """Ansible's combine: dicts or lists of dicts, later ones winning."""
    dicts: list[Any] = []
    for term in terms:
        dicts.extend(term if isinstance(term, list | tuple) else [term])
    for d in dicts:
        if not isinstance(d, Mapping):
            raise TemplateError(f"combine expects dictionaries, got {_shown(d)}")
    if not dicts:
        return {}
    if len(dicts) == 1:
        return dict(dicts[0])
    result = dict(dicts[-1])
    for d in reversed(dicts[:-1]):
        result = merge_hash(d, result, recursive, list_merge)
    return result


COMMENT_STYLES: Mapping[str, Mapping[str, str]] = {
    "plain": {"decoration": "# "},
    "erlang": {"decoration": "% "},
    "c": {"decoration": "// "},
    "cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
    "xml": {"beginning": "<!--", "decoration": " - ", "end": "-->"},
}


def comment(text: Any, style: str = "plain", **kw: Any) -> str:
    """Ansible's comment filter: text decorated as a comment block of `style`."""
    if style not in COMMENT_STYLES:
        raise TemplateError(
            f"Invalid style {style!r}. Available styles: {', '.join(COMMENT_STYLES)}"
        )
    params = COMMENT_STYLES[style]
    around = str(kw.get("decoration", params["decoration"]))
    p: dict[str, Any] = {
        "newline": "\n",
        "beginning": "",
        "prefix": around.rstrip(),
        "prefix_count": 1,
        "decoration": "",
        "postfix": around.rstrip(),
        "postfix_count": 1,
        "end": "",
        **params,
        **kw,
    }
    nl, deco = p["newline"], p["decoration"]
    beginning = f"{p['beginning']}{nl}" if p["beginning"] else ""
    prefix = ""
    if p["prefix"]:
        prefix = (f"{p['prefix']}{nl}" if p["prefix"] != nl else nl) * int(p["prefix_count"])
    body = f"{deco}{str(text).replace(nl, nl + deco)}".replace(deco + nl, deco.rstrip() + nl)
    postfix = nl.join([""] + [p["postfix"]] * int(p["postfix_count"]))
    end = f"{nl}{p['end']}" if p["end"] else ""
    return f"{beginning}{prefix}{body}{postfix}{end}"


def to_datetime(string: Any, format: str = "%Y-%m-%d %H:%M:%S") -> datetime.datetime:
    try:
        return datetime.datetime.strptime(str(string), format)
    except ValueError as err:
        raise TemplateError(f"to_datetime: {err}") from None


def strftime(string_format: str, second: Any = None, utc: bool = False) -> str:
    when = None
    if second is not None:
        try:
            when = float(second)
        except (TypeError, ValueError):
            raise TemplateError(f"Invalid value for epoch value ({second})") from None
    return time.strftime(string_format, (time.gmtime if utc else time.localtime)(when))


def urlsplit(value: Any, query: str = "") -> Any:
    parts = _urlsplit(str(value))
    fields = ("fragment", "hostname", "netloc", "password", "path", "port", "query", "scheme")
    result = {name: getattr(parts, name) for name in (*fields, "username")}
    if query:
        if query not in result:
            raise TemplateError(f"urlsplit: unknown URL component: {query}")
        return result[query]
    return result


def urldecode(value: Any) -> str:
    return unquote(str(value))


def log(x: Any, base: float = math.e) -> float:
    try:
        return math.log10(x) if base == 10 else math.log(x, base)
    except TypeError:
        raise TemplateError("log() can only be used on numbers") from None


def power(x: Any, y: Any) -> float:
    try:
        return math.pow(x, y)
    except TypeError:
        raise TemplateError("pow() can only be used on numbers") from None


def root(x: Any, base: float = 2) -> float:
    try:
        return math.sqrt(x) if base == 2 else math.pow(x, 1.0 / float(base))
    except (TypeError, ValueError):
        raise TemplateError("root() can only be used on numbers") from None


SIZE_RANGES = {"Y": 1 << 80, "Z": 1 << 70, "E": 1 << 60, "P": 1 << 50, "T": 1 << 40}
SIZE_RANGES.update({"G": 1 << 30, "M": 1 << 20, "K": 1 << 10, "B": 1})
UNIT_NAMES = {"B": "byte", "K": "kilo", "M": "mega", "G": "giga", "T": "tera", "P": "peta"}
UNIT_NAMES.update({"E": "exa", "Z": "zeta", "Y": "yotta"})


def human_readable(size: Any, isbits: bool = False, unit: str | None = None) -> str:
    try:
        number = float(size)
    except (TypeError, ValueError):
        raise TemplateError("human_readable() can't interpret the input") from None
    base = "bits" if isbits else "Bytes"
    suffix, limit = "B", 1
    for suffix, limit in sorted(SIZE_RANGES.items(), key=lambda kv: -kv[1]):
        if (unit is None and number >= limit) or (unit is not None and unit.upper() == suffix):
            break
    shown = f"{suffix}{base[0]}" if limit != 1 else base
    return f"{number / limit:.2f} {shown}"


def human_to_bytes(size: Any, default_unit: str | None = None, isbits: bool = False) -> int:
    m = re.search(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$", str(size))
    if m is None:
        raise TemplateError(f"human_to_bytes() can't interpret following string: {size}")
    number = float(m.group(1))
    unit = m.group(2) or default_unit
    if unit is None:
        return round(number)
    key = unit[0].upper()
    if key not in SIZE_RANGES:
        raise TemplateError(
            f"human_to_bytes() failed to convert {size} (unit = {unit}). The suffix must be one"
            f" of {', '.join(SIZE_RANGES)}"
        )
    if len(unit) > 1:
        kind = "bit" if isbits else "byte"
        short = f"{key if key != 'B' else ''}{'b' if isbits else 'B'}"
        long = f"{UNIT_NAMES[key] if key != 'B' else ''}{kind}"
        if unit.lower() != long and unit != short:
            raise TemplateError(
                f"human_to_bytes() failed to convert {size}. Value is not a valid string"
                f" (expect {short} or {key if key != 'B' else kind})"
            )
    return round(number * SIZE_RANGES[key])


def rekey_on_member(data: Any, key: str, duplicates: str = "error") -> dict[Any, Any]:
    if duplicates not in ("error", "overwrite"):
        raise TemplateError(
            f"duplicates parameter to rekey_on_member has unknown value {duplicates!r}"
        )
    if isinstance(data, Mapping):
        items: Iterable[Any] = data.values()
    elif isinstance(data, Iterable) and not isinstance(data, str | bytes):
        items = data
    else:
        raise TemplateError("Type is not a valid list, set, or dict")
    out: dict[Any, Any] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise TemplateError("List item is not a valid dict")
        if key not in item:
            raise TemplateError(f"Key {key!r} was not found.")
        if out.get(item[key]) and duplicates == "error":
            raise TemplateError(f"Key {item[key]!r} is not unique, cannot convert to dict.")
        out[item[key]] = item
    return out


def subelements(obj: Any, names: Any, skip_missing: bool = False) -> list[tuple[Any, Any]]:
    if isinstance(obj, Mapping):
        elements = list(obj.values())
    elif isinstance(obj, list):
        elements = list(obj)
    else:
        raise TemplateError("obj must be a list of dicts or a nested dict")
    path = list(names) if isinstance(names, list) else str(names).split(".")
    results: list[tuple[Any, Any]] = []
    for element in elements:
        values = element
        for name in path:
            try:
                values = values[name]
            except KeyError:
                if not skip_missing:
                    raise TemplateError(
                        f"could not find {name!r} key in iterated item {_shown(values)}"
                    ) from None
                values = []
                break
            except TypeError:
                raise TemplateError(f"the key {name} should point to a dictionary") from None
        if not isinstance(values, list):
            raise TemplateError(
                f"the key {path[-1]!r} should point to a list, got {_shown(values)}"
            )
        results.extend((element, value) for value in values)
    return results


def random_filter(
    end: Any, start: int | None = None, step: int | None = None, seed: Any = None
) -> Any:
    """Ansible's random: an int in range(start, end, step) or one item; seeded: repeatable."""
    r = _random.SystemRandom() if seed is None else _random.Random(seed)
    if isinstance(end, int):
        return r.randrange(start or 0, end, step or 1)
    if isinstance(end, Iterable):
        if start or step:
            raise TemplateError("start and step can only be used with integer values")
        return r.choice(list(end) if not isinstance(end, Sequence) else end)
    raise TemplateError("random can only be used on sequences and integers")


def shuffle(items: Any, seed: Any = None) -> list[Any]:
    out = list(items)
    (_random.Random(seed) if seed else _random.SystemRandom()).shuffle(out)
    return out


def to_uuid(string: Any, namespace: Any = UUID_NAMESPACE_ANSIBLE) -> str:
    try:
        space = namespace if isinstance(namespace, uuid.UUID) else uuid.UUID(str(namespace))
    except ValueError as err:
        raise TemplateError(f"Invalid value '{namespace}' for 'namespace': {err}") from None
    return str(uuid.uuid5(space, str(string)))


def regex_escape(string: Any, re_type: str = "python") -> str:
    if re_type == "python":
        return re.escape(str(string))
    if re_type == "posix_basic":
        return re.sub(r"([].[^$*\\])", r"\\\1", str(string))
    raise TemplateError(f"Invalid regex type ({re_type})")


def from_yaml_all(text: Any) -> list[Any]:
    import yaml

    if text is None:
        return []
    from fleetkit.yamlpos import parse_yaml

    docs = list(re.split(r"(?m)^---[ \t]*$", str(text)))
    try:
        return [parse_yaml(d, "from_yaml_all", TemplateError) for d in docs if d.strip()]
    except yaml.YAMLError as err:  # pragma: no cover - parse_yaml raises TemplateError
        raise TemplateError(f"from_yaml_all: {err}") from None


def _path(fn: Callable[[str], Any]) -> Callable[[Any], Any]:
    return lambda value: fn(str(value))


def path_join(paths: Any) -> str:
    if isinstance(paths, str):
        return os.path.join(paths)
    if isinstance(paths, Sequence):
        return os.path.join(*[str(p) for p in paths])
    raise TemplateError(
        f"|path_join expects string or sequence, got {type(paths).__name__} instead."
    )


def commonpath(paths: Any) -> str:
    if not isinstance(paths, Sequence) or isinstance(paths, str):
        raise TemplateError(f"|commonpath expects sequence, got {type(paths).__name__} instead.")
    return os.path.commonpath([str(p) for p in paths])


def fileglob(pattern: Any) -> list[str]:
    import glob

    return [g for g in glob.glob(str(pattern)) if os.path.isfile(g)]


def relpath(path: Any, start: Any = os.curdir) -> str:
    return os.path.relpath(str(path), str(start))


def password_hash(
    password: Any,
    hashtype: str = "sha512",
    salt: str | None = None,
    salt_size: int | None = None,
    rounds: int | None = None,
    ident: str | None = None,
) -> str:
    """crypt(3) hashes as Ansible's password_hash: sha512/sha256 (pure Python), md5."""
    from fleetkit.playbook.crypt import crypt_hash

    return crypt_hash(str(password), hashtype, salt, salt_size, rounds)


def vault_unavailable(*_args: Any, **_kw: Any) -> Any:
    raise TemplateError(
        "the vault/unvault filters need a vault secret in the template; use a vaulted"
        " variable or file instead (docs/contracts.md, Ansible Vault)"
    )


ANSIBLE_FILTERS: Mapping[str, Callable[..., Any]] = {
    "union": _set_op(lambda a, b: a | b, lambda a, b: _dedupe(a + b)),
    "intersect": _set_op(lambda a, b: a & b, lambda a, b: _dedupe(x for x in a if x in b)),
    "difference": _set_op(lambda a, b: a - b, lambda a, b: _dedupe(x for x in a if x not in b)),
    "symmetric_difference": _set_op(lambda a, b: a ^ b, _symmetric_slow),
    "zip": zip_filter,
    "zip_longest": zip_longest,
    "split": split,
    "extract": extract,
    "combine": combine,
    "comment": comment,
    "to_datetime": to_datetime,
    "strftime": strftime,
    "urlsplit": urlsplit,
    "urldecode": urldecode,
    "log": log,
    "pow": power,
    "root": root,
    "product": lambda *lists, repeat=1: list(itertools.product(*lists, repeat=repeat)),
    "permutations": lambda items, r=None: list(itertools.permutations(items, r)),
    "combinations": lambda items, r: list(itertools.combinations(items, r)),
    "human_readable": human_readable,
    "human_to_bytes": human_to_bytes,
    "rekey_on_member": rekey_on_member,
    "subelements": subelements,
    "random": random_filter,
    "shuffle": shuffle,
    "to_uuid": to_uuid,
    "regex_escape": regex_escape,
    "from_yaml_all": from_yaml_all,
    "expandvars": _path(os.path.expandvars),
    "normpath": _path(os.path.normpath),
    "realpath": _path(os.path.realpath),
    "relpath": relpath,
    "path_join": path_join,
    "commonpath": commonpath,
    "fileglob": fileglob,
    "win_basename": _path(ntpath.basename),
    "win_dirname": _path(ntpath.dirname),
    "win_splitdrive": _path(ntpath.splitdrive),
    "password_hash": password_hash,
    "vault": vault_unavailable,
    "unvault": vault_unavailable,
}
