"""The cost of one Ansible-fallback task (issue 17): fleetkit running Ansible's module code,
against one of fleetkit's native modules and against ansible-playbook, on 50 hosts.

The lab has 3 hosts and is shared, so 50 hosts are inventory aliases: names round-robin
over the 3 hosts' addresses (50 real SSH connections, to 3 sshds). Each tool runs a
playbook of 1 task and one of 1 + K tasks (the same module K more times); the cost of
one task is the difference of the medians divided by K, which leaves out start-up,
connection set-up and the recap. Modules: `ansible.builtin.ping` (fleetkit has no
native version: the fallback sends Ansible's AnsiballZ payload over fleetkit's
connection) and `ansible.builtin.stat` (native in fleetkit: one shell round trip);
ansible-playbook runs both through its own module code, pipelined, with ControlPersist.
Each round runs every command once, in rotating order; medians over the rounds.

    .venv/bin/python bench/bench_fallback.py --hosts 50 --rounds 5 --extra 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    Lab,
    Measure,
    machine,
    read_lab,
    report,
    rounds,
    run_timed,
    which,
    write_results,
)

MODULES = {
    "fallback": ("ansible.builtin.ping", {}),
    "native": ("ansible.builtin.stat", {"path": "/etc/hostname"}),
}


def alias_inventories(lab: Lab, n: int, tmp: Path) -> tuple[Path, Path]:
    """n aliases over the lab's addresses: fleetkit's YAML and Ansible's INI inventory
    (each alias its own Ansible control path, so 50 aliases are 50 connections)."""
    names = [f"f{i:03d}" for i in range(n)]
    addr = {name: lab.addresses[i % len(lab.addresses)] for i, name in enumerate(names)}
    common = {
        "ansible_user": lab.user,
        "ansible_ssh_private_key_file": lab.key,
        "fleetkit_known_hosts": lab.known_hosts,
        "fleetkit_host_key_policy": "verify",
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    inv = tmp / f"aliases{n}.yml"
    hosts = {name: {"ansible_host": a} for name, a in addr.items()}
    inv.write_text(yaml.safe_dump({"all": {"vars": common, "hosts": hosts}}))
    cp = tmp / "cp"
    cp.mkdir(exist_ok=True)
    ini = tmp / f"aliases{n}.ini"
    lines = ["[lab]"]
    lines += [
        f"{name} ansible_host={a} ansible_control_path={cp}/{name}" for name, a in addr.items()
    ]
    lines += [
        "[lab:vars]",
        f"ansible_user={lab.user}",
        f"ansible_ssh_private_key_file={lab.key}",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts}"
        " -o StrictHostKeyChecking=yes'",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    ini.write_text("\n".join(lines) + "\n")
    return inv, ini


def playbook(tmp: Path, kind: str, tasks: int) -> Path:
    module, args = MODULES[kind]
    plays = [
        {
            "hosts": "all",
            "gather_facts": False,
            "tasks": [{"name": f"{kind} {i}", module: args} for i in range(tasks)],
        }
    ]
    path = tmp / f"{kind}-{tasks}.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def commands(
    lab: Lab, n: int, extra: int, tmp: Path
) -> dict[str, Callable[[], tuple[float, int, int, str]]]:
    inv, ini = alias_inventories(lab, n, tmp)
    fk, ap = which("fleetkit"), which("ansible-playbook")
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=600s",
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    fk_env = {**os.environ, "ANSIBLE_HOME": str(tmp / "ansible-home")}
    out: dict[str, Callable[[], tuple[float, int, int, str]]] = {}
    for kind in MODULES:
        for count in (1, 1 + extra):
            book = str(playbook(tmp, kind, count))
            out[f"fk_{kind}_{count}"] = partial(
                run_timed, [fk, "run", book, "-i", str(inv), "-f", str(n)], fk_env, tmp
            )
            out[f"ap_{kind}_{count}"] = partial(
                run_timed, [ap, book, "-i", str(ini), "-f", str(n)], env, tmp
            )
    return out


def per_task(measures: dict[str, Measure], extra: int) -> dict[str, float]:
    """Seconds one more task costs the whole run of n hosts, per tool and module."""
    out = {}
    for tool in ("fk", "ap"):
        for kind in MODULES:
            one, more = measures[f"{tool}_{kind}_1"], measures[f"{tool}_{kind}_{1 + extra}"]
            out[f"{tool}_{kind}"] = (more.median - one.median) / extra
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--extra", type=int, default=5, help="tasks added to the 1-task run")
    parser.add_argument("--inventory", type=Path, default=ROOT / "inventory" / "lab" / "hosts.yml")
    opts = parser.parse_args()
    lab = read_lab(opts.inventory)
    with tempfile.TemporaryDirectory(prefix="fkb-fallback-") as tmp_name:
        tmp = Path(tmp_name)
        cmds = commands(lab, opts.hosts, opts.extra, tmp)
        for name, cmd in cmds.items():  # warm: Ansible's masters, fleetkit's payload cache
            wall, rc, _, output = cmd()
            if rc != 0:
                raise SystemExit(f"{name} failed (exit {rc}):\n{output[-3000:]}")
            print(f"  warm-up {name}: {wall:.2f}s", file=sys.stderr)
        measures = {name: Measure(name) for name in cmds}
        rounds(measures, cmds, opts.rounds)
    print(f"\n{opts.hosts} hosts over {len(lab.addresses)} sshds, {opts.rounds} rounds, medians:")
    rows = report(measures, "fk_native_1")
    costs = per_task(measures, opts.extra)
    print("\none more task, for the whole run (median difference / extra tasks):")
    for name, seconds in costs.items():
        print(f"  {name:<14}{seconds * 1000:>8.0f} ms")
    ratios = {
        "fallback/native (fleetkit)": _ratio(costs["fk_fallback"], costs["fk_native"]),
        "ansible ping/fleetkit fallback": _ratio(costs["ap_fallback"], costs["fk_fallback"]),
        "ansible stat/fleetkit native": _ratio(costs["ap_native"], costs["fk_native"]),
    }
    for name, ratio in ratios.items():
        print(f"  {name}: {ratio:.2f}")
    path = write_results(
        "fallback",
        {
            "hosts": opts.hosts,
            "sshds": len(lab.addresses),
            "rounds": opts.rounds,
            "extra_tasks": opts.extra,
            "modules": {k: v[0] for k, v in MODULES.items()},
            "runs": rows,
            "per_task_s": costs,
            "ratios": ratios,
            "spread_s": {k: statistics.pstdev(m.times) for k, m in measures.items() if m.times},
            "machine": machine(),
        },
    )
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
