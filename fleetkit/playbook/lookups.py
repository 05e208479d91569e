"""Lookup plugins, run on the controller: lookup()/query() in templates and with_<name>: loops.

Each plugin takes its terms (already rendered) and the variables of the task
(role_path and playbook_dir say where files are searched) and returns a list,
as Ansible's lookup plugins do. `lookup()` joins a list of strings with commas
and unwraps a single value (wantlist=False); `query()`/`q()` always return the
list. Files are searched as Ansible does: the role's files/ (templates/ for
`template`), the role, then the playbook's folder's files/ and the folder.
"""

from __future__ import annotations

import copy
import glob
import itertools
import os
import re
import secrets
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetkit.errors import TemplateError

if TYPE_CHECKING:
    from jinja2.runtime import Context

    from fleetkit.playbook.render import Renderer

PIPE_TIMEOUT_S = 60.0

Plugin = Callable[[list[Any], Mapping[str, Any], "Renderer", Mapping[str, Any]], list[Any]]
"""(terms, the task's variables, the renderer, keyword options) -> results."""


def _items(terms: list[Any], *_: Any) -> list[Any]:
    """with_items: the terms with lists flattened one level."""
    out: list[Any] = []
    for term in terms:
        if isinstance(term, (list, tuple)):
            out.extend(term)
        else:
            out.append(term)
    return out


def _list(terms: list[Any], *_: Any) -> list[Any]:
    return list(terms)


def _dict(terms: list[Any], *_: Any) -> list[Any]:
    out: list[Any] = []
    for term in terms:
        if not isinstance(term, Mapping):
            raise TemplateError(f"with_dict expects a mapping, got {type(term).__name__}")
        out.extend({"key": k, "value": v} for k, v in term.items())
    return out


def _lists(terms: list[Any], what: str) -> list[list[Any]]:
    if not terms:
        raise TemplateError(f"with_{what} requires at least one list")
    out = []
    for term in terms:
        if not isinstance(term, (list, tuple)):
            raise TemplateError(f"with_{what} takes a list of lists, got {term!r}")
        out.append(list(term))
    return out


def _together(terms: list[Any], *_: Any) -> list[Any]:
    return [_items(list(x)) for x in itertools.zip_longest(*_lists(terms, "together"))]


def _nested(terms: list[Any], *_: Any) -> list[Any]:
    """LookupBase._combine's product: each step flattens one level, and the result once more."""
    lists = _lists(terms, "nested")
    result: list[Any] = lists[0]
    for more in lists[1:]:
        result = [_items([x, y]) for x in result for y in more]
    return [_items(list(x)) if isinstance(x, (list, tuple)) else [x] for x in result]


def _indexed_items(terms: list[Any], *_: Any) -> list[Any]:
    """with_indexed_items: [index, item] over the terms flattened one level."""
    return [[i, v] for i, v in enumerate(_items(terms))]


def _one_of_one(term: Any) -> Any:
    while isinstance(term, list) and len(term) == 1:
        term = term[0]
    return term


def _flattened(terms: list[Any], *_: Any) -> list[Any]:
    """with_flattened (community.general.flattened): lists flattened all the way down; a
    'None' or 'null' string ends the list it is in, as the plugin's loop does."""
    out: list[Any] = []
    for raw in terms:
        term = _one_of_one(raw)
        if term in ("None", "null"):
            break
        if isinstance(term, (list, tuple)):
            out.extend(_flattened(list(term)))
        else:
            out.append(term)
    return out


def _random_choice(terms: list[Any], *_: Any) -> list[Any]:
    return [secrets.choice(terms)] if terms else []


def _search(variables: Mapping[str, Any], sub: str) -> list[Path]:
    """The folders a relative name is looked up in, best first."""
    bases: list[Path] = []
    role = variables.get("role_path")
    if role:
        bases.append(Path(str(role)))
    playbook = variables.get("playbook_dir")
    bases.append(Path(str(playbook)) if playbook else Path.cwd())
    return [d for b in bases for d in (b / sub, b)]


def find(variables: Mapping[str, Any], sub: str, name: str) -> Path | None:
    """A controller file for a lookup: absolute as given, else in _search(sub) order."""
    path = Path(name).expanduser()
    if path.is_absolute():
        return path if path.is_file() else None
    return next((d / path for d in _search(variables, sub) if (d / path).is_file()), None)


def _fileglob(terms: list[Any], variables: Mapping[str, Any], *_: Any) -> list[Any]:
    out: list[str] = []
    for term in map(str, terms):
        head, tail = os.path.split(term)
        if os.path.isabs(term):
            folders = [Path(head)]
        elif head:
            folders = [d / head for d in _search(variables, "files") if (d / head).is_dir()][:1]
        else:
            folders = _search(variables, "files")
        for folder in folders:
            found = sorted(p for p in glob.glob(str(folder / tail)) if os.path.isfile(p))
            if found:
                out.extend(found)
                break
    return out


