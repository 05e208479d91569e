"""Warm fleets (issue 14): fleetkit's connection keeper warm vs cold, beside OpenSSH
ControlMaster and Ansible's ControlPersist, plus the keeper's own memory and idle CPU.

Targets: `exec all -- uptime` on 500 hosts warm under 1.5 s; a 10-task playbook on 200
hosts warm under 3 s; keeper memory under 0.5 MiB per held connection; idle CPU near zero.

The lab has 3 hosts and is shared, so big counts are inventory aliases: N names
round-robin over the 3 hosts' addresses (N real SSH connections, to 3 sshds). Each
alias has its own OpenSSH ControlPath (`/tmp/fkcm-ALIAS-%C`: `%C` alone hashes the
address, so 50 aliases would share 3 masters) and its own Ansible control path.
The keeper runs with its own XDG_RUNTIME_DIR, so other users of the lab and their
keepers are never touched; it is stopped at the end.

    .venv/bin/python bench/bench_keeper.py --hosts 50 --rounds 5
    .venv/bin/python bench/bench_keeper.py --hosts 200 --hosts 500 --rounds 3 --fleetkit-only
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_playbook import playbook_yaml
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

Command = Callable[[], tuple[float, int, int, str]]
PERSIST = "--persist=10m"
# Longer than Ansible's default 60 s: a round of every tool can take more than a minute
# on the loaded machine, and a master that expired mid-run would be measured cold.
CONTROL_PERSIST = "600"


def alias_files(lab: Lab, n: int, tmp: Path) -> dict[str, Path]:
    """An inventory of n aliases over the lab's addresses, the same as Ansible INI, and
    the `alias address` lines xargs reads."""
    data = yaml.safe_load(lab.inventory.read_text())["all"]
    names = [f"a{i:03d}" for i in range(n)]
    addr = {name: lab.addresses[i % len(lab.addresses)] for i, name in enumerate(names)}
    hosts = {name: {"ansible_host": a, "address": a} for name, a in addr.items()}
    inv = tmp / f"aliases{n}.yml"
    inv.write_text(yaml.safe_dump({"all": {"vars": data["vars"], "hosts": hosts}}))
    cp = tmp / "ansible-cp"
    cp.mkdir(exist_ok=True)
    ini = tmp / f"aliases{n}.ini"
    lines = ["[lab]"] + [
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
    pairs = tmp / f"aliases{n}.txt"
    pairs.write_text("".join(f"{name} {a}\n" for name, a in addr.items()))
    return {"inventory": inv, "ini": ini, "pairs": pairs}


def ssh_xargs(lab: Lab, pairs: Path, n: int, *, master: bool) -> list[str]:
    """`xargs -P n` running `ssh ... uptime` per alias, with or without ControlMaster."""
    opts = [
        "-i", lab.key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
        "-o", f"UserKnownHostsFile={lab.known_hosts}", "-o", "StrictHostKeyChecking=yes",
    ]  # fmt: skip
    if master:
        opts += ["-o", "ControlMaster=auto", "-o", f"ControlPersist={CONTROL_PERSIST}"]
        opts += ["-o", "ControlPath=/tmp/fkcm-$0-%C"]
    else:
        opts += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
    ssh = " ".join(shlex.quote(o) if "$0" not in o else f'"{o}"' for o in opts)
    script = f'exec ssh {ssh} {lab.user}@"$1" uptime'
    return ["sh", "-c", f"xargs -P {n} -L 1 sh -c {shlex.quote(script)} < {pairs}"]


def ansible_env(tmp: Path, *, persist: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
    }
    if persist:
        env["ANSIBLE_SSH_ARGS"] = f"-o ControlMaster=auto -o ControlPersist={CONTROL_PERSIST}s"
    else:  # no ControlPersist in ssh_args: Ansible adds no ControlPath either
        env["ANSIBLE_SSH_ARGS"] = "-o ControlMaster=no"
    return env


def stop_masters(lab: Lab, files: dict[str, Path], tmp: Path) -> None:
    """`ssh -O exit` every ControlMaster this bench left (OpenSSH's and Ansible's)."""
    for line in files["pairs"].read_text().splitlines():
        name, addr = line.split()
        for path in (f"/tmp/fkcm-{name}-%C", str(tmp / "ansible-cp" / name)):
            subprocess.run(
                ["ssh", "-o", f"ControlPath={path}", "-O", "exit", f"{lab.user}@{addr}"],
                capture_output=True,
                check=False,
            )


def exec_commands(
    lab: Lab, files: dict[str, Path], n: int, tmp: Path, keeper_env: dict[str, str], full: bool
) -> dict[str, list[str] | tuple[list[str], dict[str, str]]]:
    fk = which("fleetkit")
    inv = str(files["inventory"])
    cmds: dict[str, list[str] | tuple[list[str], dict[str, str]]] = {
        "fk_cold": [fk, "exec", "all", "-i", inv, "--", "uptime"],
        "fk_warm": ([fk, "exec", "all", "-i", inv, PERSIST, "--", "uptime"], keeper_env),
    }
    if full:
        ans = [which("ansible"), "all", "-i", str(files["ini"]), "-m", "command"]
        ans += ["-a", "uptime", "-f", str(n)]
        cmds |= {
            "ssh_cold": ssh_xargs(lab, files["pairs"], n, master=False),
            "ssh_cm_warm": ssh_xargs(lab, files["pairs"], n, master=True),
            "ansible_cold": (ans, ansible_env(tmp, persist=False)),
            "ansible_cp_warm": (ans, ansible_env(tmp, persist=True)),
        }
    return cmds


def playbook_commands(
    files: dict[str, Path], n: int, tmp: Path, keeper_env: dict[str, str], full: bool
) -> dict[str, list[str] | tuple[list[str], dict[str, str]]]:
    fk = which("fleetkit")
    book = tmp / "bench.yml"
    book.write_text(playbook_yaml())
    inv = str(files["inventory"])
    cmds: dict[str, list[str] | tuple[list[str], dict[str, str]]] = {
        "fk_cold": [fk, "run", str(book), "-i", inv],
        "fk_warm": ([fk, "run", str(book), "-i", inv, PERSIST], keeper_env),
    }
    if full:
        ap = [which("ansible-playbook"), "-i", str(files["ini"]), "-f", str(n), str(book)]
        env = ansible_env(tmp, persist=True) | {"ANSIBLE_GATHERING": "explicit"}
        cmds["ansible_cp_warm"] = (ap, env)
    return cmds


def keeper_cpu_s(keeper_env: dict[str, str]) -> float:
    """CPU seconds the running keeper has used so far (0 when none runs)."""
    lock = Path(keeper_env["XDG_RUNTIME_DIR"]) / "fleetkit" / "keeper.lock"
    try:
        pid = int(lock.read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_timed(
    argv: list[str], env: dict[str, str] | None, keeper_env: dict[str, str], log: list[float]
) -> tuple[float, int, int, str]:
    """run_timed, also noting the run's own CPU and the keeper's CPU during it (in log:
    client, keeper). A keeper that started or exited during the run counts from 0."""
    before = keeper_cpu_s(keeper_env)
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    after = keeper_cpu_s(keeper_env)
    log += [usage.ru_utime + usage.ru_stime, max(0.0, after - before)]
    out.seek(0)
    rc = os.waitstatus_to_exitcode(status)
    return wall, rc, int(usage.ru_maxrss), out.read().decode(errors="replace")


def measure(
    title: str,
    cmds: dict[str, list[str] | tuple[list[str], dict[str, str]]],
    n_rounds: int,
    keeper_env: dict[str, str],
) -> dict[str, Any]:
    """Warm every *_warm command once (not timed), then rounds of all; medians and ratios.
    fleetkit's runs also note their CPU and the keeper's (medians over the rounds)."""
    runners: dict[str, Command] = {}
    lines = {}
    cpu: dict[str, list[float]] = {}
    for name, spec in cmds.items():
        argv, env = spec if isinstance(spec, tuple) else (spec, None)
        if name.startswith("fk_"):
            cpu[name] = []
            runners[name] = partial(cpu_timed, argv, env, keeper_env, cpu[name])
        else:
            runners[name] = partial(run_timed, argv, env=env)
        lines[name] = shlex.join(argv)
    for name, runner in runners.items():
        if name.endswith("_warm"):
            wall, rc, _, out = runner()
            print(f"  warm-up {name}: {wall:.2f}s exit {rc}", file=sys.stderr)
            if rc != 0:
                print(out[-1500:], file=sys.stderr)
    measures = {k: Measure(k) for k in runners}
    rounds(measures, runners, n_rounds)
    print(f"\n{title} ({n_rounds} rounds, medians):")
    for name, line in lines.items():
        print(f"  {name}: {line}")
    rows = report(measures, "fk_warm")
    ratios = {}
    for cold, warm in (("fk_cold", "fk_warm"), ("ssh_cold", "ssh_cm_warm")):
        if cold in measures and warm in measures and measures[warm].times:
            ratios[f"{cold}/{warm}"] = measures[cold].median / measures[warm].median
    for other in ("ssh_cm_warm", "ansible_cp_warm"):
        if other in measures and measures["fk_warm"].times and measures[other].times:
            ratios[f"{other}/fk_warm"] = measures[other].median / measures["fk_warm"].median
    for k, v in ratios.items():
        print(f"  ratio {k}: {v:.2f}")
    cpu_medians = {}
    for name, log in cpu.items():
        timed = log[2:] if name.endswith("_warm") else log  # not the warm-up run
        if timed:
            client = statistics.median(timed[0::2])
            keeper = statistics.median(timed[1::2])
            cpu_medians[name] = {"client_cpu_s": client, "keeper_cpu_s": keeper}
            print(f"  cpu {name}: client {client:.2f} s, keeper {keeper:.2f} s (medians)")
    return {"commands": lines, "tools": rows, "ratios": ratios, "cpu": cpu_medians}


def keeper_pid(env: dict[str, str]) -> tuple[int, int]:
    """(pid, connections held) from `fleetkit persist status`."""
    out = subprocess.run(
        [which("fleetkit"), "persist", "status"], env=env, capture_output=True, text=True
    ).stdout
    head = out.splitlines()[0] if out else ""
    if not head.startswith("keeper pid"):
        raise SystemExit(f"no keeper: {out!r}")
    pid = int(head.split()[2].rstrip(":"))
    return pid, int(head.split(":")[1].split()[0])


def keeper_costs(env: dict[str, str], idle_s: float = 10.0) -> dict[str, Any]:
    """RSS over connections held, and CPU over idle_s seconds of no runs."""
    pid, held = keeper_pid(env)
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kib = int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1])
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    c0, t0 = cpu(), time.monotonic()
    time.sleep(idle_s)
    used, spent = cpu() - c0, time.monotonic() - t0
    out = {
        "pid": pid,
        "held": held,
        "rss_mib": rss_kib / 1024,
        "rss_mib_per_held": rss_kib / 1024 / max(held, 1),
        "idle_cpu_s": used,
        "idle_window_s": spent,
        "idle_cpu_percent": 100 * used / spent,
    }
    print(
        f"keeper pid {pid}: {held} held, RSS {out['rss_mib']:.1f} MiB"
        f" ({out['rss_mib_per_held']:.3f} MiB per held connection),"
        f" idle CPU {used:.2f} s over {spent:.1f} s ({out['idle_cpu_percent']:.2f} %)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inventory", default=str(ROOT / "inventory" / "lab" / "hosts.yml"))
    parser.add_argument("--hosts", type=int, action="append", help="alias counts (default 50)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fleetkit-only", action="store_true", help="no ssh/ansible peers")
    parser.add_argument("--no-playbook", action="store_true")
    args = parser.parse_args()
    lab = read_lab(Path(args.inventory))
    result: dict[str, Any] = {
        "machine": machine(),
        "loadavg_at_start": os.getloadavg(),
        "note": f"inventory aliases over {len(lab.hosts)} lab sshds",
    }
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="fk-bench-keeper-") as d:
        tmp = Path(d)
        xdg = tmp / "xdg"
        xdg.mkdir(mode=0o700)
        keeper_env = {**os.environ, "XDG_RUNTIME_DIR": str(xdg)}
        try:
            for n in args.hosts or [50]:
                files = alias_files(lab, n, tmp)
                full = not args.fleetkit_only
                part: dict[str, Any] = {
                    "exec": measure(
                        f"exec all -- uptime, {n} aliases over {len(lab.hosts)} sshds",
                        exec_commands(lab, files, n, tmp, keeper_env, full),
                        args.rounds,
                        keeper_env,
                    )
                }
                if not args.no_playbook:
                    part["playbook"] = measure(
                        f"10-task playbook, {n} aliases over {len(lab.hosts)} sshds",
                        playbook_commands(files, n, tmp, keeper_env, full),
                        args.rounds,
                        keeper_env,
                    )
                part["keeper"] = keeper_costs(keeper_env)
                result[f"hosts_{n}"] = part
                stop_masters(lab, files, tmp)
        finally:
            subprocess.run([which("fleetkit"), "persist", "stop"], env=keeper_env, check=False)
    per_held = [v["keeper"] for k, v in result.items() if k.startswith("hosts_")]
    if len(per_held) > 1:
        a, b = per_held[0], per_held[-1]
        if b["held"] > a["held"]:
            slope = (b["rss_mib"] - a["rss_mib"]) / (b["held"] - a["held"])
            result["keeper_rss_mib_per_extra_connection"] = slope
            print(f"keeper RSS growth per extra held connection: {slope:.3f} MiB")
    result["machine"] = machine()
    print(f"load average at start {result['loadavg_at_start']}, at end {os.getloadavg()}")
    print("results:", write_results("keeper", result))


if __name__ == "__main__":
    main()
