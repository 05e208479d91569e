"""What `fleetkit run --cluster` sends a worker, and the events a shard sends back.

The client sends every shard the same payload, serialised once with cloudpickle
(playbook values hold MappingProxy objects, which plain pickle refuses): the
validated playbook, the inventory as each play sees it, -e, the connection specs
(key and known_hosts *paths*, never a key's bytes) and the run options. A shard
adds its index, its hosts per play and the client's working directory. Events
travel as plain tuples (ShardEvent); a StepResult's registered `data` stays on the
worker, since no reporter shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetkit.connection.base import Connection
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.distributed.job import queue_name, stop_name
from fleetkit.inventory.model import Inventory
from fleetkit.playbook.schema import Playbook
from fleetkit.playbook.strategy import RunOptions
from fleetkit.results import Status, StepResult

# Shard messages on the run's queue besides job.py's STARTED, DONE and REFUSED
EVENTS = "events"  # payload: tuple of ShardEvent
UNUSABLE = "unusable"  # payload: why the worker could not run the shard (nothing ran)

# ShardEvent kinds: (kind, ...)
PLAY = "play"  # (PLAY, play index, play name, hosts)
TASK = "task"  # (TASK, play index, play name, task name, hosts)
RESULT = "result"  # (RESULT, ResultTuple)
WARNING = "warning"  # (WARNING, message)

ShardEvent = tuple[Any, ...]
ResultTuple = tuple[str, str, str, int | None, str, str, str, float, str, bool, bool, bool, bool]


@dataclass(frozen=True)
class RunPayload:
    """Everything a shard's run needs that is the same for every shard."""

    playbook: Playbook
    inventory: Inventory
    play_inventories: tuple[Inventory, ...]
    """The inventory as play i sees it (the vars beside its playbook file applied)."""
    extra: Mapping[str, Any]
    specs: Mapping[str, ConnectionSpec]
    search_paths: tuple[Path, ...]
    options: RunOptions
    connect: Callable[[str], Connection] | None = None
    """How the worker connects to a host (None: fleetkit's ConnectionFactory); tests
    hand in a picklable fake."""


@dataclass(frozen=True)
class PlaybookShardJob:
    """One shard of a playbook run for one worker."""

    run_id: str
    index: int
    plays: tuple[tuple[int, tuple[str, ...]], ...]
    """(play index, this shard's hosts of that play in the play's order), for every play
    that has hosts in this shard."""
    play_names: tuple[str, ...]
    """Every play's name, by play index."""
    payload: bytes
    cwd: str
    """The client's working directory: relative playbook paths resolve from it."""
    forks: int | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h for _, hosts in self.plays for h in hosts))

    @property
    def queue_name(self) -> str:
        return queue_name(self.run_id)

    @property
    def stop_name(self) -> str:
        return stop_name(self.run_id)

    @property
    def claim_name(self) -> str:
        return f"fleetkit-{self.run_id}-run-{self.index}-claimed"

    def gate_name(self, play: int) -> str:
        return gate_name(self.run_id, play)


def gate_name(run_id: str, play: int) -> str:
    """The Event the client sets when every shard has finished the plays before play."""
    return f"fleetkit-{run_id}-play-{play}"


def result_tuple(step: StepResult) -> ResultTuple:
    """A StepResult as a picklable tuple: every field a reporter or the recap reads."""
    return (
        step.host,
        step.task,
        str(step.status),
        step.rc,
        step.stdout,
        step.stderr,
        step.msg,
        step.duration_s,
        step.diff,
        step.no_log,
        step.rescued,
        step.ignored,
        step.truncated,
    )


def result_from(item: ResultTuple) -> StepResult:
    host, task, status, rc, stdout, stderr, msg, duration, diff, no_log, rescued, ignored, cut = (
        item
    )
    return StepResult(
        host=host,
        task=task,
        status=Status(status),
        rc=rc,
        stdout=stdout,
        stderr=stderr,
        msg=msg,
        duration_s=duration,
        diff=diff,
        no_log=no_log,
        rescued=rescued,
        ignored=ignored,
        truncated=cut,
    )
