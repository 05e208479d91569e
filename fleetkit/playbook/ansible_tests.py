"""ansible.builtin's Jinja tests beyond fleetkit's first few, with ansible-core 2.19's meaning.

Task results (failed/changed/... with their aliases), version comparison (loose,
strict, semver, pep440), truthy/falsy, sets, paths on the controller, URIs.
"""

from __future__ import annotations

import math
import operator
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from fleetkit.errors import TemplateError


def _result(name: str) -> Callable[[Any], Mapping[str, Any]]:
    def need(result: Any) -> Mapping[str, Any]:
        if not isinstance(result, Mapping):
            raise TemplateError(f"The '{name}' test expects a dictionary")
        return result

    return need


def failed(result: Any) -> bool:
    return bool(_result("failed")(result).get("failed"))


def succeeded(result: Any) -> bool:
    return not bool(_result("succeeded")(result).get("failed"))


def unreachable(result: Any) -> bool:
    return bool(_result("unreachable")(result).get("unreachable"))


def changed(result: Any) -> bool:
    result = _result("changed")(result)
    if "changed" in result:
        return bool(result["changed"])
    items = result.get("results")
    if isinstance(items, list) and items and isinstance(items[0], Mapping):
        return any(r.get("changed") for r in items)
    return False


def skipped(result: Any) -> bool:
    return bool(_result("skipped")(result).get("skipped"))


def timedout(result: Any) -> bool:
    value = _result("timedout")(result).get("timedout")
    return bool(value and isinstance(value, Mapping) and value.get("period"))


def _async(name: str) -> Callable[[Any], bool]:
    def test(result: Any) -> bool:
        result = _result(name)(result)
        return bool(result[name]) if name in result else True

    return test


TRUE_WORDS = frozenset({"y", "yes", "on", "1", "true", "t", "1.0"})
FALSE_WORDS = frozenset({"n", "no", "off", "0", "false", "f", "0.0"})


def _boolean(value: Any) -> Any:
    """Ansible's convert_bool.boolean (non-strict): a known word, else the value unchanged."""
    if isinstance(value, bool):
        return value
    word = str(value).lower().strip() if isinstance(value, str | int | float) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return value


def truthy(value: Any, convert_bool: bool = False) -> bool:
    return bool(_boolean(value) if convert_bool else value)


def falsy(value: Any, convert_bool: bool = False) -> bool:
    return not truthy(value, convert_bool)


# versions ----------------------------------------------------------------------------


def _loose(text: str) -> list[int | str]:
    parts = [p for p in re.split(r"(\d+|[a-z]+|\.)", text) if p and p != "."]
    return [int(p) if p.isdigit() else p for p in parts]


STRICT = re.compile(r"^(\d+)\.(\d+)(\.(\d+))?([ab](\d+))?$", re.ASCII)


def _strict(text: str) -> tuple[Any, ...]:
    m = STRICT.match(text)
    if not m:
        raise ValueError(f"invalid version number '{text}'")
    major, minor, _, patch, pre, pre_num = m.groups()
    pre_key = (pre[0], int(pre_num)) if pre else ("~", 0)  # no prerelease sorts last
    return (int(major), int(minor), int(patch or 0), pre_key)


SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class _Semver:
    """Semantic Versioning 2.0 precedence (build metadata ignored)."""

    def __init__(self, text: str) -> None:
        m = SEMVER.match(text)
        if not m:
            raise ValueError(f"invalid semantic version '{text}'")
        self.core = tuple(int(x) for x in m.groups()[:3])
        self.pre = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p)
            for p in (m.group(4) or "").split(".")
            if p
        )

    def key(self) -> tuple[Any, ...]:
        return (self.core, not self.pre, self.pre)


def _version_key(text: str, kind: str) -> Any:
    if kind == "loose":
        return _loose(text)
    if kind == "strict":
        return _strict(text)
    if kind in ("semver", "semantic"):
        return _Semver(text).key()
    from packaging.version import Version

    return Version(text)


OPERATORS = {"==": "eq", "=": "eq", "eq": "eq", "<": "lt", "lt": "lt", "<=": "le", "le": "le"}
OPERATORS.update(
    {">": "gt", "gt": "gt", ">=": "ge", "ge": "ge", "!=": "ne", "<>": "ne", "ne": "ne"}
)
VERSION_TYPES = ("loose", "strict", "semver", "semantic", "pep440")


