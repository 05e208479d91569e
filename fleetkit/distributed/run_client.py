"""The Dask client side of `fleetkit run --cluster`: shard the hosts, submit, merge, account.

The CLI has prepared (validated) the run and fleetkit.distributed.shardable has
accepted it. Every host of the playbook goes to one shard, by the stable hash and
locality rules exec uses (fleetkit.distributed.shard), for every play it is in, so
its registered values and facts stay with it from play to play; a shard runs the
plays in order on its hosts (each play's hosts in the play's order) as one Dask
task (fleetkit.distributed.run_worker). Events stream back on the run's Queue and
are merged (fleetkit.distributed.merge) into what a local run reports. Plays stay in
order across the fleet (PlayGate): a shard starts play p only once every shard has
finished the plays before it.

Faults, as for exec: a shard whose worker is lost, refuses a second start or stops
early has each host whose state is unknown reported `unreachable` with WORKER_LOST
(in the retry file); a scheduler that goes away concludes every open shard with
SCHEDULER_LOST and one warning; Ctrl-C stops every shard and reports what came.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fleetkit.distributed.client import (
    WORKER_LOST,
    cancel,
    connect,
    release,
    scheduler_lost_warning,
    stream_shards,
    workers_of,
)
from fleetkit.distributed.dask_api import cloudpickle, dask
from fleetkit.distributed.job import DONE, REFUSED, STARTED, queue_name, stop_name
from fleetkit.distributed.merge import Merger, PlayInfo
from fleetkit.distributed.run_job import (
    EVENTS,
    PLAY,
    UNUSABLE,
    PlaybookShardJob,
    RunPayload,
    gate_name,
)
from fleetkit.distributed.shard import Placement, ShardPlan, plan_shards
from fleetkit.errors import ClusterError
from fleetkit.playbook.session import ConnectionMaker, Prepared
from fleetkit.playbook.strategy import RunOptions, ordered
from fleetkit.report.base import Reporter
from fleetkit.results import RunResult

UNPLACED = -1  # the merger's stream of hosts no worker serves


class PlayGate:
    """Plays in order across the fleet: play p opens once every open shard has finished
    the plays before it (it waits at p or later, or is done), as a local run starts a
    play when the previous one has ended on every host."""

    def __init__(self, first: Mapping[int, int], plays: int, open_gate: Callable[[int], None]):
        self.ready = dict(first)
        """Shard -> the lowest play it may still run (its first, then the one it reached)."""
        self.opened = -1
        self._last = plays - 1
        self._open_gate = open_gate
        self._update()

    def reached(self, index: int, play: int) -> None:
        if index in self.ready:
            self.ready[index] = max(self.ready[index], play)
            self._update()

    def finished(self, index: int) -> None:
        self.ready.pop(index, None)
        self._update()

    def _update(self) -> None:
        target = min(min(self.ready.values(), default=self._last), self._last)
        while self.opened < target:
            self.opened += 1
            with contextlib.suppress(OSError, TimeoutError):  # a lost scheduler: seen next
                self._open_gate(self.opened)


class _RunTracker:
    """Shard messages into the merger and the play gate; each shard concluded once (see
    ShardTracker)."""

    def __init__(self, merger: Merger, placement: Placement, gate: PlayGate) -> None:
        self.merger = merger
        self.gate = gate
        self.shards = {s.index: s for s in placement.shards}
        self.open = set(self.shards)
        self.started: dict[int, str] = {}
        self.finished_at: dict[int, float] = {}

    def handle(self, message: Any) -> None:
        kind, index, payload = message
        if index not in self.open:
            return  # a concluded shard: late messages are dropped, never reported twice
        if kind == STARTED:
            self.started[index] = str(payload[0])
        elif kind == EVENTS:
            self.merger.feed(index, payload)
            for event in payload:
                if event[0] == PLAY:
                    self.gate.reached(index, int(event[1]))
        elif kind == DONE:
            _, interrupted = payload
            if interrupted:  # stopped on its worker (the worker was shutting down)
                self.conclude(index, WORKER_LOST)
            else:
                self.open.discard(index)
                self.merger.finish(index)
                self.gate.finished(index)
        elif kind == REFUSED:
            self.conclude(index, WORKER_LOST)
        elif kind == UNUSABLE:
            self.conclude(index, str(payload))

    def conclude(self, index: int, msg: str) -> None:
        if index in self.open:
            self.open.discard(index)
            self.merger.lose(index, msg)
            self.gate.finished(index)


def run_playbook_on_cluster(
    prepared: Prepared,
    reporter: Reporter,
    address: str,
    *,
    client_factory: Callable[[str], Any] = connect,
    connect_host: ConnectionMaker | None = None,
) -> RunResult:
    """Run the prepared playbook through the cluster at address, reporting as a local run.

    connect_host replaces how workers connect to hosts (a picklable fake, for tests).
    """
    client = client_factory(address)
    start = time.monotonic()
    try:
        return _run(client, prepared, reporter, address, start, connect_host)
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)


def _run(
    client: Any,
    prepared: Prepared,
    reporter: Reporter,
    address: str,
    start: float,
    connect_host: ConnectionMaker | None,
) -> RunResult:
    distributed = dask()
    hosts = prepared.hosts
    inventory = prepared.inventory
    groups = {h: inventory.hosts[h].groups if h in inventory.hosts else () for h in hosts}
    try:
        placement = plan_shards(hosts, groups, workers_of(client))
    except (OSError, TimeoutError) as err:
        raise ClusterError(f"the Dask scheduler at {address} did not answer: {err}") from err
    for message in prepared.warnings:
        reporter.warning(message)
    merger = Merger(reporter, _plays(prepared))
    if placement.unplaced:
        merger.placed_nowhere(UNPLACED, placement.unplaced)
    run_id = uuid.uuid4().hex[:16]
    queue = distributed.Queue(queue_name(run_id), client=client)
    stop = distributed.Event(stop_name(run_id), client=client)
    payload = _payload(prepared, connect_host)
    jobs = {s.index: _job(prepared, run_id, s, payload) for s in placement.shards}
    for index, job in jobs.items():
        merger.add_shard(index, job.plays)
    gate = PlayGate(
        {i: job.plays[0][0] for i, job in jobs.items()},
        len(prepared.plays),
        lambda play: distributed.Event(gate_name(run_id, play), client=client).set(),
    )
    futures = {s.index: _submit(client, jobs[s.index], s) for s in placement.shards}
    tracker = _RunTracker(merger, placement, gate)
    merger.pump()
    interrupted = lost_scheduler = False
    try:
        lost_scheduler = stream_shards(client, queue, futures, tracker)
    except KeyboardInterrupt:
        interrupted = True
        cancel(client, stop, futures.values())
    merger.drain(interrupted=interrupted)
    if lost_scheduler:
        reporter.warning(scheduler_lost_warning(address))
    elif not interrupted:
        gates = (gate_name(run_id, play) for play in range(gate.opened + 1))
        release(client, queue, [*(job.claim_name for job in jobs.values()), *gates])
    return RunResult(
        steps=tuple(merger.steps),
        hosts=hosts,
        duration_s=time.monotonic() - start,
        interrupted=interrupted,
        playbook=True,
    )


def _plays(prepared: Prepared) -> list[PlayInfo]:
    """Each play's name and hosts in the order its run takes them (shuffle: as selected)."""
    out = []
    for play, hosts in prepared.plays:
        shown = hosts if play.order == "shuffle" else tuple(ordered(hosts, play.order))
        out.append(PlayInfo(play.name, tuple(shown)))
    return out


