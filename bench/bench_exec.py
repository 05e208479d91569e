"""`fleetkit exec all -- uptime` against bare Fabric, pyinfra and ansible on fresh lab hosts.

Targets (issue 2): within 1.5x of a bare Fabric ThreadingGroup script, no slower
than pyinfra, at least 5x faster than `ansible all -m command -a uptime -f N`;
controller peak RSS growth under 2 MB per host between 50 and 200 hosts
(`--memory`). Every tool starts a fresh process and opens fresh connections
each round (the lab hosts themselves stay up).

    .venv/bin/python bench/bench_exec.py --hosts 50 --rounds 7
    .venv/bin/python bench/bench_exec.py --memory
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Lab,
    Measure,
    ensure_lab,
    machine,
    report,
    rounds,
    run_timed,
    which,
    write_results,
)

FABRIC_SCRIPT = """
import sys
from fabric import ThreadingGroup
user, key, *addrs = sys.argv[1:]
group = ThreadingGroup(*addrs, user=user, connect_kwargs={"key_filename": [key], "look_for_keys": False})
results = group.run("uptime", hide=True, warn=True)
bad = [c.host for c, r in results.items() if not getattr(r, "ok", False)]
print(len(results), "hosts", "failed:", bad)
sys.exit(1 if bad else 0)
"""


def peer_files(lab: Lab, tmp: Path) -> tuple[Path, Path]:
    """An ansible INI inventory and a pyinfra inventory.py for the same hosts."""
    ansible = tmp / "ansible.ini"
    lines = ["[lab]"] + [
        f"{h} ansible_host={a}" for h, a in zip(lab.hosts, lab.addresses, strict=True)
    ]
    lines += [
        "[lab:vars]",
        f"ansible_user={lab.user}",
        f"ansible_ssh_private_key_file={lab.key}",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts} -o StrictHostKeyChecking=yes'",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    ansible.write_text("\n".join(lines) + "\n")
    pyinfra = tmp / "inventory.py"
    hosts = ", ".join(
        f"({h!r}, {{'ssh_hostname': {a!r}}})" for h, a in zip(lab.hosts, lab.addresses, strict=True)
    )
    pyinfra.write_text(
        f"lab = ([{hosts}], {{'ssh_user': {lab.user!r}, 'ssh_key': {lab.key!r},"
        f" 'ssh_known_hosts_file': {lab.known_hosts!r}, 'ssh_strict_host_key_checking': 'yes'}})\n"
    )
    return ansible, pyinfra


def compare(lab: Lab, n_rounds: int, tmp: Path) -> dict[str, object]:
    ansible_inv, pyinfra_inv = peer_files(lab, tmp)
    fabric_script = tmp / "fabric_group.py"
    fabric_script.write_text(FABRIC_SCRIPT)
    n = len(lab.hosts)
    fleetkit, pyinfra, ansible = which("fleetkit"), which("pyinfra"), which("ansible")

    def ansible_env() -> dict[str, str]:
        cp = tempfile.mkdtemp(dir=tmp)  # fresh ControlPersist dir: fresh connections each round
        return {
            **os.environ,
            "ANSIBLE_SSH_CONTROL_PATH_DIR": cp,
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_LOCAL_TEMP": cp,
            "ANSIBLE_NOCOLOR": "1",
        }

    commands = {
        "fleetkit": lambda: run_timed(
            [fleetkit, "exec", "all", "-i", str(lab.inventory), "--", "uptime"]
        ),
        "fabric": lambda: run_timed(
            [sys.executable, str(fabric_script), lab.user, lab.key, *lab.addresses]
        ),
        "pyinfra": lambda: run_timed(
            [pyinfra, "-y", str(pyinfra_inv), "exec", "--", "uptime"], cwd=tmp
        ),
        "ansible": lambda: run_timed(
            [ansible, "all", "-i", str(ansible_inv), "-m", "command", "-a", "uptime", "-f", str(n)],
            env=ansible_env(),
        ),
    }
    measures = {k: Measure(k) for k in commands}
    rounds(measures, commands, n_rounds)
    print(f"\nexec uptime on {n} lab hosts, {n_rounds} rounds (medians):")
    rows = report(measures, "fabric")
    fk, fab = measures["fleetkit"].median, measures["fabric"].median
    print(
        f"\nfleetkit/fabric {fk / fab:.2f} (target <= 1.5), fleetkit/pyinfra "
        f"{fk / measures['pyinfra'].median:.2f} (target <= 1.0), ansible/fleetkit "
        f"{measures['ansible'].median / fk:.1f} (target >= 5)"
    )
    return {"hosts": n, "rounds": n_rounds, "tools": rows}


def memory(tmp: Path, sizes: tuple[int, int], n_rounds: int) -> dict[str, object]:
    fleetkit = which("fleetkit")
    peaks: dict[int, float] = {}
    for size in sizes:
        lab = ensure_lab(size, tmp / f"lab{size}.yml")
        m = Measure(f"fleetkit@{size}")
        argv = [fleetkit, "exec", "all", "-i", str(lab.inventory), "--", "uptime"]
        rounds(
            {m.name: m},
            {m.name: lambda argv=argv: run_timed(argv)},
            n_rounds,
        )
        peaks[size] = sorted(m.rss_kib)[len(m.rss_kib) // 2] / 1024
        print(f"{size} hosts: peak RSS {peaks[size]:.1f} MiB, median {m.median:.2f}s")
    lo, hi = sizes
    per_host = (peaks[hi] - peaks[lo]) / (hi - lo)
    print(f"peak RSS growth per host between {lo} and {hi} hosts: {per_host:.3f} MiB (target < 2)")
    return {"peak_rss_mib": peaks, "growth_mib_per_host": per_host}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="peak RSS at 50 and 200 hosts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fk-bench-") as d:
        tmp = Path(d)
        result: dict[str, object] = {"machine": machine()}
        if args.memory:
            result["memory"] = memory(tmp, (50, 200), args.rounds)
        else:
            lab = ensure_lab(args.hosts, tmp / "lab.yml")
            result["exec"] = compare(lab, args.rounds, tmp)
        result["machine"] = machine()
        print("results:", write_results("exec", result))


if __name__ == "__main__":
    main()
