"""The exporter's costs: cycle time and controller CPU per host over warm connections on
the lab, /metrics scrape time for a 200-host snapshot, and exporter memory at 200 hosts.

Targets (issue 5): a cycle of 50 hosts under 1 s of wall time and under 5 ms of
controller CPU per host over warm connections; a scrape of 200 hosts' snapshot
under 50 ms; exporter memory under 100 MB at 200 hosts. Anchor: node_exporter
needs an agent per host; our cost is one SSH round trip per host per interval.

    .venv/bin/python bench/bench_exporter.py                    # the lab that is up
    .venv/bin/python bench/bench_exporter.py --ensure-lab 50    # bring up 50 hosts first
    .venv/bin/python bench/bench_exporter.py --no-lab           # synthetic parts only

Each part runs in its own child process so peak RSS figures are the exporter's own.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_lab(
    inventory: str, cycles: int, docker: bool = True, docker_api: bool = True
) -> dict[str, Any]:
    """Warm cycles over the real lab: wall time and controller CPU per host.

    docker_api=False asks Docker through the CLI in the probe (`docker ps` + `docker
    inspect`) instead of the Engine API over the SSH connection (--docker-path).

    docker=False sends the probe as hosts without Docker see it (the docker section
    answers `!absent` at once), to separate our cost from the docker CLI's on hosts
    that all share this machine's CPUs.
    """
    from fleetkit.monitoring import probe

    if not docker:
        probe.BASE_SCRIPT = probe.BASE_SCRIPT.split(f"echo '{probe.MARK}docker'")[0] + (
            f"echo '{probe.MARK}docker'\necho '!absent'\n"
        )
    from fleetkit.inventory.load import load_inventory
    from fleetkit.monitoring.cycle import Collection, Targets, open_pool
    from fleetkit.monitoring.exporter import MetricsCache

    inv = load_inventory(inventory)
    hosts = tuple(inv.hosts)
    with open_pool(inv, hosts, timeout=10.0) as pool:
        coll = Collection(
            Targets.from_inventory(inv, hosts), pool, timeout=10.0, docker_api=docker_api
        )
        cache = MetricsCache(lambda: coll.latest)
        t0 = time.perf_counter()
        first = coll.cycle()
        cold = time.perf_counter() - t0
        walls: list[float] = []
        cpu0 = time.process_time()
        for _ in range(cycles):
            t0 = time.perf_counter()
            snap = coll.cycle()
            cache.prewarm()
            walls.append(time.perf_counter() - t0)
        cpu = time.process_time() - cpu0
    up = sum(1 for h in snap.hosts if h.up)
    return {
        "docker_path": "api" if docker_api else "cli",
        "containers_seen": sum(len(h.containers or ()) for h in snap.hosts),
        "hosts": len(hosts),
        "hosts_up": up,
        "first_cycle_connect_s": round(cold, 4),
        "first_cycle_up": sum(1 for h in first.hosts if h.up),
        "warm_cycle_median_s": round(statistics.median(walls), 4),
        "warm_cycle_max_s": round(max(walls), 4),
        "controller_cpu_ms_per_host": round(1000 * cpu / (cycles * len(hosts)), 3),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def _sample_host() -> Any:
    """One real host snapshot: this machine probed through a local shell."""
    from fleetkit.connection.local import LocalConnection
    from fleetkit.monitoring.probe import parse_probe, probe_script

    out = LocalConnection("here").run(probe_script(), timeout=30).stdout
    return out, parse_probe("here", out, now=time.time()).host


def synthetic_fleet(n: int, containers: int = 10) -> Any:
    """n hosts like this machine, each with `containers` containers, plus a swarm."""
    from fleetkit.monitoring.snapshot import (
        Container,
        FleetSnapshot,
        NetDevice,
        SwarmNode,
        SwarmService,
        SwarmSnapshot,
    )

    _, base = _sample_host()
    hosts = []
    for i in range(n):
        hosts.append(
            replace(
                base,
                host=f"host{i:03d}",
                groups=("web",) if i % 2 else ("db",),
                network=(*base.network, NetDevice("eth1", i, 2 * i)),
                containers=tuple(
                    Container(
                        f"{i:04d}{j:060d}",
                        f"web.{j}.{i:025d}",
                        "registry.example.com/web:v1",
                        "running",
                        j % 3,
                        ("healthy", "none", "unhealthy")[j % 3],
                        12.5 + j,
                        (50 + j) << 20,
                    )
                    for j in range(containers)
                ),
            )
        )
    return FleetSnapshot(
        hosts=tuple(hosts),
        swarm=SwarmSnapshot(
            "host000",
            nodes=tuple(SwarmNode(f"host{i:03d}", "worker", "active", True) for i in range(n)),
            services=tuple(SwarmService(f"svc{k}", "replicated", 10, 10) for k in range(20)),
        ),
        cycle=1,
        cycle_duration_s=0.5,
        timestamp=time.time(),
    )


def child_scrape(n: int) -> dict[str, Any]:
    """Render and serve a synthetic n-host snapshot; time renders and HTTP scrapes."""
    from fleetkit.monitoring import web
    from fleetkit.monitoring.exporter import OPENMETRICS_ACCEPT, MetricsCache

    snap = synthetic_fleet(n)
    holder = [snap]
    cache = MetricsCache(lambda: holder[0])
    renders = []
    for k in range(5):
        holder[0] = replace(snap, cycle=k + 2)  # a new snapshot: render from scratch
        t0 = time.perf_counter()
        body, _ = cache.render("")
        renders.append(time.perf_counter() - t0)
    cache.render(OPENMETRICS_ACCEPT)  # scrapers have asked for both formats before
    holder[0] = replace(snap, cycle=100)  # the next cycle ends: prewarm, then scrapes
    cache.prewarm()
    app = web.MetricsApp(cache.render, ready=lambda: True)
    server = web.serve(app, "127.0.0.1", 0)
    scrapes = []
    try:
        for accept in ("text/plain", OPENMETRICS_ACCEPT) * 10:
            request = urllib.request.Request(server.url, headers={"Accept": accept})
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as resp:
                resp.read()
            scrapes.append(time.perf_counter() - t0)
    finally:
        server.shutdown()
    return {
        "hosts": n,
        "samples": body.count(b"\n") - body.count(b"\n#"),
        "bytes": len(body),
        "render_per_cycle_median_ms": round(1000 * statistics.median(renders), 2),
        "http_scrape_median_ms": round(1000 * statistics.median(scrapes), 2),
        "http_scrape_max_ms": round(1000 * max(scrapes), 2),
    }


def child_rss(n: int, cycles: int) -> dict[str, Any]:
    """The exporter's memory at n hosts: a HostPool of n fake connections answering this
    machine's real probe output (10 containers each), cycles, prewarm and a scrape.

    SSH transports are not included (a fake answers); the lab part measures those.
    """
    from fleetkit.connection.base import CommandResult
    from fleetkit.executor.pool import HostPool
    from fleetkit.monitoring import web
    from fleetkit.monitoring.cycle import Collection, Targets
    from fleetkit.monitoring.exporter import MetricsCache
    from fleetkit.testing.fake_connection import FakeCall, FakeConnection

    out, _ = _sample_host()
    docker = "".join(
        f"C|{j:064d}|/web.{j}.x|registry.example.com/web:v1|running|{j}|none|0\n" for j in range(10)
    )
    text = out.replace("@@fk@@ docker\n!absent\n", "@@fk@@ docker\n" + docker)

    def answer(call: FakeCall) -> CommandResult:
        return CommandResult(0, text, "", 0.0)

    conns = {f"host{i:03d}": FakeConnection(f"host{i:03d}", answer) for i in range(n)}
    pool = HostPool(lambda h: conns[h], n)
    coll = Collection(Targets(hosts=tuple(conns)), pool)
    cache = MetricsCache(lambda: coll.latest)
    app = web.MetricsApp(cache.render, ready=lambda: True)
    server = web.serve(app, "127.0.0.1", 0)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(cycles):
        coll.cycle()
        cache.prewarm()
    wall = (time.perf_counter() - t0) / cycles
    cpu = time.process_time() - cpu0
    with urllib.request.urlopen(server.url, timeout=10) as resp:
        size = len(resp.read())
    server.shutdown()
    pool.close()
    return {
        "hosts": n,
        "threads_peak": threading.active_count(),
        "metrics_bytes": size,
        "cycle_s_without_network": round(wall, 4),
        "parse_cpu_ms_per_host": round(1000 * cpu / (cycles * n), 3),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def spread_inventory(inventory: Path, n: int) -> Path:
    """An inventory of n hosts whose addresses cycle over the lab's: n real SSH connections
    and probes (the controller's cost per host) without bringing up a bigger lab."""
    import tempfile

    import yaml

    data = yaml.safe_load(inventory.read_text())
    addresses: list[str] = []

    def walk(group: dict[str, Any]) -> None:
        for hv in (group.get("hosts") or {}).values():
            addresses.append((hv or {})["ansible_host"])
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(data["all"])
    hosts = {f"spread{i:03d}": {"ansible_host": addresses[i % len(addresses)]} for i in range(n)}
    out = {"all": {"vars": data["all"]["vars"], "hosts": hosts}}
    path = Path(tempfile.mkdtemp(prefix="fk-bench-")) / "hosts.yml"
    path.write_text(yaml.safe_dump(out))
    return path


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default=str(ROOT / "inventory" / "lab" / "hosts.yml"))
    parser.add_argument("--ensure-lab", type=int, default=0, metavar="N", help="lab up N hosts")
    parser.add_argument("--no-lab", action="store_true", help="synthetic parts only")
    parser.add_argument(
        "--spread",
        type=int,
        default=0,
        metavar="N",
        help="N inventory hosts spread over the lab's hosts (N SSH connections, same sshds)",
    )
    parser.add_argument(
        "--probe-without-docker-only",
        action="store_true",
        help="lab part: only the probe as on hosts without Docker (lighter on a shared lab)",
    )
    parser.add_argument(
        "--docker-path",
        choices=("api", "cli", "both"),
        default="api",
        help="lab part: Docker through the Engine API (default), the CLI, or both side by side",
    )
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--synthetic-hosts", type=int, default=200)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "lab":
            api = len(rest) < 4 or rest[3] == "api"
            result = child_lab(rest[0], int(rest[1]), docker=rest[2] == "docker", docker_api=api)
        elif kind == "scrape":
            result = child_scrape(int(rest[0]))
        else:
            result = child_rss(int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return

    from common import ensure_lab, machine, write_results

    results: dict[str, Any] = {"machine": machine()}
    if args.ensure_lab:
        ensure_lab(args.ensure_lab, Path(args.inventory))
    if not args.no_lab and Path(args.inventory).exists():
        inventory = args.inventory
        if args.spread:
            inventory = str(spread_inventory(Path(args.inventory), args.spread))
            results["spread_over_lab_hosts"] = args.spread
        paths = ("api", "cli") if args.docker_path == "both" else (args.docker_path,)
        variants = [("lab" if p == "api" else f"lab_docker_{p}", "docker", p) for p in paths] + [
            ("lab_probe_without_docker", "nodocker", "cli")
        ]
        for key, docker, path in variants[-1:] if args.probe_without_docker_only else variants:
            results[key] = lab = run_child("lab", inventory, str(args.cycles), docker, path)
            print(
                f"{key} (docker {lab['docker_path']}, {lab['containers_seen']} containers):"
                f" {lab['hosts']} hosts ({lab['hosts_up']} up): warm cycle median"
                f" {lab['warm_cycle_median_s'] * 1000:.0f} ms"
                f" (max {lab['warm_cycle_max_s'] * 1000:.0f}),"
                f" controller CPU {lab['controller_cpu_ms_per_host']:.2f} ms/host,"
                f" first cycle (connect) {lab['first_cycle_connect_s']:.2f} s,"
                f" peak RSS {lab['peak_rss_mib']:.0f} MiB"
            )
    n = args.synthetic_hosts
    results["scrape"] = run_child("scrape", str(n))
    s = results["scrape"]
    print(
        f"scrape: {n} hosts, {s['samples']} samples, {s['bytes'] // 1024} KiB: HTTP scrape median"
        f" {s['http_scrape_median_ms']:.2f} ms (max {s['http_scrape_max_ms']:.2f});"
        f" render once per cycle {s['render_per_cycle_median_ms']:.0f} ms"
    )
    results["rss"] = run_child("rss", str(n), "5")
    r = results["rss"]
    print(
        f"memory: {n} hosts (fake transport, real probe output): peak RSS"
        f" {r['peak_rss_mib']:.0f} MiB, {r['threads_peak']} threads, parse+render CPU"
        f" {r['parse_cpu_ms_per_host']:.2f} ms/host"
    )
    print(f"results: {write_results('exporter', results)}")


if __name__ == "__main__":
    main()
