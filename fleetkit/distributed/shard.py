"""Split a run's hosts into shards for Dask workers, honouring locality.

A worker started with Dask resources named `group-NAME` (for example
`dask worker tcp://sched:8786 --resources "group-dc1=1"`) serves the inventory
group NAME: it gets only shards of that group's hosts. A host goes to the first of
its groups (inventory order) that some worker serves; with no tagged worker at all,
every worker serves every host. Hosts that no worker serves are not sent anywhere:
the run reports them unreachable with a message saying so. Within a group the hosts
are split by a stable hash (Prometheus' hashmod of the host name) into one shard
per serving worker, so the same inventory always gives the same shards.

A shard may run on any worker that served its group when the run was planned (a
Dask worker restriction by address, not a resource unit): a shard of `run` that
waits at a play's gate holds no unit of the group, so when a worker is gone before
its shard starts and Dask gives that shard to another serving worker, it runs there
beside the waiting one instead of queueing behind it for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetkit.monitoring.shard import hashmod

RESOURCE_PREFIX = "group-"


@dataclass(frozen=True)
class WorkerInfo:
    """One Dask worker as the scheduler describes it: address, name, groups it serves."""

    address: str
    name: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_scheduler(cls, address: str, info: Mapping[str, Any]) -> WorkerInfo:
        resources = info.get("resources") or {}
        groups = frozenset(
            str(r)[len(RESOURCE_PREFIX) :]
            for r, amount in resources.items()
            if str(r).startswith(RESOURCE_PREFIX) and amount
        )
        return cls(address=address, name=str(info.get("name", "")), groups=groups)


@dataclass(frozen=True)
class ShardPlan:
    """One shard: its hosts, its group (None: untagged) and the workers it may run on
    (their addresses; empty: any worker)."""

    index: int
    hosts: tuple[str, ...]
    group: str | None = None
    workers: tuple[str, ...] = ()

    def can_run_on(self, worker: WorkerInfo) -> bool:
        if self.group is not None and self.group not in worker.groups:
            return False
        return not self.workers or worker.address in self.workers


@dataclass(frozen=True)
class Placement:
    """The shards to submit, and the hosts no worker serves (host -> why)."""

    shards: tuple[ShardPlan, ...]
    unplaced: Mapping[str, str]


def plan_shards(
    hosts: Sequence[str],
    host_groups: Mapping[str, Sequence[str]],
    workers: Sequence[WorkerInfo],
) -> Placement:
    """Shards for hosts over the connected workers (see the module docstring)."""
    if not workers:
        why = "no Dask worker is connected to the scheduler"
        return Placement((), dict.fromkeys(hosts, why))
    tagged = [w for w in workers if w.groups]
    untagged = tuple(sorted(w.address for w in workers if not w.groups))
    served = {g for w in tagged for g in w.groups}
    buckets: dict[str | None, list[str]] = {}
    unplaced: dict[str, str] = {}
    for host in hosts:
        groups = list(host_groups.get(host, ()))
        key = next((g for g in groups if g in served), None)
        if key is None and tagged and not untagged:
            shown = ", ".join(groups) or "no group"
            unplaced[host] = (
                f"no Dask worker serves this host's groups ({shown}):"
                f" start one with --resources '{RESOURCE_PREFIX}GROUP=1'"
            )
            continue
        buckets.setdefault(key, []).append(host)
    shards: list[ShardPlan] = []
    for key in sorted(buckets, key=lambda k: (k is None, k or "")):
        members = buckets[key]
        if key is None:
            n, restrict = len(untagged), (untagged if tagged else ())
        else:
            restrict = tuple(sorted(w.address for w in tagged if key in w.groups))
            n = len(restrict)
        parts: list[list[str]] = [[] for _ in range(n)]
        for host in members:
            parts[hashmod(host, n)].append(host)
        for part in parts:
            if part:
                shards.append(ShardPlan(len(shards), tuple(part), key, restrict))
    return Placement(tuple(shards), unplaced)
