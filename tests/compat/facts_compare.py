"""Key-by-key comparison of two tools' facts for one target: same, volatile, different, missing.

`compare` takes the setup module's `ansible_facts` from ansible-playbook and from
fleetkit (registered by the same playbook, tests/compat/facts/site.yml, on the
same target) and sorts every key: the same value; a value that differs only
where it must (VOLATILE: the clock, free memory, load, disk usage, the SSH
client's port); different; missing from fleetkit; extra in fleetkit. Lists
whose order ansible-core 2.19 does not fix are compared as sets (UNORDERED).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.compat.harness import BIN, ansible_env

ALL = "*"
VOLATILE: dict[str, tuple[str, tuple[str, ...]]] = {
    "ansible_date_time": (
        "the clock moved between the two gatherings (the time zone must match)",
        (
            "year",
            "month",
            "weekday",
            "weekday_number",
            "weeknumber",
            "day",
            "hour",
            "minute",
            "second",
            "epoch",
            "epoch_int",
            "date",
            "time",
            "iso8601_micro",
            "iso8601",
            "iso8601_basic",
            "iso8601_basic_short",
        ),
    ),
    "ansible_uptime_seconds": ("the clock moved between the two gatherings", (ALL,)),
    "ansible_loadavg": ("the load average moves with the machine's load", (ALL,)),
    "ansible_memfree_mb": ("free memory changes from moment to moment", (ALL,)),
    "ansible_swapfree_mb": ("free swap changes from moment to moment", (ALL,)),
    "ansible_memory_mb": (
        "free and used memory change from moment to moment (totals must match)",
        (
            "real.free",
            "real.used",
            "nocache.free",
            "nocache.used",
            "swap.free",
            "swap.used",
            "swap.cached",
        ),
    ),
    "ansible_mounts": (
        "free blocks and inodes change as files are written (everything else must match)",
        (
            "[].block_available",
            "[].block_used",
            "[].inode_available",
            "[].inode_used",
            "[].size_available",
        ),
    ),
    "ansible_env": (
        "each SSH session has its own client port; sudo records its own command line",
        ("SSH_CLIENT", "SSH_CONNECTION", "SUDO_COMMAND"),
    ),
}
"""Facts whose values must differ between two gatherings, and the parts that may."""

UNORDERED = frozenset(
    {
        "ansible_interfaces", "ansible_virtualization_tech_guest",
        "ansible_virtualization_tech_host", "ansible_mounts",
    }
)  # fmt: skip
"""Lists whose order ansible-core 2.19 does not fix: serialised from sets (interfaces, the
virtualization techs), or in the order its statfs threads finish (mounts)."""

DELIBERATE: dict[str, tuple[str, tuple[str, ...]]] = {
    "ansible_env": (
        "fleetkit's SSH sessions ask for no terminal and forward no locale: Ansible's OpenSSH"
        " runs modules with -tt (SSH_TTY, TERM) and sends LANG/LC_* (SendEnv in the"
        " controller's ssh_config); without LANG the host's Python sets LC_CTYPE (PEP 538)",
        ("SSH_TTY", "TERM", "LANG", "LC_CTYPE"),
    ),
}
"""Parts of facts fleetkit gives differently on purpose (docs/contracts.md "Facts" says why)."""


@dataclass(frozen=True)
class Comparison:
    same: tuple[str, ...] = ()
    volatile: tuple[str, ...] = ()
    deliberate: tuple[str, ...] = ()
    different: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        groups = (self.same, self.volatile, self.deliberate, self.different, self.missing)
        return sum(len(g) for g in groups)

    def summary(self, where: str) -> str:
        return (
            f"facts on {where}: {self.total} keys from Ansible's setup: {len(self.same)} same,"
            f" {len(self.volatile)} differ where they must ({', '.join(self.volatile) or '-'}),"
            f" {len(self.deliberate)} differ on purpose ({', '.join(self.deliberate) or '-'}),"
            f" {len(self.different)} different ({', '.join(self.different) or '-'}),"
            f" {len(self.missing)} missing ({', '.join(self.missing) or '-'});"
            f" {len(self.extra)} only in fleetkit ({', '.join(self.extra) or '-'})"
        )


def _mask(value: Any, paths: tuple[str, ...]) -> Any:
    """value with the volatile sub-paths removed ("a.b", "[].key" for each list item)."""
    if ALL in paths:
        return None
    if isinstance(value, list):
        inner = tuple(p[3:] for p in paths if p.startswith("[]."))
        return [_mask(item, inner) for item in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in paths:
                continue
            inner = tuple(p[len(key) + 1 :] for p in paths if p.startswith(f"{key}."))
            out[key] = _mask(item, inner) if inner else item
        return out
    return value


def _normal(key: str, value: Any) -> Any:
    if key in UNORDERED and isinstance(value, list):
        return sorted(value, key=lambda item: json.dumps(item, sort_keys=True))
    return value


LOCAL_ENV = (
    "FLEETKIT_PERSIST", "COLUMNS", "LINES", "ANSIBLE_HOME", "ANSIBLE_LOCAL_TEMP",
    "ANSIBLE_NOCOLOR", "ANSIBLE_RETRY_FILES_ENABLED",
)  # fmt: skip
"""Over a local connection a command's environment is the tool's own process environment:
each tool's own variables show there (fleetkit sets FLEETKIT_PERSIST, the terminal size)."""


