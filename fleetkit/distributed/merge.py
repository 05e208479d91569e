"""One task-ordered report from the event streams of a playbook's shards.

Each shard runs the plays on its hosts and reports, in order, PLAY markers, TASK
headers and results, as a local run does. The client merges them the way a local
run's own reporting works: a task's block (its header, then its results as they
arrive) is shown once, with the hosts of every shard that runs it, and the next
block starts when each shard has finished the current one; results of a shard that
is ahead wait, as a fast host's do locally.

A block is known by (play, kind, name, n): the n-th block of that name in that play
of a shard. Plays come in order. Within a play, shards may take different paths
(a rescue that only some hosts enter, handlers that only some hosts notified), so a
block is shown when no shard still has to show something before it: every shard is
at it, or some shard's stream puts it before the other shards' next block, or
those shards are done. When every stream is complete, what is left comes out in
stream order. Blocks of CLUSTER_TASK (hosts that never reached a worker, or whose
worker was lost) need no such evidence.

A play that no shard started is reported as a local run reports a play with no
host left: one warning, in the play's place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from fleetkit.distributed.run_job import PLAY, RESULT, TASK, WARNING, ShardEvent, result_from
from fleetkit.report.base import Reporter
from fleetkit.results import Status, StepResult

CLUSTER_TASK = "dask shard"
"""The task name of results the cluster gives a host itself (never placed, worker lost)."""

Key = tuple[int, str, str, int]  # (play index, PLAY|TASK, name, n-th of that name)


@dataclass(frozen=True)
class PlayInfo:
    """A play as the client knows it: its name and its hosts in the play's order."""

    name: str
    hosts: tuple[str, ...]


@dataclass
class _Block:
    key: Key
    play_name: str
    hosts: list[str]
    items: list[StepResult | str] = field(default_factory=list)
    sent: int = 0

    @property
    def play(self) -> int:
        return self.key[0]


class _Stream:
    """One shard's blocks as received, and how far the merged report has shown them."""

    def __init__(self, plays: Sequence[tuple[int, tuple[str, ...]]]) -> None:
        self.plays = tuple(plays)
        self.blocks: list[_Block] = []
        self.where: dict[Key, int] = {}
        self.pos = 0
        self.done = False
        self.play = -1
        self._counts: Counter[tuple[int, str, str]] = Counter()

    def head(self) -> _Block | None:
        return self.blocks[self.pos] if self.pos < len(self.blocks) else None

    def closed(self, index: int) -> bool:
        """Whether block index can get no more items."""
        return self.done or index < len(self.blocks) - 1

    def add(self, play: int, kind: str, name: str, play_name: str, hosts: Iterable[str]) -> None:
        self._counts[play, kind, name] += 1
        key = (play, kind, name, self._counts[play, kind, name])
        self.where[key] = len(self.blocks)
        self.blocks.append(_Block(key, play_name, list(hosts)))
        self.play = max(self.play, play)


