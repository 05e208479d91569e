"""The repository layer: tests/compat/repos/* run unchanged by ansible-playbook and fleetkit.

Each folder of tests/compat/repos/ is an Ansible repository in the shape public ones
have (ansible.cfg naming the inventory, roles_path and become; group_vars/ and
host_vars/ beside the playbook; dotted Galaxy roles; a collection on disk; OS-family
includes). It is copied twice, and in each copy only the inventory's `ansible_host=`
addresses are pointed at a lab host (lab2 for ansible-playbook, lab3 for fleetkit,
with the lab's known_hosts in `ansible_ssh_common_args`); the lab key and user come
from ANSIBLE_PRIVATE_KEY_FILE and ANSIBLE_REMOTE_USER, which beat ansible.cfg for both
tools. Then `ansible-playbook site.yml` and `fleetkit run site.yml` run in their copy,
with no `-i`, twice each. Compared: the recaps (Ansible's ok against fleetkit's ok +
changed), 0 changed in the second runs, and the hosts' state as testinfra reads it:
every file and folder the repository makes or edits (content, mode, owner, symlink
target), its users (passwd line, groups) and groups, its units (enabled, running).
Each repository's checks (tests/compat/repo_checks/NAME.py test_* functions) must pass
on both hosts. Everything is undone afterwards (files removed, edited files restored
from a copy taken before, users and groups deleted). Any difference fails unless
DELIBERATE lists it (and docs/contracts.md "Repositories on lab hosts" says why).
FKREPO_VMS=A,B runs the same on two VMs instead of the lab (docs/repos-on-vms.md);
FKREPO_ONLY=NAME,... runs some repositories only.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra
from tests.compat.harness import (
    BIN,
    Recap,
    ansible_env,
    ansible_recaps,
    fleetkit_recaps,
    recap_differences,
)
from tests.compat.repo_checks.footprint import Footprint

from fleetkit.lab.model import LabState

pytestmark = [pytest.mark.compat, pytest.mark.integration]

REPOS = Path(__file__).parent / "repos"
ANSIBLE_HOST, FLEETKIT_HOST = "lab2", "lab3"
PARALLEL_REPOS = 2
ROOT = "/srv/fkrepo"
SAVE = "/root/.fkrepo-save-"
"""Prefix of each repository's saved copy (REPO.tar: no folder shared by parallel repos)."""
DELIBERATE: dict[str, dict[str, tuple[int, int]]] = {}
"""repo -> recap key -> (ansible, fleetkit) that docs/contracts.md lists as deliberate."""

ADDRESS = re.compile(r"ansible_host(=|:\s*)(\S+)")


@dataclass(frozen=True)
class Targets:
    """Where the two tools run: two identical hosts, the SSH user (passwordless sudo), its
    key and the known_hosts file that knows both hosts."""

    ansible: str
    fleetkit: str
    user: str
    key: Path
    known_hosts: Path


@dataclass(frozen=True)
class Side:
    """One tool's host: its address and testinfra host."""

    tool: str
    address: str
    host: Any


VMS = "FKREPO_VMS"
"""ANSIBLE_ADDRESS,FLEETKIT_ADDRESS: run on these two hosts instead of the lab (with
FKREPO_USER, FKREPO_KEY and FKREPO_KNOWN_HOSTS; docs/repos-on-vms.md)."""


@pytest.fixture(scope="module")
def targets(request: pytest.FixtureRequest) -> Targets:
    vms = os.environ.get(VMS)
    if vms:
        ansible, fleetkit = (a.strip() for a in vms.split(","))
        return Targets(
            ansible,
            fleetkit,
            os.environ.get("FKREPO_USER", "root"),
            Path(os.environ["FKREPO_KEY"]).expanduser(),
            Path(os.environ.get("FKREPO_KNOWN_HOSTS", "~/.ssh/known_hosts")).expanduser(),
        )
    lab: LabState = request.getfixturevalue("lab")
    address = {h.name: h.address for h in lab.hosts}
    return Targets(address[ANSIBLE_HOST], address[FLEETKIT_HOST], "fleet", lab.key, lab.known_hosts)


