"""Exporter shards on the real lab: two `--shard I/2` exporters together serve exactly
the host series of one unsharded exporter, each host in one shard only."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import pytest
from tests.lab_aliases import alias_inventory
from tests.support import FLEETKIT

from fleetkit.lab import LabState
from fleetkit.monitoring.shard import Shard

pytestmark = pytest.mark.integration

N_NAMES = 24


def host_series(text: str) -> set[str]:
    """Every fleetkit_host_* series line name+labels (values and timings dropped)."""
    keep = set()
    for line in text.splitlines():
        if line.startswith("fleetkit_host_") and "{" in line:
            name, _, rest = line.partition("{")
            labels = rest.rsplit("}", 1)[0]
            keep.add(f"{name}{{{labels}}}")
    return keep


def once(inventory: Path, *extra: str) -> tuple[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [*FLEETKIT, "exporter", "-i", str(inventory), "--once", "--timeout", "10", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return out.stdout, cpu


def test_two_shards_union_is_the_unsharded_exporter(lab: LabState, tmp_path: Path) -> None:
    assert lab.inventory is not None
    inv = tmp_path / "hosts.yml"
    names = alias_inventory(lab.inventory, inv, N_NAMES)
    whole, cpu_whole = once(inv)
    zero, cpu_zero = once(inv, "--shard", "0/2")
    one, cpu_one = once(inv, "--shard", "1/2")
    up = {n for n in names if f'fleetkit_host_up{{host="{n}"}} 1.0' in whole}
    assert up == set(names)  # every alias reachable: otherwise the comparison proves little
    per_host = {
        part: {s.split('host="', 1)[1].split('"', 1)[0] for s in host_series(text)}
        for part, text in (("0", zero), ("1", one))
    }
    assert per_host["0"] == set(Shard(0, 2).select(names))
    assert per_host["1"] == set(Shard(1, 2).select(names))
    assert not per_host["0"] & per_host["1"]
    assert host_series(zero) | host_series(one) == host_series(whole)
    assert not host_series(zero) & host_series(one)
    print(
        f"\nshard 0: {len(per_host['0'])} hosts, shard 1: {len(per_host['1'])} hosts;"
        f" CPU (whole process, start-up included) unsharded {cpu_whole:.2f}s,"
        f" shard 0 {cpu_zero:.2f}s, shard 1 {cpu_one:.2f}s"
    )
