"""The Ansible module fallback on lab hosts, against ansible-playbook.

ansible_fallback/site.yml (nine modules fleetkit has no native version of, from
ansible.builtin, ansible.posix and community.general) runs with ansible-playbook
on lab2 and with fleetkit on lab3, each under its own folder. Compared: every
registered value key by key, the files left (content, mode, owner, read with
testinfra), and second runs (only patch, whose file a copy resets, changes
again). Two differences are expected and excepted by name: filesize's dd timing line, and the
`ansible_facts.discovered_interpreter_python` that each tool reports on the first
task that discovered the interpreter (a native one under fleetkit). Also: check
mode with --diff, a module failing on the host, a host without the configured
Python, and a no_log secret absent from output, logs and the host's `ps`.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

from fleetkit.lab.model import LabState

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent / "ansible_fallback"
BIN = Path(os.environ.get("VIRTUAL_ENV", Path(__file__).parents[2] / ".venv")) / "bin"
ANSIBLE_HOST, FLEETKIT_HOST = "lab2", "lab3"


def _inventory(lab: LabState, tmp: Path, tool: str, extra: dict[str, Any] | None = None) -> Path:
    address = {h.name: h.address for h in lab.hosts}
    if tool == "ansible":
        host = {"ansible_host": address[ANSIBLE_HOST], **(extra or {})}
        common = {
            "ansible_user": "fleet",
            "ansible_ssh_private_key_file": str(lab.key),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={lab.known_hosts}"
            " -o StrictHostKeyChecking=yes",
        }
    else:
        host = {"ansible_host": address[FLEETKIT_HOST], **(extra or {})}
        common = {  # issue 16: connection settings only under Ansible's / fleetkit_ names
            "ansible_user": "fleet",
            "ansible_ssh_private_key_file": str(lab.key),
            "fleetkit_known_hosts": str(lab.known_hosts),
            "fleetkit_host_key_policy": "verify",
        }
    path = tmp / f"{tool}-{uuid.uuid4().hex[:6]}.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"node1": host}, "vars": common}}))
    return path


def _run(
    tool: str, inv: Path, playbook: Path, tmp: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    if tool == "ansible":
        env = {
            **os.environ,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-local"),
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
        }
        cmd = [str(BIN / "ansible-playbook"), "-i", str(inv), str(playbook), *args]
    else:
        env = dict(os.environ)
        cmd = [str(BIN / "fleetkit"), "run", str(playbook), "-i", str(inv), *args]
    return subprocess.run(
        cmd, cwd=playbook.parent, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def hosts(lab: LabState, tmp_path: Path) -> Iterator[dict[str, Any]]:
    config = tmp_path / "ssh_config"
    config.write_text(
        "".join(
            f"Host {h.name}\n  HostName {h.address}\n  User fleet\n  IdentityFile {lab.key}\n"
            f"  UserKnownHostsFile {lab.known_hosts}\n  StrictHostKeyChecking yes\n"
            "  BatchMode yes\n"
            for h in lab.hosts
        )
    )
    out = {
        name: testinfra.get_host(f"ssh://{name}", ssh_config=str(config), sudo=True)
        for name in (ANSIBLE_HOST, FLEETKIT_HOST)
    }
    yield out


def _state(host: Any, base: str) -> dict[str, Any]:
    listing = host.check_output(f"find {base} -printf '%P|%y|%m|%u\\n' 2>/dev/null; true")
    files: dict[str, Any] = {}
    for line in sorted(listing.splitlines()):
        rel, kind, mode, owner = line.split("|")
        entry: dict[str, Any] = {"type": kind, "mode": mode, "owner": owner}
        if kind == "f":
            entry["content"] = host.file(f"{base}/{rel}").content_string
        files[rel] = entry
    return files


def _normalise(registered: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(registered))
    for value in out.values():
        facts = value.get("ansible_facts")
        if isinstance(facts, dict):
            facts.pop("discovered_interpreter_python", None)
            if not facts and value is not out.get("getent") and value is not out.get("rhel_facts"):
                del value["ansible_facts"]
    for key in ("stderr", "stderr_lines"):  # dd's timing
        out["filesize"].pop(key, None)
    for value in out.values():
        # On a fresh host ansible-playbook creates its remote_tmp (~/.ansible/tmp) and
        # warns once on the first module that needs it; fleetkit's payload travels on
        # stdin and uses no remote tmp dir (docs/contracts.md, Ansible module fallback).
        warnings = value.get("warnings")
        if isinstance(warnings, list):
            kept = [w for w in warnings if "remote_tmp" not in json.dumps(w)]
            if kept:
                value["warnings"] = kept
            else:
                del value["warnings"]
    return out


def test_fallback_modules_match_ansible_playbook(
    lab: LabState, hosts: dict[str, Any], tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    base = f"/tmp/fkfallback-{tag}"
    results: dict[str, Any] = {}
    try:
        for tool, host in (("ansible", ANSIBLE_HOST), ("fleetkit", FLEETKIT_HOST)):
            inv = _inventory(lab, tmp_path, tool)
            outs = []
            for round_ in (1, 2):
                out = tmp_path / f"{tool}-{round_}"
                out.mkdir()
                proc = _run(
                    tool,
                    inv,
                    HERE / "site.yml",
                    tmp_path,
                    "-e",
                    f"outdir={out}",
                    "-e",
                    f"fk_base={base}",
                    "-e",
                    f"fk_tag={tag}",
                )
                assert proc.returncode == 0, f"{tool}:\n{proc.stdout}\n{proc.stderr}"
                outs.append((proc, json.loads((out / "registered.json").read_text())))
            results[tool] = {
                "first": outs[0][1],
                "second": outs[1][1],
                "second_out": outs[1][0].stdout,
                "state": _state(hosts[host], base),
            }
        a, f = results["ansible"], results["fleetkit"]
        for round_ in ("first", "second"):
            a_reg, f_reg = _normalise(a[round_]), _normalise(f[round_])
            for name in sorted(a_reg):
                assert f_reg.get(name) == a_reg[name], f"{round_} run, {name}"
            assert set(f_reg) == set(a_reg)
        assert a["state"] == f["state"]
        # second runs: every fallback module is idempotent except patch, whose file the
        # playbook's copy task resets each run (on both tools alike)
        for side in (a, f):
            assert {k for k, v in side["second"].items() if v["changed"]} == {"patch"}
    finally:
        for host in (ANSIBLE_HOST, FLEETKIT_HOST):
            hosts[host].run(f"rm -rf {base}")


def _write(tmp: Path, tasks: list[dict[str, Any]]) -> Path:
    path = tmp / f"play-{uuid.uuid4().hex[:6]}.yml"
    path.write_text(yaml.safe_dump([{"hosts": "node1", "gather_facts": False, "tasks": tasks}]))
    return path


def test_check_mode_and_diff_through_the_fallback(
    lab: LabState, hosts: dict[str, Any], tmp_path: Path
) -> None:
    path = f"/tmp/fkfallback-check-{uuid.uuid4().hex[:8]}.ini"
    play = _write(
        tmp_path,
        [
            {
                "community.general.ini_file": {
                    "path": path,
                    "section": "s",
                    "option": "o",
                    "value": "v",
                }
            }
        ],
    )
    proc = _run(
        "fleetkit", _inventory(lab, tmp_path, "fleetkit"), play, tmp_path, "--check", "--diff"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed" in proc.stdout and "+o = v" in proc.stdout
    assert not hosts[FLEETKIT_HOST].file(path).exists


def test_failing_module_and_missing_python_are_failed_tasks(lab: LabState, tmp_path: Path) -> None:
    acl = _write(
        tmp_path,
        [
            {
                "ansible.posix.acl": {
                    "path": "/tmp",
                    "entity": "fleet",
                    "etype": "user",
                    "permissions": "r",
                    "state": "present",
                }
            }
        ],
    )
    proc = _run("fleetkit", _inventory(lab, tmp_path, "fleetkit"), acl, tmp_path, "--json")
    assert proc.returncode == 1
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    failed = [e for e in events if e["event"] == "host_result"]
    assert failed[0]["status"] == "failed" and "setfacl" in failed[0]["msg"]
    ping = _write(tmp_path, [{"ansible.builtin.ping": {}}])
    inv = _inventory(
        lab, tmp_path, "fleetkit", {"ansible_python_interpreter": "/nonexistent/python3"}
    )
    proc = _run("fleetkit", inv, ping, tmp_path, "--json")
    assert proc.returncode == 1
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    result = next(e for e in events if e["event"] == "host_result")
    assert result["status"] == "failed"
    assert "/nonexistent/python3" in result["msg"] and "not found" in result["msg"]


def test_no_log_secret_stays_out_of_output_and_ps(
    lab: LabState, hosts: dict[str, Any], tmp_path: Path
) -> None:
    secret = f"s3cret-{uuid.uuid4().hex}"
    path = f"/tmp/fkfallback-secret-{uuid.uuid4().hex[:8]}.ini"
    play = _write(
        tmp_path,
        [
            {
                "name": "slow secret",
                "no_log": True,
                "community.general.ini_file": {
                    "path": path,
                    "section": "s",
                    "option": "pw",
                    "value": secret,
                },
                "environment": {"FK_SLOW": "1"},
            }
        ],
    )
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(hosts[FLEETKIT_HOST].check_output("ps -eo args"))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        proc = _run("fleetkit", _inventory(lab, tmp_path, "fleetkit"), play, tmp_path, "--diff")
    finally:
        stop.set()
        watcher.join()
        hosts[FLEETKIT_HOST].run(f"rm -f {path}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert secret not in proc.stdout and secret not in proc.stderr
    assert seen and not any(secret in s for s in seen)
    logs = list(Path(".fleetkit").rglob("*")) if Path(".fleetkit").exists() else []
    assert not any(secret in p.read_text(errors="replace") for p in logs if p.is_file())
