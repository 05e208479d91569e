"""Swarm on the --docker lab: lab up -> converged 12 replicas, scale 3 -> 30 -> 3, API calls.

Measures (issue 4):
- the time from `fleetkit lab up --hosts 3 --docker` to a converged 12-replica
  service (lab up + bootstrap-swarm.yml + deploy.yml replicas=12), with --fresh
  (takes the lab down first: never on a lab shared with others);
- scale 3 -> 30 -> 3 through `fleetkit run playbooks/scale.yml` (wall time of
  the command), and the same waits through the library to count polls and API
  calls per convergence wait;
- the Docker API transport: fleetkit's tunnels over its own SSH connection
  (direct-streamlocal, docker system dial-stdio) against the SDK's own
  `ssh://` (paramiko, given a throwaway $HOME/.ssh with the lab's key and
  known_hosts): connect time and request latency.

    .venv/bin/python bench/bench_swarm.py [--fresh] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, ROOT, machine, write_results

FLEETKIT = str(BIN / "fleetkit")
SERVICE = "fkb-web"
INVENTORY = ROOT / "inventory" / "lab" / "hosts.yml"


def sh(*argv: str, check: bool = True) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - start
    if check and proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    return wall, proc.stdout


def play(playbook: str, *extra: str) -> float:
    args = [FLEETKIT, "run", str(ROOT / "playbooks" / playbook), "-i", str(INVENTORY)]
    for item in extra:
        args += ["-e", item]
    wall, _ = sh(*args, "-e", "swarm_progress=false")
    return wall


def swarm_state() -> str:
    _, out = sh(
        FLEETKIT,
        "exec",
        "managers[0]",
        "-i",
        str(INVENTORY),
        "--",
        "docker info --format '{{.Swarm.LocalNodeState}}'",
    )
    return next((ln.split("|", 1)[1].strip() for ln in out.splitlines() if "|" in ln), "")


def dissolve() -> None:
    for group in ("workers", "managers"):
        sh(
            FLEETKIT,
            "exec",
            group,
            "-i",
            str(INVENTORY),
            "--",
            "docker swarm leave --force || true",
        )


# 1. lab up -> converged 12 replicas ----------------------------------------------------------


def lab_to_service(fresh: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fresh:
        sh(FLEETKIT, "lab", "down")
        out["lab_up_s"], _ = sh(FLEETKIT, "lab", "up", "--hosts", "3", "--docker")
    else:
        out["lab_up_s"] = None  # a shared lab: not rebuilt (use --fresh on a lab of your own)
    if swarm_state() != "inactive":
        raise SystemExit("a swarm already runs on the lab: the bootstrap time would be wrong")
    out["bootstrap_s"] = play("bootstrap-swarm.yml")
    out["deploy_12_s"] = play(
        "deploy.yml", f"service={SERVICE}", "replicas=12", "update_monitor=2s"
    )
    steps = [out["bootstrap_s"], out["deploy_12_s"]]
    out["swarm_to_12_converged_s"] = sum(steps)
    if out["lab_up_s"] is not None:
        out["lab_up_to_12_converged_s"] = out["lab_up_s"] + sum(steps)
    return out


# 2. scale 3 -> 30 -> 3 --------------------------------------------------------------------------


def scale_rounds(n: int) -> dict[str, Any]:
    play("scale.yml", f"service={SERVICE}", "replicas=3")
    cli: dict[str, list[float]] = {"3->30": [], "30->3": []}
    for _ in range(n):
        cli["3->30"].append(play("scale.yml", f"service={SERVICE}", "replicas=30"))
        cli["30->3"].append(play("scale.yml", f"service={SERVICE}", "replicas=3"))
    waits = library_waits(n)
    return {
        "cli_wall_s": {k: {"median": statistics.median(v), "runs": v} for k, v in cli.items()},
        "library_waits": waits,
    }


def library_waits(n: int) -> dict[str, Any]:
    """The same scales through the library, to read each wait's polls and API calls."""
    from fleetkit.executor.adhoc import connection_factory
    from fleetkit.inventory.load import load_inventory
    from fleetkit.orchestrators.base import WaitOptions
    from fleetkit.orchestrators.swarm import SwarmOrchestrator
    from fleetkit.orchestrators.swarm_client import engine_for

    inventory = load_inventory(INVENTORY)
    manager = inventory.group_hosts("managers")[0]
    factory = connection_factory(inventory, [manager])
    conn = factory(manager)
    engine = engine_for(conn, host=manager)
    orch = SwarmOrchestrator(engine)
    rows: dict[str, list[dict[str, float]]] = {"3->30": [], "30->3": []}
    try:
        for _ in range(n):
            for label, replicas in (("3->30", 30), ("30->3", 3)):
                change = orch.scale(SERVICE, replicas, WaitOptions())
                assert change.wait is not None and change.wait.converged, change.message
                rows[label].append(
                    {
                        "wait_s": round(change.wait.elapsed_s, 3),
                        "polls": change.wait.polls,
                        "api_calls": change.wait.api_calls,
                    }
                )
    finally:
        engine.close()
        conn.close()
    return {
        label: {
            "median_wait_s": statistics.median(r["wait_s"] for r in runs),
            "median_polls": statistics.median(r["polls"] for r in runs),
            "median_api_calls": statistics.median(r["api_calls"] for r in runs),
            "runs": runs,
        }
        for label, runs in rows.items()
    }