@pytest.fixture(scope="module")
def sides(targets: Targets) -> Iterator[tuple[Side, Side]]:
    control = Path(tempfile.mkdtemp(prefix="fkr-ssh-"))  # short: ssh control socket paths
    config = control / "ssh_config"
    pairs = (("ansible", targets.ansible), ("fleetkit", targets.fleetkit))
    config.write_text(
        "".join(
            f"Host fkr-{tool}\n  HostName {address}\n  User {targets.user}\n"
            f"  IdentityFile {targets.key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {targets.known_hosts}\n"
            "  StrictHostKeyChecking yes\n  BatchMode yes\n  ControlMaster auto\n"
            f"  ControlPath {control}/%h\n  ControlPersist 30s\n"
            for tool, address in pairs
        )
    )

    def side(tool: str, address: str) -> Side:
        host = testinfra.get_host(f"ssh://fkr-{tool}", ssh_config=str(config), sudo=True)
        return Side(tool, address, host)

    yield side("ansible", targets.ansible), side("fleetkit", targets.fleetkit)
    for tool, _ in pairs:  # testinfra's ControlMasters, before their socket folder goes
        subprocess.run(
            ["ssh", "-F", str(config), "-O", "exit", f"fkr-{tool}"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    shutil.rmtree(control, ignore_errors=True)


def _footprint(repo: Path) -> Footprint:
    module = importlib.import_module(f"tests.compat.repo_checks.{repo.name}")
    footprint = module.FOOTPRINT
    assert isinstance(footprint, Footprint)
    return footprint


def _checks(repo: Path) -> list[Callable[[Any], None]]:
    module = importlib.import_module(f"tests.compat.repo_checks.{repo.name}")
    return [f for n, f in inspect.getmembers(module, inspect.isfunction) if n.startswith("test_")]


def point_at_lab(work: Path, address: str, known_hosts: Path) -> list[Path]:
    """Point every `ansible_host` of the copy's inventory files at address; the files changed.

    The inventory files are the ones ansible.cfg's `inventory` names (a file, or the
    files of a folder), as both tools find them.
    """
    cfg = (work / "ansible.cfg").read_text()
    found = re.search(r"^inventory\s*=\s*(.+)$", cfg, re.MULTILINE)
    assert found, f"{work.name}: ansible.cfg names no inventory"
    ssh_args = f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
    changed = []
    for source in found.group(1).split(","):
        path = work / source.strip()
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "_vars" in file.parts[-2]:
                continue
            text = file.read_text()
            if file.suffix in (".yml", ".yaml"):
                new = _point_yaml(text, address, ssh_args)
            else:
                new = ADDRESS.sub(
                    f"ansible_host={address} ansible_ssh_common_args={shlex.quote(ssh_args)}",
                    text,
                )
            if new != text:
                file.write_text(new)
                changed.append(file)
    assert changed, f"{work.name}: no ansible_host in the inventory to point at the lab"
    return changed


def _point_yaml(text: str, address: str, ssh_args: str) -> str:
    """A YAML inventory with each `ansible_host: X` pointed at address, the ssh args beside."""

    def line(m: re.Match[str]) -> str:
        indent = m.start() - (text.rfind("\n", 0, m.start()) + 1)
        return (
            f"ansible_host: {address}\n"
            + " " * indent
            + f"ansible_ssh_common_args: {json.dumps(ssh_args)}"
        )

    return ADDRESS.sub(line, text)


def _env(work: Path, targets: Targets, cp: Path) -> dict[str, str]:
    return ansible_env(
        work.parent / f"{work.name}-home",
        {
            "ANSIBLE_REMOTE_USER": targets.user,
            "ANSIBLE_PRIVATE_KEY_FILE": str(targets.key),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(cp),
        },
    )


def _run(tool: str, work: Path, env: Mapping[str, str], args: tuple[str, ...]) -> Any:
    argv = (
        [str(BIN / "ansible-playbook"), "site.yml", *args]
        if tool == "ansible"
        else [str(BIN / "fleetkit"), "run", "site.yml", "--json", *args]
    )
    proc = subprocess.run(
        argv, cwd=work, capture_output=True, text=True, env=dict(env), timeout=600, check=False
    )
    recaps = ansible_recaps(proc.stdout) if tool == "ansible" else fleetkit_recaps(proc.stdout)
    return recaps, proc


def _paths(footprint: Footprint) -> str:
    return " ".join(shlex.quote(p) for p in (*footprint.made, *footprint.edited))


def snapshot(host: Any, footprint: Footprint) -> dict[str, Any]:
    """The state the repository leaves on host, as testinfra reads it."""
    listing = host.check_output(
        f"find {_paths(footprint)} -printf '%p|%y|%m|%u|%g|%l\\n' 2>/dev/null; true"
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
    users = {}
    for name in footprint.users:
        line = host.run(f"getent passwd {shlex.quote(name)}").stdout.strip()
        users[name] = {"passwd": line, "groups": sorted(host.user(name).groups) if line else []}
    groups = {
        g: host.run(f"getent group {shlex.quote(g)}").stdout.strip() for g in footprint.groups
    }
    services = {unit: _unit_state(host, unit) for unit in footprint.units}
    crontabs = host.run(
        "for u in " + " ".join(shlex.quote(u) for u in footprint.users) + "; do"
        ' f=/var/spool/cron/crontabs/$u; [ -f $f ] && echo "== $u" && cat $f; done; true'
    ).stdout
    return {
        "files": files,
        "users": users,
        "groups": groups,
        "services": services,
        "crontabs": crontabs,
    }


def _unit_state(host: Any, unit: str) -> dict[str, Any] | str:
    service = host.service(unit)
    try:
        return {"enabled": service.is_enabled, "running": service.is_running}
    except RuntimeError as e:  # testinfra: "Does this service exist?"
        return f"unknown: {e}"


def _state_differences(ansible: dict[str, Any], fleetkit: dict[str, Any]) -> list[str]:
    """One line per state item (a file, a user, a unit...) that differs between the hosts."""
    problems = []
    for part, a in ansible.items():
        f = fleetkit[part]
        if isinstance(a, dict):
            for key in sorted(set(a) | set(f)):
                if a.get(key) != f.get(key):
                    problems.append(f"state {part} {key}: {_difference(a.get(key), f.get(key))}")
        elif a != f:
            problems.append(f"state {part}: {_difference(a, f)}")
    return problems


def _difference(a: Any, f: Any) -> str:
    """How one item differs: the other keys as JSON, a file's content as a diff."""
    if isinstance(a, dict) and isinstance(f, dict) and "content" in a and "content" in f:
        rest_a = {k: v for k, v in a.items() if k != "content"}
        rest_f = {k: v for k, v in f.items() if k != "content"}
        diff = "".join(
            difflib.unified_diff(
                a["content"].splitlines(keepends=True),
                f["content"].splitlines(keepends=True),
                "ansible",
                "fleetkit",
            )
        )
        return f"ansible {json.dumps(rest_a)} fleetkit {json.dumps(rest_f)}\n{diff}"
    return f"ansible {_short(a)} fleetkit {_short(f)}"


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 300 else f"{text[:300]}..."


def _save(host: Any, repo: str, footprint: Footprint) -> None:
    """Copy the files the repository edits in place (restored by _undo)."""
    if not footprint.edited:
        return
    edited = " ".join(shlex.quote(p.lstrip("/")) for p in footprint.edited)
    result = host.run(f"tar -cpf {SAVE}{repo}.tar -C / {edited}")
    assert result.rc == 0, result.stderr


def _undo(host: Any, repo: str, footprint: Footprint) -> None:
    """Remove what the repository made, restore what it edited, delete its users and groups."""
    made = " ".join(shlex.quote(p) for p in footprint.made)
    units = " ".join(shlex.quote(u) for u in footprint.units)
    script = f"""
        {footprint.undo}
        for unit in {units}; do
            [ -f /etc/systemd/system/$unit ] || continue
            systemctl stop "$unit"; systemctl disable "$unit"
        done
        for u in {" ".join(shlex.quote(u) for u in footprint.users)}; do
            getent passwd "$u" >/dev/null && userdel "$u"
            rm -f /var/spool/cron/crontabs/"$u" /var/mail/"$u"
        done
        for g in {" ".join(shlex.quote(g) for g in footprint.groups)}; do
            getent group "$g" >/dev/null && groupdel "$g"
        done
        rm -rf {made}
        saved={SAVE}{repo}.tar
        if [ -f $saved ]; then tar -xpf $saved -C / && rm $saved; fi
        true
    """
    result = host.run(script)
    assert result.rc == 0, result.stderr


def _checks_on(repo: Path, side: Side) -> list[str]:
    problems = []
    for check in _checks(repo):
        try:
            check(side.host)
        except Exception as e:  # a testinfra error (a missing file's content) is a failure too
            problems.append(f"check {check.__name__} on {side.tool} ({side.address}): {e!r}")
    return problems


ANSIBLE_TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:[^\]]* : )?(.*?)\] \**$")
ANSIBLE_STATUS = re.compile(r"^(ok|changed|skipping|failed|fatal): \[")


