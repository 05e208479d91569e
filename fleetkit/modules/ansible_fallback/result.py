"""Ansible's JSON module result -> fleetkit's ModuleResult, registering what Ansible registers.

Mirrors ansible-core 2.19: junk around the JSON is filtered out
(_filter_non_json_lines), internal keys removed (remove_internal_keys, plus
`invocation`, which 2.19 does not register), stdout_lines/stderr_lines added,
`failed` (from rc when absent) and `changed` defaulted as TaskExecutor does.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fleetkit.connection.base import CommandResult
from fleetkit.modules.base import ModuleResult

MARKER = "FLEETKIT_INTERPRETER="
NO_PYTHON_RC = 127


def parse(res: CommandResult, *, interpreter: str) -> dict[str, Any]:
    """The module's result as Ansible's action plugin leaves it (before TaskExecutor)."""
    from ansible.module_utils.json_utils import _filter_non_json_lines

    stdout = res.stdout
    if stdout.startswith(MARKER):
        stdout = stdout.split("\n", 1)[1] if "\n" in stdout else ""
    try:
        text, _ = _filter_non_json_lines(stdout, objects_only=True)
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the module's result is not a JSON object")
    except ValueError as err:
        if res.rc == NO_PYTHON_RC and not stdout.strip():
            msg = f"The module interpreter {interpreter!r} was not found."
        else:
            msg = f"Module result deserialization failed: {err}"
        return {
            "failed": True,
            "changed": False,
            "msg": msg,
            "module_stdout": stdout,
            "module_stderr": res.stderr,
            "rc": res.rc,
        }
    for key in list(data):
        if key.startswith("_ansible_") or key == "invocation":
            del data[key]
    for key in ("warnings", "deprecations"):
        if key in data and not data[key]:
            del data[key]
    facts = data.get("ansible_facts")
    if isinstance(facts, dict):
        for key in list(facts):
            if key.startswith(("discovered_interpreter_", "ansible_discovered_interpreter_")):
                del facts[key]
    for stream in ("stdout", "stderr"):
        if stream in data and f"{stream}_lines" not in data:
            data[f"{stream}_lines"] = str(data.get(stream) or "").splitlines()
    return data


def registered(data: Mapping[str, Any]) -> dict[str, Any]:
    """The value `register:` stores, as TaskExecutor completes it."""
    out = dict(data)
    if "failed" not in out:
        out["failed"] = "rc" in out and out["rc"] not in (0, "0")
    out.setdefault("changed", False)
    return out


def to_result(data: Mapping[str, Any], discovered: str | None = None) -> ModuleResult:
    """fleetkit's result for Ansible's `data`; `discovered` is the interpreter found, if any."""
    value = registered(data)
    facts = dict(value.get("ansible_facts") or {})
    if discovered:
        facts["discovered_interpreter_python"] = discovered
        value["ansible_facts"] = {**(value.get("ansible_facts") or {}), **facts}
    rc = value.get("rc")
    return ModuleResult(
        changed=bool(value.get("changed")),
        failed=bool(value.get("failed")),
        skipped=bool(value.get("skipped")),
        msg=_text(value.get("msg")),
        rc=rc if isinstance(rc, int) and not isinstance(rc, bool) else None,
        stdout=_text(value.get("stdout") if "stdout" in value else value.get("module_stdout")),
        stderr=_text(value.get("stderr") if "stderr" in value else value.get("module_stderr")),
        diff=diff_text(value.get("diff")),
        facts=MappingProxyType(facts),
        registered=MappingProxyType(value),
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def diff_text(diff: Any) -> str:
    """A unified diff from Ansible's diff value(s) ({before, after, *_header} or prepared)."""
    if not diff:
        return ""
    parts = diff if isinstance(diff, list) else [diff]
    out: list[str] = []
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        if part.get("prepared"):
            out.append(str(part["prepared"]).rstrip("\n"))
            continue
        before, after = part.get("before", ""), part.get("after", "")
        if not isinstance(before, str) or not isinstance(after, str):
            before = json.dumps(before, indent=4, sort_keys=True, default=str) + "\n"
            after = json.dumps(after, indent=4, sort_keys=True, default=str) + "\n"
        lines = difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=str(part.get("before_header", "before")),
            tofile=str(part.get("after_header", "after")),
        )
        out.append("".join(lines).rstrip("\n"))
    return "\n".join(o for o in out if o)
