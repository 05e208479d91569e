"""The tests/compat/lab_cases/* playbooks under ansible-playbook (on lab2) and fleetkit (on lab3).

Each case runs twice with each tool, the two tools side by side on their own
lab host (both inventories name the host node1, and node2 is a second
inventory name for the same lab host, for delegation). Compared: the recaps of
both runs per host (Ansible's ok against fleetkit's ok + changed), 0 changed
in the second runs, and the hosts' resulting state as testinfra reads it
(files under /srv/fkcompat/CASE, /etc/cron.d/fkcompat_CASE and unit files
fkc_CASE_* with content, mode and owner; users and groups fkc_CASE_*; the
units' enabled/running state; the case's sysctl keys). Each case's verify.py
(testinfra tests) must pass on both hosts, and again on the fleetkit side as
`fleetkit verify verify.py -i <fleetkit inventory> --become --json` (exit 0, every
test ok on node1 and node2). Any difference fails unless
DELIBERATE lists it (and docs/contracts.md "Compat results on lab hosts" says
why). Everything a case makes is removed from both hosts afterwards, and its
sysctl values restored. Cases run in parallel; the total time is printed.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml
from tests.compat.harness import (
    BIN,
    Recap,
    ansible_env,
    recap_differences,
    run_ansible,
    run_fleetkit,
)

from fleetkit.lab.model import LabState

pytestmark = [pytest.mark.compat, pytest.mark.integration]

CASES = Path(__file__).parent / "lab_cases"
ANSIBLE_HOST, FLEETKIT_HOST = "lab2", "lab3"
PARALLEL_CASES = 4
DELIBERATE: dict[str, dict[str, tuple[int, int]]] = {}

OPEN: dict[str, str] = {}
"""Cases known to differ, not deliberate: reported, and the test fails once one matches
(so it leaves this list as soon as it is fixed)."""
"""case -> recap key -> (ansible, fleetkit) that docs/contracts.md lists as deliberate."""


@dataclass(frozen=True)
class Side:
    """One tool's lab host: its testinfra host and its inventory."""

    tool: str
    lab_host: str
    host: Any
    inventory: Path


def _inventories(lab: LabState, tmp: Path) -> tuple[Path, Path]:
    address = {h.name: h.address for h in lab.hosts}
    shape = {"targets": {"hosts": {"node1": None}}, "helpers": {"hosts": {"node2": None}}}
    common = {"prec_inventory": "from-inventory"}
    ansible = {
        "all": {
            "hosts": {n: {"ansible_host": address[ANSIBLE_HOST]} for n in ("node1", "node2")},
            "vars": {
                **common,
                "ansible_user": "fleet",
                "ansible_ssh_private_key_file": str(lab.key),
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={lab.known_hosts}"
                " -o StrictHostKeyChecking=yes",
                "ansible_python_interpreter": "/usr/bin/python3",
            },
            "children": shape,
        }
    }
    fk_host = address[FLEETKIT_HOST]
    fleetkit: dict[str, Any] = {
        "all": {
            "hosts": {n: {"ansible_host": fk_host} for n in ("node1", "node2")},
            "vars": {
                **common,
                "ansible_user": "fleet",
                "ansible_ssh_private_key_file": str(lab.key),
                "fleetkit_known_hosts": str(lab.known_hosts),
                "fleetkit_host_key_policy": "verify",
            },
            "children": shape,
        }
    }
    a, f = tmp / "ansible.yml", tmp / "fleetkit.yml"
    a.write_text(yaml.safe_dump(ansible, sort_keys=False))
    f.write_text(yaml.safe_dump(fleetkit, sort_keys=False))
    return a, f


