"""What `fleetkit doc` says of a module: native (its declared Arg table) or through Ansible.

Text only, so the CLI stays thin; Ansible's docs are read only for a module that
is not native (ansible-core is imported only then).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fleetkit.errors import UsageError
from fleetkit.modules.base import Module
from fleetkit.text import suggestion_tail


def describe(name: str) -> str:
    """The documentation of module `name`; UsageError (with "did you mean") when unknown."""
    from fleetkit.modules.registry import find, lookup, suggest_module

    native = lookup(name)
    if native is not None:
        return "\n".join((*_native(native), *_ansible_only(name, native)))
    module = find(name)
    resolution = getattr(module, "resolution", None)
    if resolution is None:
        raise UsageError(f"unknown module '{name}'{suggestion_tail(suggest_module(name))}")
    return "\n".join(_ansible(resolution))


def _native(module: Module) -> Iterator[str]:
    yield f"{module.name}  (native: fleetkit's own code)"
    doc = (type(module).__doc__ or "").strip().splitlines()
    if doc:
        yield f"  {doc[0]}"
    yield f"  check mode: {'supported' if module.check_mode else 'not supported (skipped)'}"
    if module.free_form:
        yield f"  free-form text goes to: {module.free_form}"
    if module.free_args:
        yield "  arguments: any name (free)"
        return
    yield "ARGUMENTS"
    for arg_name, arg in sorted(module.args.items()):
        bits: list[str] = [arg.type]
        if arg.required:
            bits.append("required")
        if arg.default is not None:
            bits.append(f"default {arg.default!r}")
        if arg.choices:
            bits.append("choices " + "|".join(str(c) for c in arg.choices))
        if arg.aliases:
            bits.append("aliases " + ", ".join(arg.aliases))
        if arg.secret:
            bits.append("secret")
        yield f"  {arg_name}: {', '.join(bits)}"


def _ansible_only(name: str, module: Module) -> Iterator[str]:
    """The options of Ansible's module of the same name that fleetkit's lacks: a task
    giving one runs Ansible's module (when this controller can run it)."""
    if module.free_args:
        return
    from fleetkit.modules.ansible_fallback.doc import read
    from fleetkit.modules.ansible_fallback.resolve import resolve

    resolution = resolve(name)
    if resolution is None or not resolution.runnable:
        return
    doc = read(resolution)
    if doc is None:
        return
    mine = set(module.args) | {a for arg in module.args.values() for a in arg.aliases}
    only = {
        opt_name: opt
        for opt_name, opt in doc.options.items()
        if opt_name not in mine
        and not mine & set(opt.get("aliases") or () if isinstance(opt, Mapping) else ())
    }
    when = " or ".join(f"{a}: true" for a in resolution.needs_true)
    if when:
        yield f"THROUGH {resolution.fqcn} (with {when}, the task runs Ansible's module)"
    elif only:
        yield f"THROUGH {resolution.fqcn} (a task giving one of these runs Ansible's module)"
    else:
        return
    for opt_name, opt in sorted(only.items()):
        yield f"  {opt_name}: {_option(opt)}"


def _ansible(resolution: Any) -> Iterator[str]:
    from fleetkit.modules.ansible_fallback.doc import read

    how = (
        "through Ansible (ansible-core's module code on the host's Python)"
        if resolution.runnable
        else f"through Ansible, but not on this controller: {resolution.problem}"
    )
    yield f"{resolution.fqcn}  ({how})"
    doc = read(resolution) if resolution.path else None
    if doc is None:
        return
    if doc.short_description:
        yield f"  {doc.short_description}"
    if doc.check_mode:
        yield f"  check mode: {doc.check_mode}"
    if resolution.needs_true:
        yield f"  fleetkit runs it only with {' or '.join(resolution.needs_true)}: true"
    yield "ARGUMENTS"
    for opt_name, opt in sorted(doc.options.items()):
        yield f"  {opt_name}: {_option(opt)}"
    if doc.returns:
        yield "RETURN VALUES"
        for ret_name, ret in sorted(doc.returns.items()):
            kind = ret.get("type", "") if isinstance(ret, Mapping) else ""
            when = ret.get("returned", "") if isinstance(ret, Mapping) else ""
            yield f"  {ret_name}: {kind}{f' (returned {when})' if when else ''}"


def _option(opt: Any) -> str:
    if not isinstance(opt, Mapping):
        return ""
    bits = [str(opt.get("type", "str"))]
    if opt.get("required"):
        bits.append("required")
    if opt.get("default") is not None:
        bits.append(f"default {opt['default']!r}")
    if opt.get("choices"):
        bits.append("choices " + "|".join(str(c) for c in opt["choices"]))
    if opt.get("aliases"):
        bits.append("aliases " + ", ".join(str(a) for a in opt["aliases"]))
    if opt.get("no_log"):
        bits.append("secret")
    return ", ".join(bits)


def listing() -> str:
    """Every module this controller can run: native ones, then Ansible's installed ones
    (less those that need a controller-side action plugin, which fleetkit does not run)."""
    from fleetkit.modules.ansible_fallback.resolve import (
        collection_modules,
        installed_collections,
        version_problem,
        without_action_plugin,
    )
    from fleetkit.modules.registry import MODULES

    lines = [f"{name}  native" for name in sorted(MODULES)]
    problem = version_problem()
    if problem is not None:
        lines.append(f"(Ansible's modules: {problem})")
        return "\n".join(lines)
    for collection in ("ansible.builtin", *installed_collections()):
        found = without_action_plugin(collection, collection_modules(collection))
        lines += [f"{fqcn}  ansible" for fqcn in found]
    return "\n".join(lines)