def _task_differences(a_proc: Any, f_proc: Any) -> list[str]:
    """Which tasks ended otherwise under each tool (a loop: changed if any item changed),
    to say where a recap difference comes from."""
    ansible: dict[str, str] = {}
    task = ""
    for line in a_proc.stdout.splitlines():
        if m := ANSIBLE_TASK.match(line):
            task = m.group(1)
        elif (s := ANSIBLE_STATUS.match(line)) and task:
            status = {"skipping": "skipped", "fatal": "failed"}.get(s.group(1), s.group(1))
            if ansible.get(task) != "changed":
                ansible[task] = status
    fleetkit: dict[str, str] = {}
    for line in f_proc.stdout.splitlines():
        if line.startswith("{") and '"host_result"' in line:
            event = json.loads(line)
            fleetkit[str(event["task"])] = str(event["status"])
    return [
        f"task {name!r}: ansible {ansible.get(name)} fleetkit {fleetkit.get(name)}"
        for name in dict.fromkeys([*ansible, *fleetkit])
        if ansible.get(name) != fleetkit.get(name)
        and name not in ("Gathering Facts", "gather facts")
    ]


def _changed_again(recaps: Mapping[str, Recap], tool: str) -> list[str]:
    return [
        f"run 2: {tool} {host} changed={r['changed']} (not idempotent)"
        for host, r in recaps.items()
        if r["changed"]
    ]