@pytest.fixture(scope="module")
def sides(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    tmp = tmp_path_factory.mktemp("compat-lab")
    control = Path(tempfile.mkdtemp(prefix="fkc-ssh-"))  # short: ssh control socket paths
    config = tmp / "ssh_config"
    config.write_text(
        "".join(
            f"Host {h.name}\n  HostName {h.address}\n  User fleet\n  IdentityFile {lab.key}\n"
            f"  IdentitiesOnly yes\n  UserKnownHostsFile {lab.known_hosts}\n"
            "  StrictHostKeyChecking yes\n  BatchMode yes\n  ControlMaster auto\n"
            f"  ControlPath {control}/%h\n  ControlPersist 30s\n"
            for h in lab.hosts
        )
    )
    a_inv, f_inv = _inventories(lab, tmp)

    def host(name: str) -> Any:
        return testinfra.get_host(f"ssh://{name}", ssh_config=str(config), sudo=True)

    yield (
        Side("ansible", ANSIBLE_HOST, host(ANSIBLE_HOST), a_inv),
        Side("fleetkit", FLEETKIT_HOST, host(FLEETKIT_HOST), f_inv),
    )
    shutil.rmtree(control, ignore_errors=True)


def _sysctl_keys(case: Path) -> list[str]:
    listed = case / "sysctl"
    return listed.read_text().split() if listed.is_file() else []


def _cleanup(host: Any, name: str) -> None:
    """Remove what case name may have made on host (files, cron, units, users, groups)."""
    prefix = f"fkc_{name}_"
    script = f"""
        rm -rf /srv/fkcompat/{name} /etc/cron.d/fkcompat_{name}
        for u in $(getent passwd | cut -d: -f1 | grep '^{prefix}'); do userdel "$u"; done
        for g in $(getent group | cut -d: -f1 | grep '^{prefix}'); do groupdel "$g"; done
        for unit in $(cd /etc/systemd/system && ls {prefix}*.service 2>/dev/null); do
            systemctl stop "$unit"; systemctl disable "$unit"
        done
        find /etc/systemd/system -name '{prefix}*' -exec rm -f {{}} +
        rmdir /srv/fkcompat 2>/dev/null
        true
    """
    result = host.run(script)
    assert result.rc == 0, result.stderr


def snapshot(host: Any, name: str, sysctl_keys: list[str]) -> dict[str, Any]:
    """The state case name leaves on host, as testinfra reads it."""
    prefix = f"fkc_{name}_"
    listing = host.check_output(
        f"find /srv/fkcompat/{name} /etc/cron.d/fkcompat_{name} /etc/systemd/system"
        f" \\( -path '/etc/systemd/system/*' -a ! -name '{prefix}*' \\) -prune -o"
        " ! -path /etc/systemd/system -printf '%p|%y|%m|%u|%g|%l\\n' 2>/dev/null; true"
    )
    files: dict[str, Any] = {}
    for line in sorted(listing.splitlines()):
        path, kind, mode, user, group, target = line.split("|")
        entry: dict[str, Any] = {"type": kind, "mode": mode, "owner": f"{user}:{group}"}
        if kind == "f":
            entry["content"] = host.file(path).content_string
        elif kind == "l":
            entry["target"] = target
        files[path] = entry
    passwd = host.check_output(f"getent passwd | grep '^{prefix}' || true").splitlines()
    users = {
        line.split(":")[0]: {"passwd": line, "groups": sorted(host.user(line.split(":")[0]).groups)}
        for line in sorted(passwd)
    }
    groups = sorted(host.check_output(f"getent group | grep '^{prefix}' || true").splitlines())
    units = sorted(p.rsplit("/", 1)[-1] for p in files if p.endswith(".service"))
    services = {
        unit: {
            "enabled": host.service(unit).is_enabled,
            "running": host.service(unit).is_running,
        }
        for unit in units
    }
    sysctl = {key: host.sysctl(key) for key in sysctl_keys}
    return {
        "files": files,
        "users": users,
        "groups": groups,
        "services": services,
        "sysctl": sysctl,
    }


def _state_differences(ansible: dict[str, Any], fleetkit: dict[str, Any]) -> list[str]:
    """One line per state item (a file, a user, a unit...) that differs between the hosts."""
    problems = []
    for part, a in ansible.items():
        f = fleetkit[part]
        if isinstance(a, dict):
            for key in sorted(set(a) | set(f)):
                if a.get(key) != f.get(key):
                    problems.append(
                        f"state {part} {key}: ansible {json.dumps(a.get(key))}"
                        f" fleetkit {json.dumps(f.get(key))}"
                    )
        elif a != f:
            problems.append(f"state {part}: ansible {json.dumps(a)} fleetkit {json.dumps(f)}")
    return problems


def _verify_tests(case: Path) -> list[Callable[[Any], None]]:
    spec = importlib.util.spec_from_file_location(
        f"fkcompat_verify_{case.name}", case / "verify.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [f for n, f in inspect.getmembers(module, inspect.isfunction) if n.startswith("test_")]


def _verify(case: Path, side: Side) -> list[str]:
    problems = []
    for test in _verify_tests(case):
        try:
            test(side.host)
        except Exception as e:  # a testinfra error (a missing file's content) is a failure too
            problems.append(f"verify {test.__name__} on {side.tool} ({side.lab_host}): {e!r}")
    return problems


def _fleetkit_verify(case: Path, work: Path, side: Side) -> list[str]:
    """`fleetkit verify verify.py` on the fleetkit side's inventory: every test ok per host."""
    argv = ["verify", "verify.py", "-i", str(side.inventory), "--become", "--json"]
    proc = subprocess.run(
        [str(BIN / "fleetkit"), *argv],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    results: dict[str, dict[str, str]] = {}
    for e in events:
        if e.get("event") == "host_result":
            results.setdefault(str(e["host"]), {})[str(e["task"])] = str(e["status"])
    tests = {f"verify.py::{t.__name__}" for t in _verify_tests(case)}
    problems = []
    if proc.returncode != 0:
        problems.append(f"fleetkit verify exit {proc.returncode}:\n{proc.stdout[-3000:]}")
    for inv_host in ("node1", "node2"):
        got = results.get(inv_host, {})
        if set(got) != tests or set(got.values()) != {"ok"}:
            problems.append(f"fleetkit verify on {inv_host}: {got} (expected ok for {tests})")
    return problems


def _both_runs(case: Path, work: Path, ansible: Side, fleetkit: Side) -> list[str]:
    args_file = case / "args"
    args = args_file.read_text().split() if args_file.is_file() else []
    cp = Path(tempfile.mkdtemp(prefix="fkc-cp-"))
    env = ansible_env(
        work,
        {
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=20s",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(cp),
        },
    )
    problems: list[str] = []
    try:
        for run in (1, 2):
            with ThreadPoolExecutor(2) as pool:
                a_f = pool.submit(run_ansible, work, ansible.inventory, args, env)
                f_f = pool.submit(run_fleetkit, work, fleetkit.inventory, args)
                (a_recap, a_proc), (f_recap, f_proc) = a_f.result(), f_f.result()
            for tool, recap, proc in (("ansible", a_recap, a_proc), ("fleetkit", f_recap, f_proc)):
                if proc.returncode != 0 or not recap:
                    problems.append(
                        f"run {run}: {tool} exit {proc.returncode}:\n"
                        f"{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
                    )
            deliberate = DELIBERATE.get(case.name)
            problems += [f"run {run}: {p}" for p in recap_differences(a_recap, f_recap, deliberate)]
            if run == 2:
                problems += _changed_again(a_recap, "ansible") + _changed_again(f_recap, "fleetkit")
            if run == 1:
                print(f"{case.name}: ansible {json.dumps(a_recap)} fleetkit {json.dumps(f_recap)}")
    finally:
        shutil.rmtree(cp, ignore_errors=True)
    return problems


def _changed_again(recaps: dict[str, Recap], tool: str) -> list[str]:
    return [
        f"run 2: {tool} {host} changed={r['changed']} (not idempotent)"
        for host, r in recaps.items()
        if r["changed"]
    ]


def _case(case: Path, tmp: Path, sides: tuple[Side, Side]) -> tuple[str, list[str], float]:
    started = time.monotonic()
    ansible, fleetkit = sides
    work = tmp / case.name
    shutil.copytree(case, work)
    keys = _sysctl_keys(case)
    saved = {side.tool: {k: side.host.sysctl(k) for k in keys} for side in sides}
    for side in sides:
        _cleanup(side.host, case.name)
    problems: list[str] = []
    marks = [("start", started), ("setup", time.monotonic())]
    try:
        problems += _both_runs(case, work, ansible, fleetkit)
        marks.append(("runs", time.monotonic()))
        a_state = snapshot(ansible.host, case.name, keys)
        f_state = snapshot(fleetkit.host, case.name, keys)
        problems += _state_differences(a_state, f_state)
        if not a_state["files"]:
            problems.append("the case left nothing on the host (it proves nothing)")
        marks.append(("snapshot", time.monotonic()))
        for side in sides:
            problems += _verify(case, side)
        marks.append(("verify", time.monotonic()))
        problems += _fleetkit_verify(case, work, fleetkit)
        marks.append(("fleetkit verify", time.monotonic()))
    finally:
        for side in sides:
            _cleanup(side.host, case.name)
            for key, value in saved[side.tool].items():
                side.host.run(f"sysctl -qw {key}={value}")
    marks.append(("cleanup", time.monotonic()))
    phases = " ".join(f"{n} {t - p:.1f}s" for (_, p), (n, t) in itertools.pairwise(marks))
    print(f"{case.name}: {phases}")
    return case.name, problems, time.monotonic() - started


def test_lab_cases_end_the_same_under_ansible_playbook_and_fleetkit(
    sides: tuple[Side, Side], tmp_path: Path
) -> None:
    if not (BIN / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed (pip install -e '.[test]')")
    cases = sorted(p for p in CASES.iterdir() if (p / "site.yml").is_file())
    assert len(cases) >= 10
    only = os.environ.get("FKCOMPAT_CASES")  # a comma-separated subset, when debugging one
    if only:
        cases = [c for c in cases if c.name in only.split(",")]
    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL_CASES) as pool:
        results = list(pool.map(lambda c: _case(c, tmp_path, sides), cases))
    total = time.monotonic() - started
    for name, problems, took in results:
        print(f"{name}: {'same' if not problems else 'DIFFERENT'} ({took:.1f}s)")
    print(f"compat lab: {len(cases)} cases in {total:.1f}s")
    for name, _problems, _ in results:
        if name in OPEN:
            print(f"{name}: known open difference: {OPEN[name]}")
    bad = {name: problems for name, problems, _ in results if problems and name not in OPEN}
    assert not bad, "\n".join(f"== {n}\n" + "\n".join(p) for n, p in bad.items())
    fixed = sorted(name for name, problems, _ in results if name in OPEN and not problems)
    assert not fixed, f"now the same under both tools: remove from OPEN: {fixed}"


def test_after_cleanup_nothing_of_the_cases_is_left(sides: tuple[Side, Side]) -> None:
    for side in sides:
        leftover = side.host.run(
            "ls -d /srv/fkcompat /etc/cron.d/fkcompat_* /etc/systemd/system/fkc_* 2>/dev/null;"
            " getent passwd | grep '^fkc_'; getent group | grep '^fkc_'; true"
        ).stdout
        assert leftover == "", f"{side.tool} ({side.lab_host}) still has:\n{leftover}"
