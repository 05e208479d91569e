"""`fleetkit health --cluster`: the health cycle of each shard on a Dask worker.

The client resolves everything inventory-dependent first (which container rules and
command checks apply to which host, groups, swarm managers), so a worker needs only
ConnectionSpecs. Each worker runs the exporter's Collection cycle, the extra commands
and the verdicts (fleetkit.monitoring.health) over its shard; shard 0 also reads the
swarm (from the whole selection's managers), so swarm checks appear once. Health
output is not streamed (it prints at the end), so the client gathers shard futures.
A shard whose worker is lost gives its hosts a failed `reachable` check with msg
"state unknown: worker lost"; testinfra files are refused with --cluster.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fleetkit.connection.spec import ConnectionSpec
from fleetkit.distributed.client import NO_WORKER_LEFT, WORKER_LOST, connect, workers_of
from fleetkit.distributed.dask_api import dask
from fleetkit.distributed.shard import ShardPlan, plan_shards
from fleetkit.errors import ClusterError, UsageError
from fleetkit.inventory.model import Inventory
from fleetkit.monitoring.checks import CommandCheck, HealthConfig
from fleetkit.monitoring.health import CheckResult, HealthReport

CHECK_EVERY_S = 0.25


@dataclass(frozen=True)
class HealthShardJob:
    """One shard's health cycle, with every inventory decision already made."""

    run_id: str
    index: int
    hosts: tuple[str, ...]
    specs: Mapping[str, ConnectionSpec]
    groups: Mapping[str, tuple[str, ...]]
    managers: tuple[str, ...]
    k8s_servers: tuple[str, ...]
    config: HealthConfig
    container_rules: Mapping[str, list[str]]
    commands: Mapping[str, list[CommandCheck]]
    timeout: float


def claim_name(run_id: str, index: int) -> str:
    """The scheduler-side name a health shard claims itself under (see worker_task.claim)."""
    return f"fleetkit-{run_id}-health-{index}-claimed"


def run_health_shard(job: HealthShardJob) -> list[CheckResult]:
    """On the worker: one collection cycle, the extra commands and the verdicts."""
    from fleetkit.connection.factory import ConnectionFactory
    from fleetkit.distributed.worker_safety import stop_thread_profiler
    from fleetkit.distributed.worker_task import claim
    from fleetkit.executor.pool import HostPool, default_forks
    from fleetkit.monitoring.cycle import Collection, Targets
    from fleetkit.monitoring.health import evaluate, run_commands

    distributed = dask()
    if not claim(claim_name(job.run_id, job.index), distributed.get_client()):
        raise RuntimeError(f"health shard {job.index} started again: not re-run")
    stop_thread_profiler(distributed.get_worker())  # before any SSH thread (worker_safety)
    capped = {
        h: replace(s, connect_timeout=min(s.connect_timeout, job.timeout))
        for h, s in job.specs.items()
    }
    targets = Targets(
        hosts=job.hosts,
        groups=dict(job.groups),
        managers=job.managers,
        k8s_servers=job.k8s_servers,
    )
    with HostPool(ConnectionFactory(capped), default_forks(len(capped))) as pool:
        snap = Collection(targets, pool, timeout=job.timeout).cycle()
        up = {h.host for h in snap.hosts if h.up}
        plan = {h: c for h, c in job.commands.items() if h in up and c}
        outcomes = run_commands(pool, plan)
    return evaluate(snap, targets, job.config, job.container_rules, job.commands, outcomes)


