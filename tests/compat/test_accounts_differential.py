"""user, group, systemd and service on this machine (no running init) against ansible-playbook
2.19: what they make (homes, keys, shadow entries, enablement symlinks, rc.d links).

Each tests/compat/accounts/* case runs under ansible-playbook and under fleetkit on a
local connection, each tool in a private mount namespace of its own over copies of
/etc, /home, /var/mail, /var/log and /var/spool (tests/compat/accounts_sandbox.sh), so
the accounts and units they make never reach this machine. A case writes what it observed
(registered values, getent/shadow lines, home folders) under -e outdir=...; the files
(content and mode) and the per-host recaps must be the same. This machine's
/etc/passwd and /etc/group must be unchanged afterwards. Needs root and unshare(1).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.compat.harness import (
    BIN,
    ansible_env,
    ansible_recaps,
    fleetkit_recaps,
    inventory,
    recap_differences,
    state,
)

pytestmark = pytest.mark.compat

CASES = Path(__file__).parent / "accounts"
SANDBOX = Path(__file__).parent / "accounts_sandbox.sh"
TIMEOUT_S = 300


def _need_root_namespaces() -> None:
    if not (BIN / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed (pip install -e '.[test]')")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.fail("the accounts differential needs root and unshare(1) (a mount namespace)")


def _sandboxed(root: Path, argv: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", str(SANDBOX), str(root), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
    )
    return proc.stdout + "\n" + proc.stderr[-2000:]


def compare(case: Path, tmp: Path) -> list[str]:
    work = tmp / case.name
    shutil.copytree(case, work / "src")
    inv = inventory(work)
    a_out, f_out = work / "ansible", work / "fleetkit"
    a_out.mkdir()
    f_out.mkdir()
    env = ansible_env(work)
    a_argv = [str(BIN / "ansible-playbook"), "-i", str(inv), "site.yml", "-e", f"outdir={a_out}"]
    f_argv = [str(BIN / "fleetkit"), "run", "site.yml", "-i", str(inv), "--json"]
    f_argv += ["-e", f"outdir={f_out}"]
    with ThreadPoolExecutor(2) as both:
        a = both.submit(_sandboxed, work / "root-ansible", a_argv, work / "src", env)
        f = both.submit(_sandboxed, work / "root-fleetkit", f_argv, work / "src", dict(os.environ))
        a_text, f_text = a.result(), f.result()
    problems: list[str] = []
    a_state, f_state = state(a_out), state(f_out)
    for name in sorted(set(a_state) | set(f_state)):
        pair = (a_state.get(name), f_state.get(name))
        if pair[0] != pair[1]:
            problems.append(f"{name}: ansible {pair[0]!r} fleetkit {pair[1]!r}")
    problems += recap_differences(ansible_recaps(a_text), fleetkit_recaps(f_text))
    if not a_state:
        problems.append(f"the case wrote nothing under ansible-playbook: {a_text[-1500:]}")
    if problems and os.environ.get("FLEETKIT_COMPAT_VERBOSE"):
        problems += [f"ansible: {a_text[-1500:]}", f"fleetkit: {f_text[-1500:]}"]
    return problems


def test_accounts_mean_the_same_under_ansible_playbook_and_fleetkit(tmp_path: Path) -> None:
    _need_root_namespaces()
    before = {p: Path(p).read_bytes() for p in ("/etc/passwd", "/etc/group", "/etc/shadow")}
    cases = sorted(p for p in CASES.iterdir() if (p / "site.yml").is_file())
    assert len(cases) >= 3
    bad = {case.name: problems for case in cases if (problems := compare(case, tmp_path))}
    after = {p: Path(p).read_bytes() for p in before}
    assert after == before, "this machine's account files changed"
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)
