"""Copy one 64 MB file to 20 hosts: SFTP put_file against the stdin `put` and OpenSSH scp.

Issue 9: large files go over SFTP on the run's own SSH connection (streamed in
chunks, atomic rename), not through the command's stdin with the whole file in
memory. Each round runs every tool once, in rotating order, each in a fresh
process that opens fresh connections (one per inventory name, as a run does):

  put_file  fleetkit SSHConnection.put_file (SFTP, pipelined 32 KiB writes)
  put       fleetkit Connection.put_file's default: put(read_bytes) = `cat > tmp` on stdin
  scp       OpenSSH scp, one process per target, all at once (reference)

The lab has 3 hosts; the 20 inventory names map onto them round-robin, each with
its own remote path, so each lab host receives 6-7 copies at once.

    .venv/bin/python bench/bench_transfer.py --rounds 3 [--put-rounds 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Lab, Measure, machine, read_lab, report, rounds, run_timed, write_results

INVENTORY = ROOT / "inventory" / "lab" / "hosts.yml"
REMOTE_DIR = "/tmp/fk-bench-transfer"

FLEETKIT_SCRIPT = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from fleetkit.connection.base import Connection
from fleetkit.executor.adhoc import connection_factory
from fleetkit.inventory.load import load_inventory
method, inventory, src, remote_dir = sys.argv[1:5]
inv = load_inventory(inventory)
names = list(inv.hosts)
factory = connection_factory(inv, names)
t0 = time.perf_counter()
conns = list(ThreadPoolExecutor(len(names)).map(lambda n: factory(n), names))
for c in ThreadPoolExecutor(len(names)).map(lambda c: (c.open(), c)[1], conns):
    pass
t1 = time.perf_counter()
def copy(pair):
    name, conn = pair
    target = f"{remote_dir}/{name}.bin"
    if method == "put_file":
        conn.put_file(Path(src), target, mode=0o644)
    else:  # the default every transport had: the bytes through put (stdin)
        Connection.put_file(conn, Path(src), target, mode=0o644)
list(ThreadPoolExecutor(len(names)).map(copy, zip(names, conns)))
t2 = time.perf_counter()
for c in conns:
    c.close()
factory.close()
print(json.dumps({"connect_s": t1 - t0, "transfer_s": t2 - t1}))
"""

SCP_SCRIPT = """
import json, subprocess, sys, time
src, remote_dir, user, key, known_hosts, *targets = sys.argv[1:]
t0 = time.perf_counter()
procs = []
for target in targets:
    name, address = target.split("=")
    procs.append(subprocess.Popen([
        "scp", "-q", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
        src, f"{user}@{address}:{remote_dir}/{name}.bin"]))
rcs = [p.wait() for p in procs]
print(json.dumps({"connect_s": None, "transfer_s": time.perf_counter() - t0}))
sys.exit(max(rcs))
"""


def targets(lab: Lab, n: int) -> list[tuple[str, str]]:
    """n inventory names mapped round-robin onto the lab's addresses."""
    return [(f"t{i + 1:02d}", lab.addresses[i % len(lab.addresses)]) for i in range(n)]


def bench_inventory(lab: Lab, names: list[tuple[str, str]], path: Path) -> Path:
    """The lab's inventory with the n bench names as hosts (same vars, user and key)."""
    data = yaml.safe_load(lab.inventory.read_text())
    path.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "vars": data["all"]["vars"],
                    "hosts": {name: {"ansible_host": address} for name, address in names},
                }
            }
        )
    )
    return path


