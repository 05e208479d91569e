"""Run one inventory case under ansible-core and fleetkit; classify every answer.

A case is a directory tests/compat/inventory_cases/NN-name/ with its inventory
(files or directories) and a cases.yml:

    sources: [hosts.ini]           # what -i names, in order (default: [inventory])
    hosts: [web1, localhost]       # --host NAME queries (default: every host listed)
    patterns: [web, "web:&prod"]   # `ansible PATTERN --list-hosts`
    limits: [[all, "web[0]"]]      # `ansible PATTERN -l LIMIT --list-hosts`
    list_limits: [web]             # `ansible-inventory --list -l LIMIT`
    deliberate: {"pattern web": group-beats-host}   # rule ids of docs/contracts.md

Ansible's answers come from tests/compat/ansible_inventory_probe.py (one process
per case); fleetkit's from `fleetkit inventory` (--list, --list --export,
--graph, --host, --list -l) run in-process, and select_hosts for patterns.
An answer is `same`, `deliberate` (a difference docs/contracts.md lists, by rule
id) or `different`. Only these normalisations exist: none of the outputs'
text is rewritten; JSON is compared as data (ansible-inventory sorts keys).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROBE = Path(__file__).parent / "ansible_inventory_probe.py"
BIN = Path(sys.executable).parent

# rule id -> what it allows (docs/contracts.md "Inventory: deliberate differences")
RULES = {
    "no-match-is-error": "a pattern term or limit matching no host is an error (Ansible warns)",
    "group-beats-host": "a plain name that is a group and a host means the group, with a warning",
}


@dataclass(frozen=True)
class Answer:
    """One query's outcome under both tools and its class."""

    case: str
    query: str
    verdict: str  # same | deliberate | different
    ansible: Any
    fleetkit: Any
    rule: str | None = None


def load_case(case: Path) -> dict[str, Any]:
    spec = yaml.safe_load((case / "cases.yml").read_text()) or {}
    spec.setdefault("sources", ["inventory"])
    spec.setdefault("patterns", [])
    spec.setdefault("limits", [])
    spec.setdefault("list_limits", [])
    spec.setdefault("deliberate", {})
    return spec


def ansible_answers(case: Path, spec: dict[str, Any], hosts: list[str]) -> dict[str, Any]:
    queries = {
        "sources": spec["sources"],
        "hosts": hosts,
        "list_limits": spec["list_limits"],
        "patterns": [[p, None] for p in spec["patterns"]] + [list(x) for x in spec["limits"]],
    }
    (query_file := case / ".queries.json").write_text(json.dumps(queries))
    env = {"ANSIBLE_NOCOLOR": "1", "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(Path.home())}
    env["ANSIBLE_LOCAL_TEMP"] = "/tmp/fleetkit-compat-ansible"
    try:
        proc = subprocess.run(
            [sys.executable, str(PROBE), str(query_file)],
            cwd=case,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        query_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{case.name}: ansible probe failed: {proc.stderr[-2000:]}")
    answers: dict[str, Any] = json.loads(proc.stdout)
    return answers


def fleetkit_cli(case: Path, args: list[str]) -> dict[str, Any]:
    """`fleetkit ARGS` in-process: {"rc", "out"} or {"rc", "error"} like the probe's."""
    import contextlib
    import io
    import os

    from fleetkit.cli import cli
    from fleetkit.cli.common import run_cli

    out, err = io.StringIO(), io.StringIO()
    cwd = Path.cwd()
    os.chdir(case)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = run_cli(cli, args)
    finally:
        os.chdir(cwd)
    if rc != 0:
        return {"rc": rc, "error": err.getvalue().strip()}
    return {"rc": 0, "out": out.getvalue(), "stderr": err.getvalue()}


def fleetkit_patterns(case: Path, spec: dict[str, Any]) -> list[dict[str, Any]]:
    from fleetkit.errors import FleetkitError, PatternError
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts, with_implicit_localhost

    queries = [(p, None) for p in spec["patterns"]] + [tuple(x) for x in spec["limits"]]
    try:
        base = load_inventory([case / s for s in spec["sources"]])
    except FleetkitError as err:
        return [{"rc": 2, "error": str(err)} for _ in queries]
    found = []
    for pattern, limit in queries:
        inv = with_implicit_localhost(base, pattern, limit)
        try:
            found.append({"rc": 0, "out": list(select_hosts(inv, pattern, limit, cwd=case))})
        except PatternError as err:  # fleetkit refuses what matches nothing
            found.append({"rc": 2, "error": str(err), "no_match": True})
        except FleetkitError as err:
            found.append({"rc": 2, "error": str(err)})
    return found


def run_case(case: Path) -> list[Answer]:
    """Every query of one case, classified."""
    spec = load_case(case)
    sources = [a for s in spec["sources"] for a in ("-i", s)]
    fk_list = fleetkit_cli(case, ["inventory", *sources, "--list"])
    hosts = spec.get("hosts")
    if hosts is None:
        hosts = (
            sorted(json.loads(fk_list["out"])["_meta"]["hostvars"]) if fk_list["rc"] == 0 else []
        )
    ans = ansible_answers(case, spec, hosts)
    results: list[Answer] = []

    def judge(query: str, a: dict[str, Any], f: dict[str, Any], as_json: bool) -> None:
        a_val, f_val = _value(a, as_json), _value(f, as_json)
        rule = spec["deliberate"].get(query)
        if a_val == f_val:
            verdict = "same"
        elif rule is None and _empty_vs_error(a, f):
            verdict, rule = "deliberate", "no-match-is-error"
        elif rule is not None:
            verdict = "deliberate"
        else:
            verdict = "different"
        results.append(Answer(case.name, query, verdict, a_val, f_val, rule))

    judge("list", ans["list"], fk_list, True)
    judge(
        "list --export",
        ans["export"],
        fleetkit_cli(case, ["inventory", *sources, "--list", "--export"]),
        True,
    )
    judge("graph", ans["graph"], fleetkit_cli(case, ["inventory", *sources, "--graph"]), False)
    for limit in spec["list_limits"]:
        fk = fleetkit_cli(case, ["inventory", *sources, "--list", "-l", limit])
        judge(f"list -l {limit}", ans[f"list -l {limit}"], fk, True)
    for host in hosts:
        fk = fleetkit_cli(case, ["inventory", *sources, "--host", host])
        judge(f"host {host}", ans["host"][host], fk, True)
    queries = [(p, None) for p in spec["patterns"]] + [tuple(x) for x in spec["limits"]]
    for (pattern, limit), a, f in zip(
        queries, ans["patterns"], fleetkit_patterns(case, spec), strict=True
    ):
        name = f"pattern {pattern}" + (f" -l {limit}" if limit else "")
        judge(name, a, f, False)
    return results


def _value(answer: dict[str, Any], as_json: bool) -> Any:
    if answer["rc"] != 0:
        return "<error>"
    out = answer["out"]
    if isinstance(out, str):
        return json.loads(out) if as_json else out.rstrip("\n")
    return out


def _empty_vs_error(a: dict[str, Any], f: dict[str, Any]) -> bool:
    """Ansible answered (dropping, with a warning, a term that matched nothing) where
    fleetkit refused the pattern: the documented "no-match-is-error" rule."""
    return a["rc"] == 0 and f["rc"] != 0 and bool(f.get("no_match"))
