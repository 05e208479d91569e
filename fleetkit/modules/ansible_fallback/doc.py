"""An Ansible module's own documentation (DOCUMENTATION and RETURN), read with ansible-core.

Used by `fleetkit doc` and by the pre-run check, which learns from RETURN's
`ansible_facts` which fact names a task defines (`getent_<database>` with the
task's literal `database:`), so later tasks may use them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetkit.modules.ansible_fallback.resolve import Resolution

PLACEHOLDER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


@dataclass(frozen=True)
class ModuleDoc:
    """What `fleetkit doc` shows of an Ansible module."""

    fqcn: str
    short_description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    returns: Mapping[str, Any] = field(default_factory=dict)
    check_mode: str = ""


@functools.cache
def read(resolution: Resolution) -> ModuleDoc | None:
    """The module's documentation, or None when it has none readable."""
    if resolution.path is None:
        return None
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.plugin_docs import get_docstring

    from fleetkit.modules.ansible_fallback.resolve import _loader

    _loader()
    try:
        doc, _plainexamples, returns, _metadata = get_docstring(
            resolution.path,
            fragment_loader,
            is_module=True,
            collection_name=_collection(resolution),
        )
    except Exception:  # a module with broken docs still runs
        return None
    doc = doc or {}
    support = ((doc.get("attributes") or {}).get("check_mode") or {}).get("support", "")
    return ModuleDoc(
        fqcn=resolution.fqcn,
        short_description=str(doc.get("short_description") or ""),
        options=dict(doc.get("options") or {}),
        returns=dict(returns or {}),
        check_mode=str(support),
    )


def option_names(resolution: Resolution) -> frozenset[str] | None:
    """Every option name and alias the module documents; None when its docs are unreadable."""
    found = read(resolution)
    if found is None:
        return None
    names: set[str] = set()
    for name, spec in found.options.items():
        names.add(str(name))
        aliases = spec.get("aliases") if isinstance(spec, Mapping) else None
        names.update(str(a) for a in aliases or ())
    return frozenset(names)


def _collection(resolution: Resolution) -> str:
    return ".".join(resolution.fqcn.split(".")[:2])


def fact_names(resolution: Resolution, args: Mapping[str, Any]) -> set[str]:
    """Fact names a call defines per its RETURN doc; `<arg>` taken from literal args."""
    found = read(resolution)
    if found is None:
        return set()
    facts = found.returns.get("ansible_facts") or {}
    contains = facts.get("contains") if isinstance(facts, Mapping) else None
    out: set[str] = set()
    for key in contains or {}:
        name = str(key)

        def fill(m: re.Match[str]) -> str:
            value = args.get(m.group(1))
            return str(value) if isinstance(value, str) and "{" not in value else "\0"

        name = PLACEHOLDER.sub(fill, name)
        if "\0" not in name:
            out.add(name)
    return out
