"""A 10-task playbook of shell commands: fleetkit vs bare Fabric vs pyinfra vs ansible-playbook.

Targets (issue 3), measured side by side in one run on a lab (50 hosts by default):
fleetkit within 1.5x of a bare Fabric script (one connection per host, the 10
commands in a thread pool), no slower than pyinfra running the same 10
`server.shell` operations, at least 15x faster than ansible-playbook with
pipelining, ControlPersist and `-f N`. Every tool starts a fresh process and
opens fresh connections each round. `--overhead` measures fleetkit's own cost
per task per host on fake connections (target < 5 ms).

    .venv/bin/python bench/bench_playbook.py --hosts 50 --rounds 5
    .venv/bin/python bench/bench_playbook.py --use-lab inventory/lab/hosts.yml   # the lab as it is
    .venv/bin/python bench/bench_playbook.py --overhead
    .venv/bin/python bench/bench_playbook.py --role --use-lab inventory/lab/hosts.yml --rounds 3

`--role`: bench/role_fixture/ (a role with 10 tasks: a directory, a template
that notifies a handler, 8 shell commands) with fleetkit and ansible-playbook,
and a pyinfra deploy doing the same (files.directory, files.template, the
handler as an operation run only if the template changed, 8 server.shell).
Each round renders a new value into the template, so the handler runs every round.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Lab,
    Measure,
    ensure_lab,
    machine,
    read_lab,
    report,
    rounds,
    run_timed,
    which,
    write_results,
)

TASKS = 10
COMMANDS = [f"echo task {i} on $(hostname) && test -d /tmp" for i in range(TASKS)]

FABRIC_SCRIPT = """
import sys
from concurrent.futures import ThreadPoolExecutor
from fabric import Connection
COMMANDS = {commands!r}
user, key, *addrs = sys.argv[1:]

def one(addr):
    conn = Connection(addr, user=user, connect_kwargs={{"key_filename": [key], "look_for_keys": False}})
    try:
        return all(conn.run(cmd, hide=True, warn=True).ok for cmd in COMMANDS)
    finally:
        conn.close()

with ThreadPoolExecutor(max_workers=len(addrs)) as pool:
    ok = list(pool.map(one, addrs))
print(sum(ok), "of", len(addrs), "hosts ok")
sys.exit(0 if all(ok) else 1)
"""

PYINFRA_DEPLOY = """
from pyinfra.operations import server
COMMANDS = {commands!r}
for i, cmd in enumerate(COMMANDS):
    server.shell(name=f"task {{i}}", commands=[cmd])
