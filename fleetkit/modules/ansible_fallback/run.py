"""The Module that runs one of Ansible's modules over fleetkit's connection.

Arguments pass through unvalidated (the module validates them on the host, as
under ansible-playbook). The interpreter is `ansible_python_interpreter`, else
the discovered one from an earlier task (`discovered_interpreter_python`), else
discovered in the same round trip as the module runs: the first of Ansible's
INTERPRETER_PYTHON_FALLBACK list found on the host's PATH, as `auto_silent`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from fleetkit.executor.facts.script import FALLBACK
from fleetkit.modules.ansible_fallback.resolve import Resolution
from fleetkit.modules.ansible_fallback.result import MARKER, NO_PYTHON_RC, parse, to_result
from fleetkit.modules.base import Module, ModuleContext, ModuleResult, fail
from fleetkit.text import to_bool

AUTO = frozenset({"auto", "auto_silent", "auto_legacy", "auto_legacy_silent"})


def interpreter_of(variables: Mapping[str, Any], configured: str | None = None) -> str | None:
    """The host's interpreter (ansible_python_interpreter, else ansible.cfg's
    interpreter_python) or the one already discovered; None: discover it."""
    given = variables.get("ansible_python_interpreter")
    if given is None:
        given = configured
    if given and str(given) not in AUTO:
        return str(given)
    facts = variables.get("ansible_facts")
    if isinstance(facts, Mapping) and facts.get("discovered_interpreter_python"):
        return str(facts["discovered_interpreter_python"])
    found = variables.get("discovered_interpreter_python")
    return str(found) if found else None


def launcher(interpreter: str | None) -> str:
    """The shell command that runs the payload (stdin) with the host's Python.

    Discovery prints the interpreter it chose on the first stdout line; a missing
    interpreter exits 127 with a message naming what was tried.
    """
    if interpreter is not None:
        q = shlex.quote(interpreter)
        return (
            f"command -v {q} >/dev/null 2>&1 || {{ echo 'fleetkit: Python interpreter '{q}"
            f"' (ansible_python_interpreter) not found on the host' >&2; exit {NO_PYTHON_RC}; }}\n"
            f"exec {q} -"
        )
    names = " ".join(FALLBACK)
    return (
        f"for p in {names}; do\n"
        '  if found=$(command -v "$p" 2>/dev/null); then\n'
        f'    printf "{MARKER}%s\\n" "$found"; exec "$found" -\n'
        "  fi\n"
        "done\n"
        f"echo 'fleetkit: no Python interpreter found on the host (tried {names});"
        f" set ansible_python_interpreter' >&2; exit {NO_PYTHON_RC}"
    )


class AnsibleModule(Module):
    """One Ansible module, by its FQCN, run from ansible-core's own code."""

    free_args = True
    check_mode = True  # the module itself answers check mode (or says it cannot)

    def __init__(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self.name = resolution.fqcn  # type: ignore[misc]

    def run(self, ctx: ModuleContext) -> ModuleResult:
        res = self.resolution
        if res.problem is not None:
            return fail(f"module {res.fqcn}: {res.problem}")
        if res.needs_true and not any(_true(ctx.args.get(a)) for a in res.needs_true):
            return fail(
                f"module {res.fqcn}: fleetkit runs it only with {' or '.join(res.needs_true)}:"
                " true (otherwise it needs Ansible's controller-side action plugin)"
            )
        from fleetkit.modules.ansible_fallback.payload import build, module_args

        interpreter = interpreter_of(ctx.variables, ctx.interpreter_python)
        args = module_args(
            res.fqcn,
            ctx.args,
            check=ctx.check,
            diff=ctx.diff,
            no_log=ctx.no_log,
            variables=ctx.variables,
        )
        payload = build(
            res, args, interpreter=interpreter or "/usr/bin/python3", environment=ctx.environment
        )
        out = ctx.run(launcher(interpreter), stdin=payload)
        discovered = None
        if interpreter is None and out.stdout.startswith(MARKER):
            discovered = out.stdout.split("\n", 1)[0][len(MARKER) :].strip()
        data = parse(out, interpreter=interpreter or discovered or "python3")
        if out.rc == NO_PYTHON_RC and out.stderr.startswith("fleetkit:"):
            data["msg"] = f"{out.stderr.strip()[len('fleetkit: ') :]} (module {res.fqcn})"
        return to_result(data, discovered)


def _true(value: Any) -> bool:
    try:
        return to_bool(value)
    except ValueError:
        return False
