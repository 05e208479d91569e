"""The first_found lookup and with_first_found: loops, as ansible-core 2.19 runs them.

Terms are file names, mappings of options (`files`, `paths`, `skip`) or lists of
either; keyword options (`lookup('first_found', 'a.yml', paths=[...], skip=true)`)
apply to the string terms until a mapping term replaces them (Ansible's
set_options: the last mapping's `skip` decides). A `files` string is split on
`,`/`;`, a `paths` string on `,`/`:`/`;`. Each candidate (path/name, or the name)
is searched as Ansible's path_dwim_relative_stack does: in a role the role's
folder, then its tasks/ folder, then the play's playbook folder; in each, first
under the subfolder the loop's module implies (`template` -> templates/, a name
with `var` -> vars/, anything else -> files/; lookup() uses no subfolder), then
directly. The first that exists (a file or a folder) wins, as an absolute path;
none is an error unless `skip`, then there is no item.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fleetkit.errors import TemplateError
from fleetkit.playbook.filters import bool_filter

OPTIONS = ("files", "paths", "skip")


def loop_subdir(module: str) -> str:
    """The folder with_first_found searches first for a task's module (Ansible's rule)."""
    for sub in ("template", "var", "file"):
        if sub in module:
            break
    return sub + "s"


def first_found(
    terms: list[Any],
    variables: Mapping[str, Any],
    opts: Mapping[str, Any],
    subdir: str | None = None,
) -> list[str]:
    """[the first existing candidate], [] when none and skip, else TemplateError."""
    options = _options(opts)
    if not terms:
        terms = list(options["files"])
    candidates: list[str] = []
    options = _candidates(terms, options, candidates)
    bases = _bases(variables)
    for name in candidates:
        found = _find(name, bases, subdir)
        if found is not None:
            return [found]
    if options["skip"]:
        return []
    raise TemplateError(
        "No file was found when using first_found"
        + (f" (looked for {', '.join(candidates[:6])})" if candidates else "")
    )


def _options(given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(map(str, given)) - set(OPTIONS))
    if unknown:
        raise TemplateError(
            f"first_found: unknown option {unknown[0]!r} (it takes {', '.join(OPTIONS)})"
        )
    out: dict[str, Any] = {"files": [], "paths": [], "skip": False}
    for key in ("files", "paths"):
        value = given.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise TemplateError(f"first_found: {key} must be a list of strings, got {value!r}")
        out[key] = list(value)
    out["skip"] = bool_filter(given.get("skip", False))
    return out


def _candidates(terms: Sequence[Any], options: dict[str, Any], out: list[str]) -> dict[str, Any]:
    """Append the search names of terms to out; the options in force after them."""
    for term in terms:
        if isinstance(term, Mapping):
            options = _options(term)
            files = options["files"]
        elif isinstance(term, str):
            files = [term]
        elif isinstance(term, (list, tuple)):
            options = _candidates(term, options, out)
            continue
        else:
            raise TemplateError(
                "first_found: a term is a file name, a mapping of files/paths/skip or a"
                f" list, not {type(term).__name__}"
            )
        names = [n for f in files for n in re.split(r"[,;]", f)]
        paths = [p for d in options["paths"] for p in re.split(r"[,:;]", d)]
        if paths:
            out.extend(os.path.join(p, n) for p in paths for n in names)
        else:
            out.extend(names)
    return options


def _bases(variables: Mapping[str, Any]) -> list[str]:
    """Ansible's search stack: the role, the role's tasks/, then the playbook's folder."""
    bases: list[str] = []
    role = variables.get("role_path")
    if role:
        bases += [str(role), os.path.join(str(role), "tasks")]
    playbook = variables.get("playbook_dir")
    bases.append(str(playbook) if playbook else os.getcwd())
    return bases


def _find(name: str, bases: Sequence[str], subdir: str | None) -> str | None:
    if name.startswith(("~", os.sep)):
        path = os.path.expanduser(name)
        return os.path.normpath(path) if os.path.exists(path) else None
    for base in bases:
        for candidate in (
            *([os.path.join(base, subdir, name)] if subdir else []),
            os.path.join(base, name),
        ):
            if os.path.exists(candidate):
                return os.path.normpath(os.path.abspath(candidate))
    return None