def ssh(lab: Lab, address: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ssh",
            "-i",
            lab.key,
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={lab.known_hosts}",
            f"{lab.user}@{address}",
            command,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def verify(lab: Lab, remote_dir: str, names: list[tuple[str, str]], digest: str) -> int:
    """How many of the targets hold a file with the source's sha256."""
    good = 0
    for address in lab.addresses:
        mine = [n for n, a in names if a == address]
        paths = " ".join(shlex.quote(f"{remote_dir}/{n}.bin") for n in mine)
        out = ssh(lab, address, f"sha256sum {paths}").stdout
        good += sum(1 for line in out.splitlines() if line.split()[0] == digest)
    return good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--size-mb", type=int, default=64)
    parser.add_argument("--put-rounds", type=int, default=1, help="rounds that include put")
    args = parser.parse_args()

    lab = read_lab(INVENTORY)  # the shared lab as it is: never rebuilt here
    names = targets(lab, args.targets)
    tmp = Path(tempfile.mkdtemp(prefix="fk-bench-transfer-"))
    src = tmp / "payload.bin"
    with open(src, "wb") as out:
        for _ in range(args.size_mb):
            out.write(os.urandom(1 << 20))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    inventory = bench_inventory(lab, names, tmp / "hosts.yml")
    methods = ("put_file", "put", "scp")
    for address in lab.addresses:
        dirs = " ".join(f"{REMOTE_DIR}/{m}" for m in methods)
        assert ssh(lab, address, f"rm -rf {REMOTE_DIR} && mkdir -p {dirs}").returncode == 0

    argv: dict[str, list[str]] = {
        m: [sys.executable, "-c", FLEETKIT_SCRIPT, m, str(inventory), str(src), f"{REMOTE_DIR}/{m}"]
        for m in ("put_file", "put")
    }
    argv["scp"] = [
        sys.executable,
        "-c",
        SCP_SCRIPT,
        str(src),
        f"{REMOTE_DIR}/scp",
        lab.user,
        lab.key,
        lab.known_hosts,
        *(f"{n}={a}" for n, a in names),
    ]
    inner: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}

    def timed(method: str) -> tuple[float, int, int, str]:
        wall, rc, rss, output = run_timed(argv[method], cwd=ROOT)
        if rc == 0:
            inner[method].append(json.loads(output.strip().splitlines()[-1]))
        return wall, rc, rss, output

    print(
        f"{args.size_mb} MB random file to {args.targets} inventory names mapped onto"
        f" {len(lab.addresses)} lab hosts ({', '.join(lab.addresses)}), a distinct remote"
        f" path each; {args.rounds} rounds, fresh process and connections per run",
        file=sys.stderr,
    )
    measures = {m: Measure(m) for m in methods}
    try:
        commands = {m: (lambda m=m: timed(m)) for m in methods}  # type: ignore[misc]
        # The stdin put is quadratic in the file size (paramiko's Channel.sendall slices
        # the rest of the buffer after every 32 KiB packet): minutes per round at 64 MB.
        rounds(measures, commands, min(args.put_rounds, args.rounds))
        fast = {m: c for m, c in commands.items() if m != "put"}
        rounds(measures, fast, args.rounds - min(args.put_rounds, args.rounds))
        verified = {m: verify(lab, f"{REMOTE_DIR}/{m}", names, digest) for m in methods}
    finally:
        for address in lab.addresses:
            ssh(lab, address, f"rm -rf {REMOTE_DIR}")
        src.unlink()

    rows = report(measures, "put_file")
    total_mb = args.size_mb * args.targets
    print(f"\n{'tool':<12}{'transfer s':>11}{'MB/s':>9}  verified copies")
    for m in methods:
        transfer = statistics.median(r["transfer_s"] for r in inner[m]) if inner[m] else None
        rate = total_mb / transfer if transfer else float("nan")
        shown = f"{transfer:.2f}" if transfer is not None else "-"
        print(f"{m:<12}{shown:>11}{rate:>9.1f}  {verified[m]}/{args.targets}")
        rows[m]["median_transfer_s"] = transfer  # type: ignore[index]
        rows[m]["inner"] = inner[m]  # type: ignore[index]
        rows[m]["verified"] = verified[m]  # type: ignore[index]
    commands = {
        m: " ".join(shlex.quote(a) for a in v[:2]) + " <script> " + " ".join(v[3:7])
        for m, v in argv.items()
    }
    print("\ncommands:")
    for m, c in commands.items():
        print(f"  {m}: {c} ...")
    info = machine()
    print(f"machine: {info}")
    path = write_results(
        "transfer",
        {
            "machine": info,
            "size_mb": args.size_mb,
            "targets": args.targets,
            "lab_hosts": list(lab.addresses),
            "mapping": dict(names),
            "rounds": args.rounds,
            "results": rows,
            "scripts": {"fleetkit": FLEETKIT_SCRIPT, "scp": SCP_SCRIPT},
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
