"""What the client sends a worker for one shard, and the messages a shard sends back.

A job carries the shard's hosts and their ConnectionSpecs (addresses, users, key and
known_hosts *paths*, never a key's bytes: paths are resolved on the worker's
machine), the command and its options. Messages travel on the run's Dask Queue as
plain tuples (StepResult holds a MappingProxy, which does not pickle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetkit.connection.spec import ConnectionSpec
from fleetkit.results import Status, StepResult

# Message kinds on the run's queue: (kind, shard index, payload)
STARTED = "started"  # payload: (worker address, worker name)
RESULTS = "results"  # payload: tuple of step tuples
DONE = "done"  # payload: number of results sent
REFUSED = "refused"  # payload: why (a second start of a shard: never re-run hosts)

StepTuple = tuple[str, str, str, int | None, str, str, str, float]
Message = tuple[str, int, Any]


class SchedulerLinkLost(Exception):
    """A shard could no longer talk to the scheduler (its worker is closing or cut off):
    the client reports its unfinished hosts as worker-lost."""


@dataclass(frozen=True)
class ShardJob:
    """One shard of an ad-hoc command for one worker."""

    run_id: str
    index: int
    hosts: tuple[str, ...]
    specs: Mapping[str, ConnectionSpec]
    command: str
    timeout: float | None = None
    become: bool = False
    forks: int | None = None

    @property
    def queue_name(self) -> str:
        return queue_name(self.run_id)

    @property
    def stop_name(self) -> str:
        return stop_name(self.run_id)

    @property
    def claim_name(self) -> str:
        return f"fleetkit-{self.run_id}-shard-{self.index}-claimed"


def queue_name(run_id: str) -> str:
    return f"fleetkit-{run_id}-results"


def stop_name(run_id: str) -> str:
    return f"fleetkit-{run_id}-stop"


def step_tuple(step: StepResult) -> StepTuple:
    """A StepResult as a picklable tuple (the fields `exec` reports)."""
    return (
        step.host,
        step.task,
        str(step.status),
        step.rc,
        step.stdout,
        step.stderr,
        step.msg,
        step.duration_s,
    )


def step_from(item: StepTuple) -> StepResult:
    host, task, status, rc, stdout, stderr, msg, duration = item
    return StepResult(
        host=host,
        task=task,
        status=Status(status),
        rc=rc,
        stdout=stdout,
        stderr=stderr,
        msg=msg,
        duration_s=duration,
    )