# 3. transports ----------------------------------------------------------------------------------

TRANSPORT = """
import json, statistics, sys, time
import docker, paramiko, fabric  # imports are not part of the connect time
from fleetkit.inventory.load import load_inventory
from fleetkit.executor.adhoc import connection_factory
from fleetkit.orchestrators.swarm_client import engine_for
kind, address, user, inventory, host = sys.argv[1:6]
t0 = time.perf_counter()
if kind.startswith("sdk"):
    api = docker.APIClient(base_url=f"ssh://{user}@{address}", version="1.41",
                           use_ssh_client=kind == "sdk-ssh-client")
    api.ping()
    connect = time.perf_counter() - t0
    ssh_s = None
else:
    conn = connection_factory(load_inventory(inventory), [host])(host)
    conn.open()
    ssh_s = time.perf_counter() - t0
    api = engine_for(conn, host=host, tunnel=kind).api
    connect = time.perf_counter() - t0
lat = []
for _ in range(100):
    a = time.perf_counter(); api.ping(); lat.append(time.perf_counter() - a)
print(json.dumps({"connect_s": connect, "ssh_s": ssh_s, "ping_median_ms": 1000 * statistics.median(lat)}))
"""


def transports(rounds: int) -> dict[str, Any]:
    from fleetkit.inventory.load import load_inventory

    inventory = load_inventory(INVENTORY)
    host = inventory.group_hosts("workers")[0]
    hv = inventory.hosts[host].vars
    address, user = str(hv["ansible_host"]), str(hv["ansible_user"])
    home = Path(tempfile.mkdtemp(prefix="fk-bench-home-"))
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700)
    (ssh / "config").write_text(
        f"Host {address}\n  User {user}\n  IdentityFile {hv['ansible_ssh_private_key_file']}\n"
        f"  UserKnownHostsFile {hv['fleetkit_known_hosts']}\n  IdentitiesOnly yes\n"
    )
    (ssh / "known_hosts").write_text(Path(str(hv["fleetkit_known_hosts"])).read_text())
    env = {**os.environ, "HOME": str(home)}
    out: dict[str, Any] = {}
    # The SDK's shell-out mode (use_ssh_client=True) is not measured: OpenSSH reads
    # ~/.ssh from the passwd home, not $HOME, and the lab's key and known_hosts are
    # deliberately not in ~/.ssh -- which is the point against it for fleetkit.
    for kind in ("streamlocal", "dial-stdio", "sdk-paramiko"):
        runs = []
        for _ in range(rounds):
            proc = subprocess.run(
                [sys.executable, "-c", TRANSPORT, kind, address, user, str(INVENTORY), host],
                capture_output=True,
                text=True,
                env=env if kind.startswith("sdk") else None,
                check=False,
                cwd=ROOT,
            )
            if proc.returncode != 0:
                runs.append({"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]})
                break
            runs.append(json.loads(proc.stdout))
        ok = [r for r in runs if "error" not in r]
        out[kind] = {
            "connect_median_s": statistics.median(r["connect_s"] for r in ok) if ok else None,
            "ping_median_ms": statistics.median(r["ping_median_ms"] for r in ok) if ok else None,
            "runs": runs,
        }
        print(
            f"  {kind}: {out[kind]['connect_median_s']} s connect, "
            f"{out[kind]['ping_median_ms']} ms/ping",
            file=sys.stderr,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", action="store_true", help="lab down + lab up --docker first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the swarm and service up")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine()}
    try:
        print("lab up -> 12 converged replicas", file=sys.stderr)
        results["to_12_replicas"] = lab_to_service(args.fresh)
        print(json.dumps(results["to_12_replicas"]), file=sys.stderr)
        print("scale 3 -> 30 -> 3", file=sys.stderr)
        results["scale"] = scale_rounds(args.rounds)
        print(json.dumps(results["scale"]["cli_wall_s"]), file=sys.stderr)
        print("Docker API transports", file=sys.stderr)
        results["transports"] = transports(args.rounds)
    finally:
        if not args.keep:
            sh(
                FLEETKIT,
                "exec",
                "managers[0]",
                "-i",
                str(INVENTORY),
                "--",
                f"docker service rm {SERVICE} >/dev/null 2>&1 || true",
                check=False,
            )
            dissolve()
    path = write_results("swarm", results)
    summary = {
        "lab_up_to_12_s": results["to_12_replicas"].get("lab_up_to_12_converged_s"),
        "swarm_bootstrap_plus_deploy_12_s": results["to_12_replicas"]["swarm_to_12_converged_s"],
        "scale_cli_median_s": {k: v["median"] for k, v in results["scale"]["cli_wall_s"].items()},
        "api_calls_per_wait": {
            k: v["median_api_calls"] for k, v in results["scale"]["library_waits"].items()
        },
    }
    print(json.dumps(summary, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