_SHORTCUT = re.compile(r"^(?:(-?\w+)-)?(-?\w+)(?:/(-?\w+))?(?::(.+))?$")


def _sequence(terms: list[Any], *_: Any) -> list[Any]:
    out: list[Any] = []
    for term in terms:
        out.extend(_one_sequence(str(term)))
    return out


def _one_sequence(term: str) -> list[str]:
    opts: dict[str, str] = {}
    if "=" in term:
        for part in term.split():
            key, _, value = part.partition("=")
            if key not in ("start", "end", "count", "stride", "format"):
                raise TemplateError(f"with_sequence: unknown option {key!r} in {term!r}")
            opts[key] = value
    else:
        m = _SHORTCUT.match(term.strip())
        if m is None:
            raise TemplateError(f"with_sequence: cannot parse {term!r}")
        start, end, stride, fmt = m.groups()
        opts = {"end": end, **({"start": start} if start else {})}
        if stride:
            opts["stride"] = stride
        if fmt:
            opts["format"] = fmt
    try:
        start = int(opts.get("start", "1"), 0)
        stride = int(opts.get("stride", "1"), 0)
        if "count" in opts:
            if "end" in opts:
                raise TemplateError("with_sequence: count and end together")
            count = int(opts["count"], 0)
            end = start + (count - 1) * stride if count else start - stride
        elif "end" in opts:
            end = int(opts["end"], 0)
        else:
            raise TemplateError("with_sequence: end or count is required")
    except ValueError:
        raise TemplateError(f"with_sequence: numbers expected in {term!r}") from None
    fmt = opts.get("format", "%d")
    if stride == 0:
        return []
    if (stride > 0 and end < start) or (stride < 0 and end > start):
        raise TemplateError("with_sequence: to count backwards make stride negative")
    step = 1 if stride > 0 else -1
    try:
        return [fmt % i for i in range(start, end + step, stride)]
    except (TypeError, ValueError):
        raise TemplateError(f"with_sequence: bad format {fmt!r}") from None


def _subelements(terms: list[Any], *_: Any) -> list[Any]:
    if len(terms) not in (2, 3) or not isinstance(terms[1], str):
        raise TemplateError("with_subelements takes a list (or mapping) and a key name")
    flags = terms[2] if len(terms) == 3 else {}
    if not isinstance(flags, Mapping) or set(flags) - {"skip_missing"}:
        raise TemplateError("with_subelements: the third term is {skip_missing: true|false}")
    skip = bool(flags.get("skip_missing", False))
    data = terms[0]
    if isinstance(data, Mapping):
        if data.get("skipped", False) is not False:
            return []
        elements = list(data.values())
    elif isinstance(data, (list, tuple)):
        elements = list(data)
    else:
        raise TemplateError("with_subelements: the first term must be a list or a mapping")
    keys = terms[1].split(".")
    out: list[Any] = []
    for element in elements:
        if not isinstance(element, Mapping):
            raise TemplateError(f"with_subelements: {element!r} is not a mapping")
        if element.get("skipped", False) is not False:
            continue
        parent = copy.deepcopy(dict(element))
        value: Any = parent
        sub: Any = []
        for depth, key in enumerate(keys):
            if not isinstance(value, dict) or key not in value:
                if skip:
                    sub = []
                    break
                raise TemplateError(f"with_subelements: could not find {key!r} in {element!r}")
            if depth < len(keys) - 1:
                value = value[key]
            else:
                sub = value.pop(key)
        if not isinstance(sub, (list, tuple)):
            raise TemplateError(f"with_subelements: {terms[1]!r} of {element!r} is not a list")
        out.extend([parent, v] for v in sub)
    return out


def _file(
    terms: list[Any], variables: Mapping[str, Any], _: Renderer, opts: Mapping[str, Any]
) -> list[Any]:
    out: list[Any] = []
    for term in map(str, terms):
        path = find(variables, "files", term)
        if path is None:
            raise TemplateError(f"lookup file: could not locate file {term!r}")
        text = path.read_text()
        if opts.get("rstrip", True):
            text = text.rstrip()
        if opts.get("lstrip", False):
            text = text.lstrip()
        out.append(text)
    return out


def _env(
    terms: list[Any], _v: Mapping[str, Any], _r: Renderer, opts: Mapping[str, Any]
) -> list[Any]:
    default = opts.get("default", "")
    return [os.environ.get(str(t).split()[0] if str(t).split() else "", default) for t in terms]