class Merger:
    """Feeds shard events in, reports one local-looking run out (see the module doc)."""

    def __init__(self, reporter: Reporter, plays: Sequence[PlayInfo]) -> None:
        self.reporter = reporter
        self.plays = tuple(plays)
        self.steps: list[StepResult] = []
        self._streams: dict[int, _Stream] = {}
        self._rank = [{h: i for i, h in enumerate(p.hosts)} for p in self.plays]
        self._current: list[int] = []
        self._shown_plays: set[int] = set()
        self._next_play = 0
        self._warned: set[str] = set()
        self._down: set[str] = set()
        self._lost: set[str] = set()

    # input ---------------------------------------------------------------------------

    def add_shard(self, index: int, plays: Sequence[tuple[int, tuple[str, ...]]]) -> None:
        """A shard that will report on these (play index, hosts)."""
        self._streams[index] = _Stream(plays)

    def feed(self, index: int, events: Iterable[ShardEvent]) -> None:
        stream = self._streams[index]
        if stream.done:
            return  # a concluded shard: late events are dropped, never reported twice
        for event in events:
            kind = event[0]
            if kind == PLAY:
                _, play, name, hosts = event
                stream.add(play, PLAY, name, name, hosts)
            elif kind == TASK:
                _, play, play_name, name, hosts = event
                stream.add(play, TASK, name, play_name, hosts)
            elif kind == RESULT:
                step = result_from(event[1])
                if step.status is Status.UNREACHABLE or (step.failed and not step.rescued):
                    self._down.add(step.host)
                self._item(stream, step)
            elif kind == WARNING:
                self._item(stream, str(event[1]))
        self.pump()

    def _item(self, stream: _Stream, item: StepResult | str) -> None:
        if stream.blocks:
            stream.blocks[-1].items.append(item)
        elif isinstance(item, str):
            self._warn(item)

    def finish(self, index: int) -> None:
        """The shard ran to its end: everything it did has been fed."""
        self._streams[index].done = True
        self.pump()

    def lose(self, index: int, msg: str) -> None:
        """The shard ends without finishing: each of its hosts whose state is not known
        (not failed or unreachable, with a play still to run) is reported unreachable
        with msg, once, in a CLUSTER_TASK block of the play the shard was in."""
        stream = self._streams[index]
        if stream.done:
            return
        start = stream.play if stream.play >= 0 else min((p for p, _ in stream.plays), default=0)
        hosts = [
            h
            for play, members in stream.plays
            if play >= start
            for h in members
            if h not in self._down and h not in self._lost
        ]
        hosts = list(dict.fromkeys(hosts))
        self._lost.update(hosts)
        if hosts:  # which task they were on is not known: a block of the cluster's own
            play = start
            if not stream.blocks:
                first = [h for p, members in stream.plays if p == play for h in members]
                stream.add(play, PLAY, self.plays[play].name, self.plays[play].name, first)
            stream.add(play, TASK, CLUSTER_TASK, self.plays[play].name, hosts)
            for host in hosts:
                stream.blocks[-1].items.append(
                    StepResult(host, CLUSTER_TASK, Status.UNREACHABLE, msg=msg)
                )
        stream.done = True
        self.pump()

    def placed_nowhere(self, index: int, reasons: Mapping[str, str]) -> None:
        """A stream for hosts no worker serves: each is unreachable with its reason, in the
        first play it belongs to."""
        firsts: dict[int, list[str]] = {}
        for host in reasons:
            play = next((i for i, p in enumerate(self.plays) if host in p.hosts), None)
            if play is not None:
                firsts.setdefault(play, []).append(host)
        stream = _Stream([(p, tuple(hs)) for p, hs in sorted(firsts.items())])
        self._streams[index] = stream
        for play, hosts in sorted(firsts.items()):
            name = self.plays[play].name
            stream.add(play, PLAY, name, name, hosts)
            stream.add(play, TASK, CLUSTER_TASK, name, hosts)
            for host in hosts:
                stream.blocks[-1].items.append(
                    StepResult(host, CLUSTER_TASK, Status.UNREACHABLE, msg=reasons[host])
                )
                self._down.add(host)
        stream.done = True

    def drain(self, *, interrupted: bool = False) -> None:
        """End of the run: show what is left (an interrupted run warns of no skipped play)."""
        for stream in self._streams.values():
            stream.done = True
        self.pump()
        if not interrupted:
            self._skipped_before(len(self.plays))

    # output --------------------------------------------------------------------------

    def pump(self) -> None:
        """Show everything that can be shown now."""
        while True:
            if self._current:
                self._current = [i for i in self._current if not self._forward(i)]
                if self._current:
                    return
            key = self._choose()
            if key is None:
                return
            self._open(key)

    def _forward(self, index: int) -> bool:
        """Report the shard's new items of the current block; True when the block is over."""
        stream = self._streams[index]
        block = stream.blocks[stream.pos]
        for item in block.items[block.sent :]:
            if isinstance(item, str):
                self._warn(item)
            else:
                self.steps.append(item)
                self.reporter.host_result(item)
        block.sent = len(block.items)
        if stream.closed(stream.pos):
            stream.pos += 1
            return True
        return False

    def _open(self, key: Key) -> None:
        members = [i for i, s in self._streams.items() if (h := s.head()) and h.key == key]
        blocks = [self._streams[i].head() for i in members]
        play = key[0]
        hosts = self._ordered(play, (h for b in blocks if b is not None for h in b.hosts))
        self._skipped_before(play)
        if key[1] == PLAY:
            if play not in self._shown_plays:
                self._shown_plays.add(play)
                self.reporter.play_start(self.plays[play].name, hosts)
        else:
            first = blocks[0]
            assert first is not None
            self.reporter.task_start(first.play_name, key[2], hosts)
        self._current = members

    def _choose(self) -> Key | None:
        heads: dict[int, _Block] = {}
        for index, stream in self._streams.items():
            head = stream.head()
            if head is None:
                if not stream.done:
                    return None  # a shard not heard from yet: its first block may come first
                continue
            heads[index] = head
        if not heads:
            return None
        order: dict[Key, int] = {}
        for index, block in sorted(heads.items()):
            order.setdefault(block.key, index)
        candidates = sorted(order, key=lambda k: (k[0], k[1] != PLAY, order[k]))
        for key in candidates:
            if self._showable(key, heads):
                return key
        if all(s.done for s in self._streams.values()):
            return candidates[0]
        return None

    def _showable(self, key: Key, heads: Mapping[int, _Block]) -> bool:
        play = key[0]
        for index, head in heads.items():
            other = head.key
            if other == key or other[0] > play:
                continue
            if other[0] < play:
                return False
            stream = self._streams[index]
            if stream.where.get(key, -1) > stream.pos:
                return False  # that shard shows its own head first
            if key[1] == TASK and key[2] == CLUSTER_TASK:
                continue
            if other[1] == PLAY:
                return False
            if self._before(key, other) or stream.done:
                continue
            return False
        return True

    def _before(self, a: Key, b: Key) -> bool:
        """Some shard's stream has block a before block b."""
        for stream in self._streams.values():
            ia, ib = stream.where.get(a), stream.where.get(b)
            if ia is not None and ib is not None and ia < ib:
                return True
        return False

    def _ordered(self, play: int, hosts: Iterable[str]) -> list[str]:
        rank = self._rank[play]
        unique = list(dict.fromkeys(hosts))
        return sorted(unique, key=lambda h: rank.get(h, len(rank)))

    def _skipped_before(self, play: int) -> None:
        """Warn, as a local run does, of each play before `play` that no host ran."""
        for index in range(self._next_play, play):
            if index not in self._shown_plays:
                name = self.plays[index].name
                self._warn(f"play '{name}': no hosts left to run on, skipped")
        self._next_play = max(self._next_play, play)

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.reporter.warning(message)
