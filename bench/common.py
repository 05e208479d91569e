"""Shared bench plumbing: the lab fleet, peer inventories, timing and peak memory.

Benchmarks run side by side in one process tree on one lab so that ratios hold
even on a noisy shared machine: each round runs every tool once, in rotating
order, and the report gives medians and ratios.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Lab:
    """The lab fleet as the bench needs it: names, addresses, key, known_hosts."""

    inventory: Path
    hosts: tuple[str, ...]
    addresses: tuple[str, ...]
    user: str
    key: str
    known_hosts: str


def ensure_lab(n_hosts: int, inventory: Path) -> Lab:
    """Bring up a lab of exactly n_hosts (rebuilding one of another size)."""
    fleetkit = str(BIN / "fleetkit")
    status = subprocess.run([fleetkit, "lab", "status", "--json"], capture_output=True, text=True)
    current = 0
    if status.returncode == 0 and status.stdout.strip():
        try:
            current = len(json.loads(status.stdout).get("hosts", []))
        except json.JSONDecodeError:
            current = 0
    if current != n_hosts:
        subprocess.run([fleetkit, "lab", "down"], check=True)
    subprocess.run(
        [fleetkit, "lab", "up", "--hosts", str(n_hosts), "--inventory-out", str(inventory)],
        check=True,
    )
    return read_lab(inventory)


def read_lab(inventory: Path) -> Lab:
    """The lab an inventory written by `fleetkit lab up` describes."""
    data = yaml.safe_load(inventory.read_text())["all"]
    hosts: dict[str, dict[str, str]] = {}

    def walk(group: dict[str, object]) -> None:
        for name, hv in (group.get("hosts") or {}).items():  # type: ignore[union-attr]
            hosts.setdefault(name, hv or {})
        for child in (group.get("children") or {}).values():  # type: ignore[union-attr]
            walk(child or {})

    walk(data)
    v = data["vars"]
    return Lab(
        inventory=inventory,
        hosts=tuple(hosts),
        addresses=tuple(hv.get("ansible_host", h) for h, hv in hosts.items()),
        user=v["ansible_user"],
        key=v["ansible_ssh_private_key_file"],
        known_hosts=v["fleetkit_known_hosts"],
    )


@dataclass
class Measure:
    """Wall times (s) and peak RSS (KiB) of repeated runs of one command."""

    name: str
    times: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    failures: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")


def run_timed(
    argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, int, int, str]:
    """Run argv; return (wall seconds, exit code, peak RSS KiB of the process tree, output)."""
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    return wall, proc.returncode, int(usage.ru_maxrss), out.read().decode(errors="replace")


def rounds(
    measures: dict[str, Measure],
    commands: dict[str, Callable[[], tuple[float, int, int, str]]],
    n: int,
) -> None:
    """n rounds; each runs every command once, rotating the order."""
    names = list(commands)
    for i in range(n):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            wall, rc, rss, output = commands[name]()
            m = measures[name]
            if rc != 0:
                m.failures += 1
                print(f"  {name}: exit {rc}\n{output[-2000:]}", file=sys.stderr)
                continue
            m.times.append(wall)
            m.rss_kib.append(rss)
        print(
            f"  round {i + 1}/{n}: "
            + ", ".join(f"{k} {measures[k].times[-1]:.2f}s" for k in order if measures[k].times),
            file=sys.stderr,
        )


def report(measures: dict[str, Measure], baseline: str) -> dict[str, object]:
    """Print medians and ratios to the baseline; return them as a dict."""
    base = measures[baseline].median
    rows = {}
    print(f"{'tool':<12}{'median s':>10}{'min s':>8}{'ratio':>8}{'peak RSS MiB':>14}  runs")
    for name, m in measures.items():
        ratio = m.median / base if base else float("nan")
        rss = statistics.median(m.rss_kib) / 1024 if m.rss_kib else float("nan")
        print(
            f"{name:<12}{m.median:>10.3f}{min(m.times, default=float('nan')):>8.3f}{ratio:>8.2f}{rss:>14.1f}  {len(m.times)} ok, {m.failures} failed"
        )
        rows[name] = {
            "median_s": m.median,
            "times_s": m.times,
            "ratio_to_" + baseline: ratio,
            "peak_rss_mib": rss,
            "failures": m.failures,
        }
    return rows


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
        "loadavg_at_end": os.getloadavg(),
    }


def write_results(name: str, data: dict[str, object]) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def which(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: pip install -e '.[bench]'")
    return found