def _template(
    terms: list[Any], variables: Mapping[str, Any], renderer: Renderer, opts: Mapping[str, Any]
) -> list[Any]:
    """Ansible's template lookup: the file sees the variables, its template_* variables
    (and ansible_managed when nothing defines it), then template_vars; its Jinja
    settings are the lookup's delimiter and trim_blocks options."""
    from fleetkit.modules.template_vars import template_vars

    extra = opts.get("template_vars") or {}
    if not isinstance(extra, Mapping):
        raise TemplateError("lookup template: template_vars must be a mapping")
    syntax = {k: opts[k] for k in LOOKUP_SYNTAX if opts.get(k) is not None}
    out: list[Any] = []
    for term in map(str, terms):
        path = find(variables, "templates", term)
        if path is None:
            raise TemplateError(f"lookup template: could not locate template {term!r}")
        defined = "ansible_managed" in variables
        own = template_vars(path, term, None, None if defined else renderer.ansible_managed)
        if not defined:
            own["ansible_managed"] = str(
                renderer.render(own["ansible_managed"], _Over(own, variables))
            )
        scope = _Over({**own, **extra}, variables)
        out.append(renderer.render_file(str(path), scope, syntax=syntax))
    return out


LOOKUP_SYNTAX = (
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "trim_blocks",
)
"""The template lookup's options that are Jinja settings (its block delimiters are Jinja's)."""


