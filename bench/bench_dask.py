"""`fleetkit exec -- true` (or `run` of a 10-task playbook) locally versus across two
Dask workers, on the same 2 cores.

    .venv/bin/python bench/bench_dask.py --hosts 50 --rounds 7
    .venv/bin/python bench/bench_dask.py --memory --sizes 50,200,500 --rounds 3
    .venv/bin/python bench/bench_dask.py --playbook --memory --sizes 50,200 --rounds 2

`--playbook`: `fleetkit run` of bench/bench_playbook.py's playbook (10 shell tasks,
no facts) instead of exec; the cluster form is `run --cluster`.

Hosts are inventory names over the 3 lab hosts (tests/lab_aliases.py); the scheduler
listens on the lab bridge and each worker runs inside a lab host's network namespace
(tests/dask_lab.py), untagged, so the hosts are split between them by hash. Each
round runs both forms once, in rotating order. Measured: wall time of the client
process (start-up included), its peak RSS and CPU, the workers' CPU and RSS. The
per-host figures give a linear projection to 10,000 and 100,000 hosts, printed and
labelled as a projection: nothing here ran that many hosts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine, write_results  # noqa: E402
from tests.dask_lab import DaskLab, dask_lab  # noqa: E402
from tests.lab_aliases import alias_inventory  # noqa: E402

FLEETKIT = str(Path(sys.executable).with_name("fleetkit"))
LAB_INVENTORY = ROOT / "inventory" / "lab" / "hosts.yml"


def run_client(argv: list[str], cwd: Path) -> dict[str, float]:
    """Run the CLI; wall seconds, exit code, peak RSS MiB and CPU seconds of that process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            out.seek(0)
            print(out.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return {
        "wall_s": wall,
        "rc": rc,
        "rss_mib": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def workers_usage(dl: DaskLab) -> dict[str, float]:
    cpu = rss = 0.0
    for proc in dl.workers.values():
        p = psutil.Process(proc.pid)
        times = p.cpu_times()
        cpu += times.user + times.system
        rss += p.memory_info().rss / 2**20
    return {"cpu_s": cpu, "rss_mib": rss}


def forms_for(dl: DaskLab, tmp: Path, inv: Path, playbook: bool) -> dict[str, list[str]]:
    if playbook:
        from bench.bench_playbook import playbook_yaml

        book = tmp / "bench.yml"
        book.write_text(playbook_yaml())
        base = [FLEETKIT, "run", str(book), "-i", str(inv), "--json"]
        return {"local": base, "cluster": [*base, "--cluster", dl.address]}
    base = [FLEETKIT, "exec", "all", "-i", str(inv), "--json"]
    return {
        "local": [*base, "--", "true"],
        "cluster": [*base, "--cluster", dl.address, "--", "true"],
    }


def one_size(
    dl: DaskLab, tmp: Path, n_hosts: int, n_rounds: int, playbook: bool = False
) -> dict[str, Any]:
    inv = tmp / f"hosts-{n_hosts}.yml"
    alias_inventory(LAB_INVENTORY, inv, n_hosts)
    forms = forms_for(dl, tmp, inv, playbook)
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in forms}
    worker_cpu: list[float] = []
    run_cluster = forms["cluster"]
    run_client(run_cluster, tmp)  # warm the workers (imports) before measuring
    for i in range(n_rounds):
        order = list(forms) if i % 2 == 0 else list(reversed(forms))
        for name in order:
            before = workers_usage(dl)
            got = run_client(forms[name], tmp)
            if name == "cluster":
                worker_cpu.append(workers_usage(dl)["cpu_s"] - before["cpu_s"])
            runs[name].append(got)
        print(
            f"  {n_hosts} hosts round {i + 1}/{n_rounds}: "
            + ", ".join(f"{k} {runs[k][-1]['wall_s']:.2f}s" for k in forms),
            file=sys.stderr,
        )

    def med(name: str, key: str) -> float:
        ok = [r[key] for r in runs[name] if r["rc"] == 0]
        return statistics.median(ok) if ok else float("nan")

    out: dict[str, Any] = {"hosts": n_hosts, "form": "run" if playbook else "exec"}
    for name in forms:
        out[name] = {k: med(name, k) for k in ("wall_s", "rss_mib", "cpu_s")}
        out[name]["failures"] = sum(1 for r in runs[name] if r["rc"] != 0)
        out[name]["every_wall_s"] = [round(r["wall_s"], 2) for r in runs[name]]
    out["cluster"]["workers_cpu_s"] = statistics.median(worker_cpu)
    out["cluster"]["workers_rss_mib_after"] = workers_usage(dl)["rss_mib"]
    out["wall_ratio_cluster_to_local"] = out["cluster"]["wall_s"] / out["local"]["wall_s"]
    return out


def slope(points: list[tuple[int, float]]) -> float:
    (n0, y0), (n1, y1) = points[0], points[-1]
    return (y1 - y0) / (n1 - n0) if n1 != n0 else float("nan")


def projection(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Linear per-host figures from the smallest to the largest size, extended (a projection)."""
    c = "cluster"
    rss = [(s["hosts"], s[c]["rss_mib"]) for s in sizes]
    cpu = [(s["hosts"], s[c]["cpu_s"]) for s in sizes]
    wcpu = [(s["hosts"], s[c]["workers_cpu_s"]) for s in sizes]
    local_rss = [(s["hosts"], s["local"]["rss_mib"]) for s in sizes]
    per_host = {
        "client_rss_mib_per_host": slope(rss),
        "client_cpu_ms_per_host": slope(cpu) * 1000,
        "workers_cpu_ms_per_host": slope(wcpu) * 1000,
        "local_rss_mib_per_host": slope(local_rss),
    }
    n0, r0 = rss[0]
    out: dict[str, Any] = {"label": "PROJECTION (linear, not measured)", **per_host}
    for n in (10_000, 100_000):
        out[str(n)] = {
            "client_rss_mib": r0 + per_host["client_rss_mib_per_host"] * (n - n0),
            "client_cpu_s": cpu[0][1] + slope(cpu) * (n - n0),
            "workers_cpu_s_total": wcpu[0][1] + slope(wcpu) * (n - n0),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--memory", action="store_true", help="several sizes + projection")
    parser.add_argument("--sizes", default="50,200,500")
    parser.add_argument("--playbook", action="store_true", help="run a 10-task playbook")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.memory else [args.hosts]
    workers = {"wa": ("fleetkit-lab2", ""), "wb": ("fleetkit-lab3", "")}
    with tempfile.TemporaryDirectory() as d, dask_lab(Path(d), workers) as dl:
        results = [one_size(dl, Path(d), n, args.rounds, args.playbook) for n in sizes]
    data: dict[str, Any] = {"machine": machine(), "sizes": results}
    for r in results:
        print(
            f"{r['hosts']:>6} hosts: local {r['local']['wall_s']:.2f}s"
            f" ({r['local']['rss_mib']:.0f} MiB), cluster {r['cluster']['wall_s']:.2f}s"
            f" (client {r['cluster']['rss_mib']:.0f} MiB, {r['cluster']['cpu_s']:.2f}s CPU;"
            f" workers {r['cluster']['workers_cpu_s']:.2f}s CPU)"
            f" -> ratio {r['wall_ratio_cluster_to_local']:.2f}"
        )
    if len(results) > 1:
        data["projection"] = projection(results)
        print(data["projection"])
    print(write_results("dask", data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
