"""Run one case directory with ansible-playbook and with fleetkit on local hosts; compare.

Both write what they observed under their own -e outdir=...; the written files
(content and mode) and the recaps (ok/changed/failed/skipped/rescued/ignored per
host) must be the same, unless docs/contracts.md lists the difference as
deliberate. Ansible counts a changed task in ok too: its ok is compared with
fleetkit's ok + changed. A case's `args` file holds extra command-line arguments.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BIN = Path(sys.executable).parent
RECAP = re.compile(r"^(\S+)\s+:\s+(.*)$")
KEYS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
Recaps = dict[str, dict[str, int]]
Deliberate = Mapping[str, Mapping[str, tuple[int, int]]]
"""case -> key -> (ansible, fleetkit) for differences docs/contracts.md lists."""


def inventory(tmp: Path, hosts: Sequence[str] = ("localhost",)) -> Path:
    """An INI inventory of hosts that all run locally.

    A case copied to tmp/src may hold an `inventory_side/` folder for the inventory's
    own files (the playbook's are beside site.yml): its `hosts.ini` is appended to the
    generated one (groups, `[g:vars]`), its group_vars/ and host_vars/ are copied
    beside the inventory.
    """
    inv = tmp / "hosts.ini"
    side = tmp / "src" / "inventory_side"
    more = side / "hosts.ini"
    inv.write_text(
        "".join(
            f"{h} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
            for h in hosts
        )
        + (more.read_text() if more.is_file() else "")
    )
    for name in ("group_vars", "host_vars"):
        if (side / name).is_dir():
            shutil.copytree(side / name, tmp / name)
    return inv


def state(out: Path) -> dict[str, tuple[str, str]]:
    """Every file under out: its content (bytes as they are: line ends kept, other
    encodings escaped) and mode."""
    return {
        str(p.relative_to(out)): (
            p.read_bytes().decode("utf-8", "backslashreplace"),
            oct(p.stat().st_mode & 0o7777),
        )
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def ansible_playbook(
    case: Path, inv: Path, args: Sequence[str], tmp: Path
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "0"}
    env["ANSIBLE_LOCAL_TEMP"] = str(tmp / "ansible-tmp")
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inv), "site.yml", *args],
        cwd=case,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def fleetkit_run(case: Path, inv: Path, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fleetkit"), "run", "site.yml", "-i", str(inv), *args],
        cwd=case,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _ansible(case: Path, inv: Path, out: Path, args: list[str]) -> Recaps:
    proc = ansible_playbook(case, inv, ["-e", f"outdir={out}", *args], out.parent)
    recaps: Recaps = {}
    for line in proc.stdout.split("PLAY RECAP", 1)[-1].splitlines():
        m = RECAP.match(line.strip())
        if m:
            counts = dict(kv.split("=") for kv in m.group(2).split())
            recaps[m.group(1)] = {k: int(counts.get(k, 0)) for k in KEYS}
    if not recaps:
        raise AssertionError(f"no recap from ansible-playbook:\n{proc.stdout}\n{proc.stderr}")
    return recaps


def _fleetkit(case: Path, inv: Path, out: Path, args: list[str]) -> Recaps:
    proc = fleetkit_run(case, inv, ["-e", f"outdir={out}", "--json", *args])
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    summary = [e for e in events if e["event"] == "summary"]
    assert summary, f"no summary from fleetkit:\n{proc.stdout}\n{proc.stderr}"
    recaps: Recaps = {}
    for host, raw in summary[-1]["hosts"].items():
        counts = dict(raw)
        counts["ok"] += counts["changed"]  # Ansible's ok counts changed tasks too
        recaps[host] = {k: int(counts.get(k, 0)) for k in KEYS}
    return recaps


def compare_case(
    case: Path,
    tmp: Path,
    *,
    hosts: Sequence[str] = ("localhost",),
    deliberate: Deliberate | None = None,
) -> tuple[str, list[str]]:
    """Run case under both tools; (its name, the differences found)."""
    work = tmp / case.name
    shutil.copytree(case, work / "src")
    inv = inventory(work, hosts)
    args_file = case / "args"
    args = args_file.read_text().split() if args_file.is_file() else []
    a_out, f_out = work / "ansible", work / "fleetkit"
    a_out.mkdir()
    f_out.mkdir()
    with ThreadPoolExecutor(2) as both:
        a_future = both.submit(_ansible, work / "src", inv, a_out, args)
        f_future = both.submit(_fleetkit, work / "src", inv, f_out, args)
        a_recaps, f_recaps = a_future.result(), f_future.result()
    problems: list[str] = []
    a_state, f_state = state(a_out), state(f_out)
    if a_state != f_state:
        problems.append(f"files differ: ansible {a_state} fleetkit {f_state}")
    allowed = (deliberate or {}).get(case.name, {})
    for host in sorted(set(a_recaps) | set(f_recaps)):
        a_recap = a_recaps.get(host, dict.fromkeys(KEYS, 0))
        f_recap = f_recaps.get(host, dict.fromkeys(KEYS, 0))
        for key in KEYS:
            pair = (a_recap[key], f_recap[key])
            if pair[0] != pair[1] and allowed.get(key) != pair:
                problems.append(f"{host} recap {key}: ansible {pair[0]} fleetkit {pair[1]}")
    if not a_state:
        problems.append("the case wrote nothing (it proves nothing)")
    return case.name, problems


# Lab differentials (tests/compat/test_roles_lab.py): each tool on its own lab host, recaps
# read from ansible-playbook's and fleetkit's output without asserting, so a case can report
# every difference it finds.

Recap = dict[str, int]


def ansible_recaps(stdout: str) -> dict[str, Recap]:
    """Per-host counts from ansible-playbook's PLAY RECAP (empty when it printed none)."""
    if "PLAY RECAP" not in stdout:
        return {}
    recaps: dict[str, Recap] = {}
    for line in stdout.split("PLAY RECAP", 1)[1].splitlines():
        m = RECAP.match(line.strip())
        if m:
            counts = dict(kv.split("=", 1) for kv in m.group(2).split())
            recaps[m.group(1)] = {k: int(counts.get(k, 0)) for k in KEYS}
    return recaps


def fleetkit_recaps(stdout: str) -> dict[str, Recap]:
    """Per-host counts from `fleetkit run --json`'s summary, ok counting changed as Ansible does."""
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    summaries = [e for e in events if e.get("event") == "summary"]
    if not summaries:
        return {}
    recaps: dict[str, Recap] = {}
    for host, raw in summaries[-1]["hosts"].items():
        counts = {k: int(raw.get(k, 0)) for k in KEYS}
        counts["ok"] += counts["changed"]
        recaps[host] = counts
    return recaps


def ansible_env(tmp: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a quiet, reproducible ansible-playbook with its temp files under tmp."""
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-local"),
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
    }
    env.update(extra or {})
    return env


def run_ansible(
    playbook_dir: Path,
    inv: Path,
    args: Sequence[str],
    env: Mapping[str, str],
    timeout: float = 180,
) -> tuple[dict[str, Recap], subprocess.CompletedProcess[str]]:
    """ansible-playbook site.yml in playbook_dir; its recaps and the finished process."""
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inv), "site.yml", *args],
        cwd=playbook_dir,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=timeout,
        check=False,
    )
    return ansible_recaps(proc.stdout), proc


def run_fleetkit(
    playbook_dir: Path,
    inv: Path,
    args: Sequence[str],
) -> tuple[dict[str, Recap], subprocess.CompletedProcess[str]]:
    """`fleetkit run site.yml --json` in playbook_dir; its recaps and the finished process."""
    proc = fleetkit_run(playbook_dir, inv, ["--json", *args])
    return fleetkit_recaps(proc.stdout), proc


def recap_differences(
    ansible: Mapping[str, Recap],
    fleetkit: Mapping[str, Recap],
    deliberate: Mapping[str, tuple[int, int]] | None = None,
) -> list[str]:
    """What differs between two tools' per-host recaps, less the deliberate (key -> pair)."""
    problems: list[str] = []
    if set(ansible) != set(fleetkit):
        problems.append(f"recap hosts: ansible {sorted(ansible)} fleetkit {sorted(fleetkit)}")
    for host in sorted(set(ansible) & set(fleetkit)):
        for key in KEYS:
            pair = (ansible[host][key], fleetkit[host][key])
            if pair[0] != pair[1] and (deliberate or {}).get(key) != pair:
                problems.append(f"{host} recap {key}: ansible {pair[0]} fleetkit {pair[1]}")
    return problems