def _shell(term: str, variables: Mapping[str, Any], what: str) -> bytes:
    """A controller shell's stdout for a pipe/lines term, run in the playbook's folder
    (Ansible's loader basedir, also for a role's task); a non-zero exit is an error."""
    cwd = variables.get("playbook_dir") or None
    try:
        proc = subprocess.run(
            term,
            shell=True,
            cwd=str(cwd) if cwd else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            timeout=PIPE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TemplateError(f"lookup {what}: {term!r} timed out") from None
    if proc.returncode != 0:
        raise TemplateError(f"lookup {what}: {term!r} returned {proc.returncode}")
    return proc.stdout


def _pipe(terms: list[Any], variables: Mapping[str, Any], *_: Any) -> list[Any]:
    return [_shell(t, variables, "pipe").decode(errors="replace").rstrip() for t in map(str, terms)]


def _lines(terms: list[Any], variables: Mapping[str, Any], *_: Any) -> list[Any]:
    """with_lines: each command's stdout lines (bytes.splitlines, as the plugin)."""
    out: list[Any] = []
    for term in map(str, terms):
        out.extend(
            line.decode(errors="replace") for line in _shell(term, variables, "lines").splitlines()
        )
    return out


def _inventory_hostnames(terms: list[Any], variables: Mapping[str, Any], *_: Any) -> list[Any]:
    """Hosts matching the terms as host patterns, over the `groups` variable only (the plugin
    builds its inventory from it); a name matching nothing matches no host."""
    from fleetkit.errors import PatternError
    from fleetkit.inventory.model import Group, Host, Inventory
    from fleetkit.inventory.select import lenient_hosts

    groups = variables.get("groups") or {}
    everyone = [str(h) for h in groups.get("all", ())]
    for members in groups.values():
        everyone += [str(h) for h in members if str(h) not in everyone]
    inv = Inventory(
        source=Path("."),
        hosts={h: Host(h) for h in everyone},
        groups={str(g): Group(str(g), hosts=tuple(map(str, m))) for g, m in groups.items()},
        all_order=tuple(everyone),
    )
    try:
        return lenient_hosts(inv, [str(t) for t in terms if str(t).strip()])
    except PatternError:
        return []


def _varnames(
    terms: list[Any], variables: Mapping[str, Any], renderer: Renderer, _o: Mapping[str, Any]
) -> list[Any]:
    """Names of the task's variables matching each term (a regex, searched), term by term."""
    jinja = renderer.globals
    names = [
        k
        for k in variables
        if not str(k).startswith("__fleetkit") and not (k in jinja and variables[k] is jinja[k])
    ]
    out: list[Any] = []
    for term in terms:
        if not isinstance(term, str):
            raise TemplateError(
                f'lookup varnames: invalid setting identifier, "{term}" is not a string,'
                f" it is a {type(term).__name__}"
            )
        try:
            pattern = re.compile(term)
        except re.error as err:
            raise TemplateError(f'lookup varnames: unable to use "{term}": {err}') from None
        out.extend(n for n in names if pattern.search(str(n)))
    return out


def _vars(
    terms: list[Any], variables: Mapping[str, Any], _r: Renderer, opts: Mapping[str, Any]
) -> list[Any]:
    """The values of the named variables; `default=` for one that is not defined."""
    out: list[Any] = []
    for term in terms:
        if not isinstance(term, str):
            raise TemplateError(
                f"lookup vars: variable name must be 'str' not '{type(term).__name__}'"
            )
        if term in variables:
            out.append(variables[term])
        elif opts.get("default") is not None:
            out.append(opts["default"])
        else:
            raise TemplateError(f"lookup vars: no variable named {term!r} was found")
    return out


def _first_found(
    terms: list[Any], variables: Mapping[str, Any], _: Renderer, opts: Mapping[str, Any]
) -> list[Any]:
    from fleetkit.playbook.first_found import first_found

    return list(first_found(terms, variables, opts))


class _Over(Mapping[str, Any]):
    """top over base, without copying base (a Layered view renders on access)."""

    def __init__(self, top: Mapping[str, Any], base: Mapping[str, Any]) -> None:
        self._top = top
        self._base = base

    def __getitem__(self, key: str) -> Any:
        if key in self._top:
            return self._top[key]
        return self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._top or key in self._base

    def __iter__(self) -> Any:
        yield from self._top
        yield from (k for k in self._base if k not in self._top)

    def __len__(self) -> int:
        return len(set(self._top) | set(self._base))


PLUGINS: Mapping[str, Plugin] = {
    "items": _items,
    "list": _list,
    "dict": _dict,
    "together": _together,
    "nested": _nested,
    "cartesian": _nested,
    "fileglob": _fileglob,
    "sequence": _sequence,
    "subelements": _subelements,
    "first_found": _first_found,
    "indexed_items": _indexed_items,
    "flattened": _flattened,
    "random_choice": _random_choice,
    "lines": _lines,
    "inventory_hostnames": _inventory_hostnames,
    "file": _file,
    "env": _env,
    "template": _template,
    "pipe": _pipe,
    "varnames": _varnames,
    "vars": _vars,
}
"""Every lookup plugin fleetkit has (lookup('name', ...), query('name', ...), with_<name>:)."""

LOOPS: Mapping[str, Plugin] = PLUGINS
"""The lookups a with_<name>: loop may name: every one, as in Ansible."""

PREFIXES = {
    "ansible.builtin.": frozenset(PLUGINS) - {"flattened", "cartesian"},
    "ansible.legacy.": frozenset(PLUGINS) - {"flattened", "cartesian"},
    "community.general.": frozenset({"flattened", "cartesian"}),
}
"""Collection names a lookup may be called by (lookup('ansible.builtin.file', ...))."""


def plugin_name(name: str) -> str:
    """The plugin a (possibly fully qualified) lookup name means, else the name itself."""
    for prefix, names in PREFIXES.items():
        if name.startswith(prefix) and name[len(prefix) :] in names:
            return name[len(prefix) :]
    return name


def run_loop(
    name: str, value: Any, variables: Mapping[str, Any], renderer: Renderer, module: str = ""
) -> list[Any]:
    """The items of a with_<name>: loop whose rendered value is `value` (module: the task's)."""
    terms = list(value) if isinstance(value, (list, tuple)) else [value]
    if name == "first_found":  # searches the folder the task's module implies first
        from fleetkit.playbook.first_found import first_found, loop_subdir

        return list(first_found(terms, variables, {}, subdir=loop_subdir(module)))
    return LOOPS[name](terms, variables, renderer, {})


def _variables(ctx: Context) -> Mapping[str, Any]:
    """What a template sees at a lookup call: its own (set) names over the task's."""
    local = {k: v for k, v in ctx.vars.items() if not k.startswith("__fleetkit")}
    return _Over(local, ctx.parent) if local else ctx.parent


def _call(
    renderer: Renderer, ctx: Context, name: str, terms: Sequence[Any], opts: dict[str, Any]
) -> list[Any]:
    from fleetkit.text import did_you_mean

    plugin = PLUGINS.get(plugin_name(str(name)))
    if plugin is None:
        raise TemplateError(
            f"lookup plugin {name!r} is not supported{did_you_mean(str(name), list(PLUGINS))}"
            f" (fleetkit has {', '.join(sorted(PLUGINS))})"
        )
    errors = opts.pop("errors", "strict")
    try:
        return plugin(list(terms), _variables(ctx), renderer, opts)
    except TemplateError:
        if errors in ("ignore", "warn"):
            return []
        raise


def lookup_globals(renderer: Renderer) -> dict[str, Any]:
    """lookup, query and q as Jinja globals bound to renderer."""
    from jinja2 import pass_context

    @pass_context
    def lookup(ctx: Context, name: str, *terms: Any, **opts: Any) -> Any:
        wantlist = bool(opts.pop("wantlist", False))
        result = _call(renderer, ctx, name, terms, opts)
        if wantlist or not result:
            return result
        if len(result) == 1:
            return result[0]
        if all(isinstance(r, str) for r in result):
            return ",".join(result)
        return result

    @pass_context
    def query(ctx: Context, name: str, *terms: Any, **opts: Any) -> list[Any]:
        opts.pop("wantlist", None)
        return _call(renderer, ctx, name, terms, opts)

    return {"lookup": lookup, "query": query, "q": query}