def _payload(prepared: Prepared, connect_host: ConnectionMaker | None) -> bytes:
    """The run's shared payload, serialised once (cloudpickle: playbook values hold
    MappingProxy objects)."""
    request = prepared.request
    # every run option is the request's field of the same name (check, tags, ...)
    names = [f.name for f in dataclasses.fields(RunOptions) if hasattr(request, f.name)]
    options = RunOptions(**{name: getattr(request, name) for name in names})
    payload = RunPayload(
        playbook=prepared.playbook,
        inventory=prepared.inventory,
        play_inventories=tuple(
            prepared.play_inventory(prepared.inventory, play) for play, _ in prepared.plays
        ),
        extra=prepared.extra,
        specs=prepared.specs,
        search_paths=prepared.search_paths,
        options=options,
        connect=connect_host,
    )
    data: bytes = cloudpickle().dumps(payload)
    return data


def _job(prepared: Prepared, run_id: str, shard: ShardPlan, payload: bytes) -> PlaybookShardJob:
    members = set(shard.hosts)
    plays = tuple(
        (index, tuple(h for h in hosts if h in members))
        for index, (_, hosts) in enumerate(prepared.plays)
        if members.intersection(hosts)
    )
    return PlaybookShardJob(
        run_id=run_id,
        index=shard.index,
        plays=plays,
        play_names=tuple(play.name for play, _ in prepared.plays),
        payload=payload,
        cwd=str(prepared.request.cwd.resolve()),
        forks=prepared.request.forks,
    )


def _submit(client: Any, job: PlaybookShardJob, shard: ShardPlan) -> Any:
    from fleetkit.distributed.run_worker import run_playbook_shard

    return client.submit(
        run_playbook_shard,
        job,
        key=f"fleetkit-{job.run_id}-run-{shard.index}",
        pure=False,
        retries=0,
        workers=list(shard.workers) or None,
        allow_other_workers=False,
    )