def _both_runs(repo: Path, tmp: Path, targets: Targets, sides: tuple[Side, Side]) -> list[str]:
    footprint = _footprint(repo)
    cp = Path(tempfile.mkdtemp(prefix="fkr-cp-"))
    works, envs = {}, {}
    for side in sides:
        work = tmp / side.tool / repo.name
        shutil.copytree(repo, work)
        point_at_lab(work, side.address, targets.known_hosts)
        works[side.tool], envs[side.tool] = work, _env(work, targets, cp)
    problems: list[str] = []
    try:
        for run in (1, 2):
            with ThreadPoolExecutor(2) as pool:
                futures = {
                    s.tool: pool.submit(_run, s.tool, works[s.tool], envs[s.tool], footprint.args)
                    for s in sides
                }
                (a_recap, a_proc), (f_recap, f_proc) = (futures[s.tool].result() for s in sides)
            for tool, recap, proc in (("ansible", a_recap, a_proc), ("fleetkit", f_recap, f_proc)):
                if proc.returncode != 0 or not recap:
                    problems.append(
                        f"run {run}: {tool} exit {proc.returncode}:\n"
                        f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
                    )
            deliberate = DELIBERATE.get(repo.name)
            differ = recap_differences(a_recap, f_recap, deliberate)
            problems += [f"run {run}: {p}" for p in differ]
            if differ:
                problems += [f"run {run}: {p}" for p in _task_differences(a_proc, f_proc)]
            if run == 2:
                problems += _changed_again(a_recap, "ansible") + _changed_again(f_recap, "fleetkit")
            print(f"{repo.name} run {run}: ansible {a_recap} fleetkit {f_recap}")
    finally:
        shutil.rmtree(cp, ignore_errors=True)
    return problems