"""

ANSIBLE_CFG = """
[defaults]
host_key_checking = True
forks = {forks}
gathering = explicit
retry_files_enabled = False
interpreter_python = /usr/bin/python3

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s
"""


def playbook_yaml() -> str:
    tasks = [{"name": f"task {i}", "shell": cmd} for i, cmd in enumerate(COMMANDS)]
    return yaml.safe_dump(
        [{"name": "bench", "hosts": "all", "gather_facts": False, "tasks": tasks}]
    )


def peer_files(lab: Lab, tmp: Path) -> dict[str, Path]:
    """Playbooks, inventories and scripts for every tool, for the same hosts and commands."""
    files = {
        "playbook": tmp / "bench.yml",
        "ansible_inv": tmp / "ansible.ini",
        "ansible_cfg": tmp / "ansible.cfg",
        "pyinfra_inv": tmp / "inventory.py",
        "pyinfra_deploy": tmp / "deploy.py",
        "fabric": tmp / "fabric_pool.py",
    }
    files["playbook"].write_text(playbook_yaml())
    pairs = zip(lab.hosts, lab.addresses, strict=True)
    lines = ["[lab]"] + [f"{h} ansible_host={a}" for h, a in pairs]
    lines += [
        "[lab:vars]",
        f"ansible_user={lab.user}",
        f"ansible_ssh_private_key_file={lab.key}",
        "ansible_ssh_common_args='-o UserKnownHostsFile="
        f"{lab.known_hosts} -o StrictHostKeyChecking=yes'",
    ]
    files["ansible_inv"].write_text("\n".join(lines) + "\n")
    files["ansible_cfg"].write_text(ANSIBLE_CFG.format(forks=len(lab.hosts)))
    hosts = ", ".join(
        f"({h!r}, {{'ssh_hostname': {a!r}}})" for h, a in zip(lab.hosts, lab.addresses, strict=True)
    )
    files["pyinfra_inv"].write_text(
        f"lab = ([{hosts}], {{'ssh_user': {lab.user!r}, 'ssh_key': {lab.key!r},"
        f" 'ssh_known_hosts_file': {lab.known_hosts!r}, 'ssh_strict_host_key_checking': 'yes'}})\n"
    )
    files["pyinfra_deploy"].write_text(PYINFRA_DEPLOY.format(commands=COMMANDS))
    files["fabric"].write_text(FABRIC_SCRIPT.format(commands=COMMANDS))
    return files


def compare(lab: Lab, n_rounds: int, tmp: Path, skip: set[str]) -> dict[str, object]:
    files = peer_files(lab, tmp)
    n = len(lab.hosts)
    fleetkit = which("fleetkit")

    def ansible_env() -> dict[str, str]:
        cp = tempfile.mkdtemp(dir=tmp)  # fresh ControlPersist dir: fresh connections each round
        return {
            **os.environ,
            "ANSIBLE_CONFIG": str(files["ansible_cfg"]),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": cp,
            "ANSIBLE_LOCAL_TEMP": cp,
            "ANSIBLE_NOCOLOR": "1",
        }

    commands = {
        "fleetkit": lambda: run_timed(
            [fleetkit, "run", str(files["playbook"]), "-i", str(lab.inventory)], cwd=tmp
        ),
        "fabric": lambda: run_timed(
            [sys.executable, str(files["fabric"]), lab.user, lab.key, *lab.addresses]
        ),
    }
    if "pyinfra" not in skip:
        pyinfra = which("pyinfra")
        commands["pyinfra"] = lambda: run_timed(
            [pyinfra, "-y", str(files["pyinfra_inv"]), str(files["pyinfra_deploy"])], cwd=tmp
        )
    if "ansible" not in skip:
        ansible = which("ansible-playbook")
        commands["ansible"] = lambda: run_timed(
            [ansible, "-i", str(files["ansible_inv"]), "-f", str(n), str(files["playbook"])],
            env=ansible_env(),
            cwd=tmp,
        )
    measures = {k: Measure(k) for k in commands}
    rounds(measures, commands, n_rounds)
    print(f"\n{TASKS}-task shell playbook on {n} lab hosts, {n_rounds} rounds (medians):")
    rows = report(measures, "fabric")
    fk = measures["fleetkit"].median
    line = f"\nfleetkit/fabric {fk / measures['fabric'].median:.2f} (target <= 1.5)"
    if "pyinfra" in measures:
        line += f", fleetkit/pyinfra {fk / measures['pyinfra'].median:.2f} (target <= 1.0)"
    if "ansible" in measures:
        line += f", ansible/fleetkit {measures['ansible'].median / fk:.1f} (target >= 15)"
    print(line)
    return {"hosts": n, "rounds": n_rounds, "tasks": TASKS, "tools": rows}


ROLE_FIXTURE = Path(__file__).resolve().parent / "role_fixture"
ROLE_DIR = "/tmp/fkbench-role"

PYINFRA_ROLE_DEPLOY = """
import os
from pyinfra import host
from pyinfra.operations import files, server
ROUND = os.environ["BENCH_ROUND"]
ROLE = {role!r}
files.directory(name="bench dir", path="{dir}", mode="755")
conf = files.template(
    name="bench config",
    src=ROLE + "/roles/benchrole/templates/bench.conf.j2",
    dest="{dir}/bench.conf",
    mode="644",
    inventory_hostname=host.name,
    bench_round=ROUND,
)
for i in range(8):
    server.shell(name=f"task {{i}}", commands=[f"echo task {{i}} on $(hostname) && test -d {dir}"])