def run_health_on_cluster(
    address: str,
    inventory: Inventory,
    hosts: Sequence[str],
    config: HealthConfig,
    *,
    timeout: float = 10.0,
    client_factory: Callable[[str], Any] = connect,
) -> HealthReport:
    """Health over the cluster's workers; the report is what a local run would give."""
    import uuid

    from fleetkit.executor.adhoc import connection_factory
    from fleetkit.monitoring.cycle import Targets
    from fleetkit.monitoring.health import per_host_checks

    if config.testinfra:
        raise UsageError("testinfra checks cannot run with --cluster (run them without it)")
    start = time.monotonic()
    container_rules, commands = per_host_checks(inventory, config, hosts)
    whole = Targets.from_inventory(inventory, hosts)
    cluster_hosts = [*whole.managers, *whole.k8s_servers]
    factory = connection_factory(inventory, list(dict.fromkeys([*hosts, *cluster_hosts])))
    groups = {h: inventory.hosts[h].groups for h in hosts}
    client = client_factory(address)
    run_id = uuid.uuid4().hex[:16]
    futures: dict[int, Any] = {}
    try:
        try:
            placement = plan_shards(hosts, groups, workers_of(client))
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"the Dask scheduler at {address} did not answer: {err}") from err
        for shard in placement.shards:
            first = shard.index == 0
            members = [*shard.hosts, *(cluster_hosts if first else [])]
            job = HealthShardJob(
                run_id=run_id,
                index=shard.index,
                hosts=shard.hosts,
                specs={h: factory.spec(h) for h in dict.fromkeys(members)},
                groups={h: groups[h] for h in shard.hosts},
                managers=whole.managers if first else (),
                k8s_servers=whole.k8s_servers if first else (),
                config=config if first else replace(config, services=()),
                container_rules={h: container_rules[h] for h in shard.hosts},
                commands={h: commands[h] for h in shard.hosts},
                timeout=timeout,
            )
            futures[shard.index] = client.submit(
                run_health_shard,
                job,
                key=f"fleetkit-{run_id}-health-{shard.index}",
                pure=False,
                retries=0,
                workers=list(shard.workers) or None,
                allow_other_workers=False,
            )
        by_shard = _gather(client, futures, {s.index: s for s in placement.shards})
    finally:
        for index in futures:  # release the claims on the scheduler (best effort)
            with contextlib.suppress(Exception):
                dask().Event(claim_name(run_id, index), client=client).clear()
        client.close(timeout=5)
    results = _ordered(hosts, placement.unplaced, by_shard)
    return HealthReport(
        results=tuple(results),
        hosts=tuple(hosts),
        duration_s=time.monotonic() - start,
        timestamp=time.time(),
    )


def _gather(
    client: Any, futures: Mapping[int, Any], shards: Mapping[int, ShardPlan]
) -> dict[int, list[CheckResult]]:
    """Each shard's verdicts; a lost shard's hosts get a failed `reachable` check."""
    out: dict[int, list[CheckResult]] = {}
    where: dict[int, str] = {}
    while len(out) < len(futures):
        try:
            live = workers_of(client)
            processing = client.processing()
        except (OSError, TimeoutError):
            lost = "state unknown: scheduler lost"
            for index in futures:
                out.setdefault(index, _lost(shards[index], lost))
            break
        addresses = {w.address for w in live}
        for index, future in futures.items():
            if index in out:
                continue
            for addr, keys in processing.items():
                if future.key in keys:
                    where[index] = addr
            if future.status == "finished":
                out[index] = list(future.result())
            elif future.status in ("error", "lost", "cancelled"):
                out[index] = _lost(shards[index], WORKER_LOST)
            elif index in where and where[index] not in addresses:
                future.cancel()
                out[index] = _lost(shards[index], WORKER_LOST)
            elif not any(shards[index].can_run_on(w) for w in live):
                future.cancel()
                out[index] = _lost(shards[index], NO_WORKER_LEFT)
        if len(out) < len(futures):
            time.sleep(CHECK_EVERY_S)
    return out


def _lost(shard: ShardPlan, msg: str) -> list[CheckResult]:
    return [CheckResult(h, "reachable", False, msg) for h in shard.hosts]


def _ordered(
    hosts: Sequence[str], unplaced: Mapping[str, str], by_shard: Mapping[int, list[CheckResult]]
) -> list[CheckResult]:
    """Host verdicts in selection order (as a local run lists them), cluster checks last."""
    per_host: dict[str, list[CheckResult]] = {h: [] for h in hosts}
    cluster: list[CheckResult] = []
    for h, why in unplaced.items():
        per_host[h].append(CheckResult(h, "reachable", False, why))
    for index in sorted(by_shard):
        for r in by_shard[index]:
            if r.check == "swarm" or r.check.startswith("service:") or r.host not in per_host:
                cluster.append(r)
            else:
                per_host[r.host].append(r)
    return [r for h in hosts for r in per_host[h]] + cluster
