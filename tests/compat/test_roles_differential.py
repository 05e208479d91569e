"""Each tests/compat/cases/* playbook run by ansible-playbook and by fleetkit on localhost.

Both write what they observed under their own -e outdir=...; the written files
(content and mode) and the recaps (ok/changed/failed/skipped/rescued/ignored per
host) must be the same, unless docs/contracts.md lists the difference as
deliberate. Ansible counts a changed task in ok too: its ok is compared with
fleetkit's ok + changed. Cases run in parallel to keep the layer short.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.compat

CASES = Path(__file__).parent / "cases"
BIN = Path(sys.executable).parent
RECAP = re.compile(r"^(\S+)\s+:\s+(.*)$")
KEYS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
DELIBERATE: dict[str, dict[str, tuple[int, int]]] = {}
"""case -> key -> (ansible, fleetkit) for differences docs/contracts.md lists."""


def _inventory(tmp: Path) -> Path:
    inv = tmp / "hosts.ini"
    inv.write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    return inv


def _state(out: Path) -> dict[str, tuple[str, str]]:
    return {
        str(p.relative_to(out)): (p.read_text(), oct(p.stat().st_mode & 0o7777))
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def _ansible(case: Path, inv: Path, out: Path, args: list[str]) -> dict[str, int]:
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "0"}
    env["ANSIBLE_LOCAL_TEMP"] = str(out.parent / "ansible-tmp")
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inv), "site.yml", "-e", f"outdir={out}", *args],
        cwd=case,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    lines = proc.stdout.split("PLAY RECAP", 1)[-1].splitlines()
    for line in lines:
        m = RECAP.match(line.strip())
        if m and m.group(1) == "localhost":
            counts = dict(kv.split("=") for kv in m.group(2).split())
            return {k: int(counts.get(k, 0)) for k in KEYS}
    raise AssertionError(f"no recap from ansible-playbook:\n{proc.stdout}\n{proc.stderr}")


def _fleetkit(case: Path, inv: Path, out: Path, args: list[str]) -> dict[str, int]:
    proc = subprocess.run(
        [
            str(BIN / "fleetkit"),
            "run",
            "site.yml",
            "-i",
            str(inv),
            "-e",
            f"outdir={out}",
            "--json",
            *args,
        ],
        cwd=case,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    summary = [e for e in events if e["event"] == "summary"]
    assert summary, f"no summary from fleetkit:\n{proc.stdout}\n{proc.stderr}"
    counts = dict(summary[-1]["hosts"]["localhost"])
    counts["ok"] += counts["changed"]  # Ansible's ok counts changed tasks too
    return {k: int(counts.get(k, 0)) for k in KEYS}


def _case(case: Path, tmp: Path) -> tuple[str, list[str]]:
    work = tmp / case.name
    shutil.copytree(case, work / "src")
    inv = _inventory(work)
    args_file = case / "args"
    args = args_file.read_text().split() if args_file.is_file() else []
    a_out, f_out = work / "ansible", work / "fleetkit"
    a_out.mkdir()
    f_out.mkdir()
    with ThreadPoolExecutor(2) as both:
        a_future = both.submit(_ansible, work / "src", inv, a_out, args)
        f_future = both.submit(_fleetkit, work / "src", inv, f_out, args)
        a_recap, f_recap = a_future.result(), f_future.result()
    problems: list[str] = []
    a_state, f_state = _state(a_out), _state(f_out)
    if a_state != f_state:
        problems.append(f"files differ: ansible {a_state} fleetkit {f_state}")
    for key in KEYS:
        pair = (a_recap[key], f_recap[key])
        if pair[0] != pair[1] and DELIBERATE.get(case.name, {}).get(key) != pair:
            problems.append(f"recap {key}: ansible {pair[0]} fleetkit {pair[1]}")
    if not a_state:
        problems.append("the case wrote nothing (it proves nothing)")
    return case.name, problems


def test_every_case_ends_the_same_under_ansible_playbook_and_fleetkit(tmp_path: Path) -> None:
    if not (BIN / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed (pip install -e '.[test]')")
    cases = sorted(p for p in CASES.iterdir() if (p / "site.yml").is_file())
    assert len(cases) >= 6
    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(lambda c: _case(c, tmp_path), cases))
    bad = {name: problems for name, problems in results if problems}
    assert not bad, json.dumps(bad, indent=1)