server.shell(
    name="bench reload", commands=["echo reloaded > {dir}/reloaded"], _if=conf.did_change
)
"""


def compare_role(lab: Lab, n_rounds: int, tmp: Path, skip: set[str]) -> dict[str, object]:
    """The role fixture with fleetkit and ansible-playbook; the same steps as a pyinfra deploy."""
    files = peer_files(lab, tmp)
    play = tmp / "role"
    shutil.copytree(ROLE_FIXTURE, play)
    deploy = tmp / "role_deploy.py"
    deploy.write_text(PYINFRA_ROLE_DEPLOY.format(role=str(play), dir=ROLE_DIR))
    n = len(lab.hosts)
    counter = itertools.count()
    fleetkit = which("fleetkit")

    def ansible_env() -> dict[str, str]:
        cp = tempfile.mkdtemp(dir=tmp)
        return {
            **os.environ,
            "ANSIBLE_CONFIG": str(files["ansible_cfg"]),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": cp,
            "ANSIBLE_LOCAL_TEMP": cp,
            "ANSIBLE_NOCOLOR": "1",
        }

    commands = {
        "fleetkit": lambda: run_timed(
            [
                fleetkit,
                "run",
                "site.yml",
                "-i",
                str(lab.inventory),
                "-e",
                f"bench_round={next(counter)}",
            ],
            cwd=play,
        ),
    }
    if "pyinfra" not in skip:
        pyinfra = which("pyinfra")
        commands["pyinfra"] = lambda: run_timed(
            [pyinfra, "-y", str(files["pyinfra_inv"]), str(deploy)],
            env={**os.environ, "BENCH_ROUND": str(next(counter))},
            cwd=tmp,
        )
    if "ansible" not in skip:
        ansible = which("ansible-playbook")
        commands["ansible"] = lambda: run_timed(
            [
                ansible,
                "-i",
                str(files["ansible_inv"]),
                "-f",
                str(n),
                "site.yml",
                "-e",
                f"bench_round={next(counter)}",
            ],
            env=ansible_env(),
            cwd=play,
        )
    measures = {k: Measure(k) for k in commands}
    try:
        rounds(measures, commands, n_rounds)
    finally:
        run_timed([fleetkit, "exec", "all", "-i", str(lab.inventory), "--", f"rm -rf {ROLE_DIR}"])
    print(f"\nrole with 10 tasks, a template and a handler on {n} lab hosts, {n_rounds} rounds:")
    rows = report(measures, "fleetkit")
    return {"hosts": n, "rounds": n_rounds, "tasks": TASKS, "variant": "role", "tools": rows}


def overhead(n_hosts: int, repeats: int) -> dict[str, object]:
    """fleetkit's own time per task per host: the playbook on instant fake connections."""
    from fleetkit.playbook.session import RunRequest, execute, prepare
    from fleetkit.report.console import ConsoleReporter
    from fleetkit.testing.fake_connection import FakeConnection

    with tempfile.TemporaryDirectory(prefix="fk-overhead-") as d:
        tmp = Path(d)
        hosts = {f"h{i:03d}": {"address": f"198.18.1.{i % 250}"} for i in range(n_hosts)}
        (tmp / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        (tmp / "bench.yml").write_text(playbook_yaml())
        prepared = prepare(
            RunRequest(playbook=tmp / "bench.yml", inventory=tmp / "hosts.yml", cwd=tmp)
        )
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            result = execute(prepared, ConsoleReporter(io.StringIO()), connect=FakeConnection)
            best = min(best, time.perf_counter() - start)
    per_step_ms = best * 1000 / len(result.steps)
    print(
        f"fleetkit overhead: {best * 1000:.1f} ms for {len(result.steps)} task results"
        f" ({n_hosts} hosts x {TASKS} tasks) = {per_step_ms:.3f} ms per task per host (target < 5)"
    )
    return {
        "hosts": n_hosts,
        "steps": len(result.steps),
        "best_s": best,
        "ms_per_step": per_step_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--use-lab", type=Path, metavar="INVENTORY", help="use the lab as it is")
    parser.add_argument("--skip", action="append", default=[], choices=["pyinfra", "ansible"])
    parser.add_argument("--overhead", action="store_true", help="fleetkit's own cost, fake hosts")
    parser.add_argument("--role", action="store_true", help="the role variant (role_fixture/)")
    args = parser.parse_args()
    result: dict[str, object] = {}
    if args.overhead:
        result["overhead"] = overhead(args.hosts, args.rounds)
    else:
        with tempfile.TemporaryDirectory(prefix="fk-bench-") as d:
            tmp = Path(d)
            if args.use_lab:
                lab = read_lab(args.use_lab.resolve())
            else:
                lab = ensure_lab(args.hosts, tmp / "lab.yml")
            if args.role:
                result["role"] = compare_role(lab, args.rounds, tmp, set(args.skip))
            else:
                result["playbook"] = compare(lab, args.rounds, tmp, set(args.skip))
    result["machine"] = machine()
    print("results:", write_results("playbook", result))


if __name__ == "__main__":
    main()
