"""Ask ansible-core what an inventory means: run in a subprocess with ansible's Python.

    python ansible_inventory_probe.py QUERIES.json   (cwd: the case directory)

QUERIES.json: {"sources": [...], "list": true, "export": true, "graph": true,
"hosts": [...], "patterns": [[pattern, limit-or-null], ...]}. Prints one JSON
object: each answer is {"rc": 0, "out": text} or {"rc": 1, "error": message}.
--list/--host/--graph go through ansible-inventory's own CLI class (as
`ansible-inventory -i ... --list` runs it); patterns through InventoryManager's
subset + list_hosts, which is what `ansible PATTERN -l LIMIT --list-hosts` calls.
Several queries share one process so the suite stays fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any


def _cli(args: list[str]) -> dict[str, Any]:
    from ansible.cli.inventory import InventoryCLI
    from ansible.parsing.vault import VaultSecretsContext
    from ansible.utils.context_objects import GlobalCLIArgs

    # each CLI run sets these once, as in its own process: start each run afresh
    VaultSecretsContext._current = None
    GlobalCLIArgs._Singleton__instance = None  # type: ignore[attr-defined]
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            InventoryCLI(["ansible-inventory", *args]).run()
        rc = 0
    except SystemExit as done:  # the CLI ends with sys.exit(0) after printing
        rc = int(done.code or 0)
    except Exception as exc:  # ansible's own errors: the answer is "an error"
        return {"rc": 1, "error": f"{type(exc).__name__}: {exc}"}
    return {"rc": rc, "out": out.getvalue()}


def _patterns(sources: list[str], queries: list[list[Any]]) -> list[dict[str, Any]]:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    answers = []
    inv = InventoryManager(loader=DataLoader(), sources=sources)
    for pattern, limit in queries:
        inv.clear_pattern_cache()
        if any(name in f"{pattern}:{limit}" for name in ("localhost", "127.0.0.1")):
            # ansible makes the implicit localhost once per process, named as first asked
            inv = InventoryManager(loader=DataLoader(), sources=sources)
        try:
            inv.subset(limit)
            answers.append({"rc": 0, "out": [str(h) for h in inv.list_hosts(pattern)]})
        except Exception as exc:
            answers.append({"rc": 1, "error": f"{type(exc).__name__}: {exc}"})
    return answers


def main() -> None:
    with open(sys.argv[1]) as handle:
        queries = json.load(handle)
    sources = [arg for src in queries["sources"] for arg in ("-i", src)]
    result: dict[str, Any] = {"list": _cli([*sources, "--list"])}
    result["export"] = _cli([*sources, "--list", "--export"])
    result["graph"] = _cli([*sources, "--graph"])
    for limit in queries.get("list_limits", []):
        result[f"list -l {limit}"] = _cli([*sources, "--list", "--limit", limit])
    result["host"] = {h: _cli([*sources, "--host", h]) for h in queries["hosts"]}
    result["patterns"] = _patterns(queries["sources"], queries["patterns"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
