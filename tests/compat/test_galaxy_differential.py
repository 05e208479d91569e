"""Role argument specs, Galaxy roles and collections on disk against ansible-playbook 2.19.

Each tests/compat/galaxy/NN-* case runs under ansible-playbook and under fleetkit on
local hosts, compared as the playbook differential compares (files written with
their modes, per-host recaps, exit class). A case may add an `env` file: KEY=VALUE
lines given to both tools, `{case}` standing for the case's folder (roles_path,
collections_path pointing into it). Collections are written on disk by the cases
themselves; nothing is downloaded. Any difference fails unless docs/contracts.md
("Role argument specs", "Collections and Galaxy") lists it, in DELIBERATE below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.compat.harness import (
    BIN,
    ansible_env,
    fleetkit_recaps,
    inventory,
    recap_differences,
    run_ansible,
    state,
)

pytestmark = pytest.mark.compat

CASES = Path(__file__).parent / "galaxy"
ANSIBLE_EXIT = {0: "ok", 2: "failed", 4: "unreachable"}
FLEETKIT_EXIT = {0: "ok", 1: "failed", 3: "unreachable"}

DELIBERATE: dict[str, Mapping[str, tuple[str | None, str | None]]] = {}
"""case (without NN-) -> file -> (ansible, fleetkit) content docs/contracts.md lists."""


def _env(case: Path) -> dict[str, str]:
    file = case / "env"
    if not file.is_file():
        return {}
    pairs = (line.split("=", 1) for line in file.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip().replace("{case}", str(case)) for k, v in pairs}


def _fleetkit(
    src: Path, inv: Path, args: list[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fleetkit"), "run", "site.yml", "-i", str(inv), "--json", *args],
        cwd=src,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=180,
        check=False,
    )


def compare(case: Path, tmp: Path) -> tuple[str, list[str]]:
    """Run case under both tools: (its name, the differences not listed as deliberate)."""
    work = tmp / case.name
    src = work / "src"
    shutil.copytree(case, src)
    hosts_file = case / "hosts"
    hosts = hosts_file.read_text().split() if hosts_file.is_file() else ["localhost"]
    inv = inventory(work, hosts)
    args_file = case / "args"
    args = args_file.read_text().splitlines() if args_file.is_file() else []
    extra = _env(src)
    a_out, f_out = work / "ansible", work / "fleetkit"
    a_out.mkdir()
    f_out.mkdir()
    with ThreadPoolExecutor(2) as both:
        a_future = both.submit(
            run_ansible, src, inv, ["-e", f"outdir={a_out}", *args], ansible_env(work, extra)
        )
        f_future = both.submit(_fleetkit, src, inv, ["-e", f"outdir={f_out}", *args], extra)
        (a_recaps, a_proc), f_proc = a_future.result(), f_future.result()
    listed = DELIBERATE.get(case.name.split("-", 1)[1], {})
    problems: list[str] = []
    a_state, f_state = state(a_out), state(f_out)
    for name in sorted(set(a_state) | set(f_state)):
        a_file, f_file = a_state.get(name), f_state.get(name)
        if a_file == f_file:
            continue
        pair = (a_file[0] if a_file else None, f_file[0] if f_file else None)
        if listed.get(name) != pair:
            problems.append(f"{name}: ansible {a_file!r} fleetkit {f_file!r}")
    f_recaps = fleetkit_recaps(f_proc.stdout)
    f_recaps = {h: r for h, r in f_recaps.items() if h in a_recaps or any(r.values())}
    problems += recap_differences(a_recaps, f_recaps)
    classes = (
        ANSIBLE_EXIT.get(a_proc.returncode, "error"),
        FLEETKIT_EXIT.get(f_proc.returncode, "error"),
    )
    if classes[0] != classes[1]:
        problems.append(
            f"exit class: ansible {classes[0]} ({a_proc.returncode}) fleetkit {classes[1]}"
            f" ({f_proc.returncode}): {f_proc.stderr[-600:]}"
        )
    if not a_state:
        problems.append(f"the case wrote nothing under ansible-playbook: {a_proc.stdout[-800:]}")
    if problems and os.environ.get("FLEETKIT_COMPAT_VERBOSE"):
        problems.append(f"ansible: {a_proc.stdout[-2000:]} {a_proc.stderr[-800:]}")
        problems.append(f"fleetkit: {f_proc.stdout[-2000:]} {f_proc.stderr[-800:]}")
    return case.name, problems


def test_every_galaxy_case_means_the_same_under_ansible_playbook_and_fleetkit(
    tmp_path: Path,
) -> None:
    if not (BIN / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed (pip install -e '.[test]')")
    cases = sorted(p for p in CASES.iterdir() if (p / "site.yml").is_file())
    assert len(cases) >= 5
    only = os.environ.get("FLEETKIT_COMPAT_ONLY")
    if only:
        cases = [c for c in cases if only in c.name]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda c: compare(c, tmp_path), cases))
    bad = {name: problems for name, problems in results if problems}
    counts = {"same": len(results) - len(bad), "different": len(bad)}
    print(f"galaxy differential: {json.dumps(counts)}")
    assert not bad, json.dumps({"counts": counts, **bad}, indent=1, ensure_ascii=False)


def test_every_deliberate_difference_names_a_case() -> None:
    names = {p.name.split("-", 1)[1] for p in CASES.iterdir() if (p / "site.yml").is_file()}
    assert set(DELIBERATE) <= names