def compare(
    ansible: Mapping[str, Any],
    fleetkit: Mapping[str, Any],
    volatile: Mapping[str, tuple[str, tuple[str, ...]]] = VOLATILE,
) -> Comparison:
    same: list[str] = []
    moved: list[str] = []
    chosen: list[str] = []
    different: dict[str, str] = {}
    for key in sorted(ansible):
        if key not in fleetkit:
            continue
        a, f = _normal(key, ansible[key]), _normal(key, fleetkit[key])
        parts = volatile.get(key, ("", ()))[1]
        both = parts + DELIBERATE.get(key, ("", ()))[1]
        if a == f:
            same.append(key)
        elif parts and _mask(a, parts) == _mask(f, parts):
            moved.append(key)
        elif key in DELIBERATE and _mask(a, both) == _mask(f, both):
            chosen.append(key)
        else:
            different[key] = f"ansible {json.dumps(a)[:200]} | fleetkit {json.dumps(f)[:200]}"
    return Comparison(
        same=tuple(same),
        volatile=tuple(moved),
        deliberate=tuple(chosen),
        different=different,
        missing=tuple(sorted(set(ansible) - set(fleetkit))),
        extra=tuple(sorted(set(fleetkit) - set(ansible))),
    )


def spelling_problems(tool: str, seen: Mapping[str, Any]) -> list[str]:
    """Where a tool's host variables do not hold a registered fact under both of Ansible's
    names: `ansible_<name>` (seen["top"], in seen["names"] order) and `ansible_facts.<name>`."""
    problems: list[str] = []
    registered = seen["setup"]
    top = dict(zip(seen["names"], seen["top"], strict=True))
    facts = seen["ansible_facts"]
    for key, value in registered.items():
        short = key[8:] if key.startswith("ansible_") and key != "ansible_local" else key
        if key in VOLATILE or key == "ansible_date_time":
            continue  # gathered again by the play's own gathering: compared above
        if top.get(key) != value:
            problems.append(f"{tool}: top-level {key} is not the registered value")
        if facts.get(short) != value:
            problems.append(f"{tool}: ansible_facts.{short} is not the registered value")
    return problems


def local_volatile() -> dict[str, tuple[str, tuple[str, ...]]]:
    """VOLATILE for a local connection: also each tool's own process environment."""
    reason, paths = VOLATILE["ansible_env"]
    return {
        **VOLATILE,
        "ansible_env": (f"{reason}; locally, each tool's own environment", paths + LOCAL_ENV),
    }


def run_both(site: Path, inventories: tuple[Path, Path], tmp: Path) -> tuple[Path, Path]:
    """ansible-playbook and fleetkit on the facts playbook; their output folders."""
    outs = (tmp / "ansible-out", tmp / "fleetkit-out")
    for out in outs:
        out.mkdir(parents=True, exist_ok=True)
    ansible = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventories[0]), "site.yml",
         "-e", f"outdir={outs[0]}"],
        cwd=site, capture_output=True, text=True, env=ansible_env(tmp), timeout=600, check=False,
    )  # fmt: skip
    assert ansible.returncode == 0, ansible.stdout[-3000:] + ansible.stderr[-3000:]
    fleetkit = subprocess.run(
        [str(BIN / "fleetkit"), "run", "site.yml", "-i", str(inventories[1]),
         "-e", f"outdir={outs[1]}"],
        cwd=site, capture_output=True, text=True, env=ansible_env(tmp), timeout=600, check=False,
    )  # fmt: skip
    assert fleetkit.returncode == 0, fleetkit.stdout[-3000:] + fleetkit.stderr[-3000:]
    return outs


def load(out: Path, host: str, part: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / f"{host}-{part}.json").read_text())
    return data