def _repo(
    repo: Path, tmp: Path, targets: Targets, sides: tuple[Side, Side]
) -> tuple[str, list[str], float]:
    started = time.monotonic()
    footprint = _footprint(repo)
    for side in sides:
        _undo(side.host, repo.name, footprint)
        _save(side.host, repo.name, footprint)
        if footprint.prepare:
            result = side.host.run(footprint.prepare)
            assert result.rc == 0, f"{repo.name} prepare on {side.address}: {result.stderr}"
    problems: list[str] = []
    try:
        before = _state_differences(*(snapshot(side.host, footprint) for side in sides))
        if before:  # the comparison needs identical hosts (a run left something behind?)
            return repo.name, [f"before the runs: {p}" for p in before], 0.0
        problems += _both_runs(repo, tmp, targets, sides)
        a_state, f_state = (snapshot(side.host, footprint) for side in sides)
        problems += _state_differences(a_state, f_state)
        if not a_state["files"]:
            problems.append("the repository left nothing on the host (it proves nothing)")
        for side in sides:
            problems += _checks_on(repo, side)
    finally:
        for side in sides:
            _undo(side.host, repo.name, footprint)
    return repo.name, problems, time.monotonic() - started


def test_repositories_end_the_same_under_ansible_playbook_and_fleetkit(
    targets: Targets, sides: tuple[Side, Side], tmp_path: Path
) -> None:
    if not (BIN / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed (pip install -e '.[ansible]')")
    repos = sorted(p for p in REPOS.iterdir() if (p / "ansible.cfg").is_file())
    only = os.environ.get("FKREPO_ONLY")  # a comma-separated subset, when debugging one
    if only:
        repos = [r for r in repos if r.name in only.split(",")]
    else:
        assert len(repos) >= 4
    started = time.monotonic()
    for side in sides:  # the repositories' common parent, made here: whichever repository
        # made it first would give it its mode and group (Ansible's parents take them)
        assert side.host.run(f"install -d -m 0755 -o root -g root {ROOT}").rc == 0
    try:
        with ThreadPoolExecutor(PARALLEL_REPOS) as pool:
            results = list(pool.map(lambda r: _repo(r, tmp_path, targets, sides), repos))
    finally:
        for side in sides:
            side.host.run(f"rmdir {ROOT}")
    for name, problems, took in results:
        print(f"{name}: {'same' if not problems else 'DIFFERENT'} ({took:.1f}s)")
    print(f"compat repos: {len(repos)} repositories in {time.monotonic() - started:.1f}s")
    bad = {name: problems for name, problems, _ in results if problems}
    assert not bad, "\n".join(f"== {n}\n" + "\n".join(p) for n, p in bad.items())


def test_after_undo_nothing_of_the_repositories_is_left(sides: tuple[Side, Side]) -> None:
    footprints = [_footprint(r) for r in sorted(REPOS.iterdir()) if (r / "ansible.cfg").is_file()]
    made = " ".join(shlex.quote(p) for f in footprints for p in f.made)
    for side in sides:
        leftover = side.host.run(
            f"ls -d {made} /srv/fkrepo {SAVE}* 2>/dev/null;"
            " getent passwd | grep '^fkr'; getent group | grep '^fkr'; true"
        ).stdout
        assert leftover == "", f"{side.tool} ({side.address}) still has:\n{leftover}"