def version(
    value: Any,
    other: Any,
    op: str = "eq",
    strict: bool | None = None,
    version_type: str | None = None,
) -> bool:
    """Ansible's version test (alias version_compare)."""
    if strict is not None and version_type is not None:
        raise TemplateError("Cannot specify both 'strict' and 'version_type'")
    if not value:
        raise TemplateError("Input version value cannot be empty")
    if not other:
        raise TemplateError("Version parameter to compare against cannot be empty")
    kind = "strict" if strict else version_type or "loose"
    if kind not in VERSION_TYPES:
        raise TemplateError(
            f"Invalid version type ({kind}). Must be one of {', '.join(map(repr, VERSION_TYPES))}"
        )
    if op not in OPERATORS:
        raise TemplateError(
            f"Invalid operator type ({op}). Must be one of {', '.join(map(repr, OPERATORS))}"
        )
    try:
        compare = getattr(operator, OPERATORS[op])
        return bool(compare(_version_key(str(value), kind), _version_key(str(other), kind)))
    except Exception as err:
        raise TemplateError(f"Version comparison failed: {err}") from None


# sets and math ---------------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Iterable) and not isinstance(value, str) else [value]


def subset(a: Any, b: Any) -> bool:
    try:
        return set(_items(a)) <= set(_items(b))
    except TypeError:
        return all(x in _items(b) for x in _items(a))


def superset(a: Any, b: Any) -> bool:
    return subset(b, a)


def contains(seq: Any, value: Any) -> bool:
    return value in seq


def isnan(value: Any) -> bool:
    try:
        return math.isnan(value)
    except TypeError:
        return False


# paths (controller side) -----------------------------------------------------------------


def _path(test: Callable[[str], bool]) -> Callable[[Any], bool]:
    return lambda value: test(str(value))


def same_file(a: Any, b: Any) -> bool:
    try:
        return os.path.samefile(str(a), str(b))
    except OSError:
        return False


# URIs ------------------------------------------------------------------------------------


def uri(value: Any, schemes: Sequence[str] | None = None) -> bool:
    try:
        parts = urlparse(value)
    except Exception:
        return False
    return not schemes or parts.scheme in schemes


def url(value: Any, schemes: Sequence[str] | None = None) -> bool:
    if not uri(value, schemes):
        return False
    parts = urlparse(value)
    return bool(parts.netloc or parts.scheme == "file")


def vault_encrypted(value: Any) -> bool:
    return str(value).lstrip().startswith("$ANSIBLE_VAULT;")


def vaulted_file(path: Any) -> bool:
    try:
        with open(str(path), "rb") as handle:
            return handle.read(15) == b"$ANSIBLE_VAULT;"
    except OSError:
        raise TemplateError(f"Cannot test if the file {str(path)!r} is a vault.") from None


ANSIBLE_TESTS: Mapping[str, Callable[..., bool]] = {
    "failed": failed,
    "failure": failed,
    "succeeded": succeeded,
    "success": succeeded,
    "successful": succeeded,
    "reachable": lambda r: not unreachable(r),
    "unreachable": unreachable,
    "timedout": timedout,
    "changed": changed,
    "change": changed,
    "skipped": skipped,
    "skip": skipped,
    "finished": _async("finished"),
    "started": _async("started"),
    "version": version,
    "version_compare": version,
    "truthy": truthy,
    "falsy": falsy,
    "any": any,
    "all": all,
    "subset": subset,
    "issubset": subset,
    "superset": superset,
    "issuperset": superset,
    "contains": contains,
    "isnan": isnan,
    "nan": isnan,
    "directory": _path(os.path.isdir),
    "is_dir": _path(os.path.isdir),
    "file": _path(os.path.isfile),
    "is_file": _path(os.path.isfile),
    "link": _path(os.path.islink),
    "is_link": _path(os.path.islink),
    "exists": _path(os.path.exists),
    "link_exists": _path(os.path.lexists),
    "abs": _path(os.path.isabs),
    "is_abs": _path(os.path.isabs),
    "same_file": same_file,
    "is_same_file": same_file,
    "mount": _path(os.path.ismount),
    "is_mount": _path(os.path.ismount),
    "uri": uri,
    "url": url,
    "urn": lambda value: uri(value, ["urn"]),
    "vault_encrypted": vault_encrypted,
    "vaulted_file": vaulted_file,
}
