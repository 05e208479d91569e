"""One playbook shard in a process of its own: `python -m fleetkit.distributed.shard_child FD`.

The Dask task (fleetkit.distributed.run_worker) starts this process in the client's
working directory, so the playbook's relative paths (files/, include_vars, roles,
`playbook_dir`) resolve as they do on the client, and writes the ChildJob on its
stdin, which it then keeps open: later frames there are ("go", play index), and end of
file means the worker died, and the shard stops as a local run stops on Ctrl-C. The
process runs fleetkit's own PlaybookRun over a HostPool (no second engine) and writes,
as length-prefixed pickles on FD: ("event", ShardEvent) per reporter call, ("wait",
play index) when a play is about to start, then ("done", interrupted) or ("unusable",
why). A play starts only after its "go": plays run in order across the whole fleet,
as in a local run (every shard has finished the earlier plays). SIGINT from the task
(the client's Ctrl-C) is the local Ctrl-C: no host starts another task, and the
process ends. Secrets the run registers (module arguments) are masked in results
before they leave, and die with the process, as the run's connections do.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fleetkit.distributed.run_job import (
    PLAY,
    RESULT,
    TASK,
    WARNING,
    PlaybookShardJob,
    ShardEvent,
    result_tuple,
)
from fleetkit.results import RunResult, StepResult

LENGTH_BYTES = 4


@dataclass(frozen=True)
class ChildJob:
    """What the child reads from stdin: the shard and the run's payload."""

    plays: tuple[tuple[int, tuple[str, ...]], ...]
    play_names: tuple[str, ...]
    payload: bytes
    forks: int | None

    @classmethod
    def of(cls, job: PlaybookShardJob) -> ChildJob:
        return cls(job.plays, job.play_names, job.payload, job.forks)


def write_frame(out: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(LENGTH_BYTES, "big") + data)
    out.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame's object; EOFError at the end of the stream."""
    head = _read_exactly(stream, LENGTH_BYTES)
    return pickle.loads(_read_exactly(stream, int.from_bytes(head, "big")))


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class Gate:
    """The plays this shard may start: the "go" frames read from stdin; end of file there
    (the worker is gone) interrupts the run."""

    def __init__(self, stdin: IO[bytes], finished: threading.Event) -> None:
        self._stdin = stdin
        self._finished = finished
        self._allowed = -1
        self._changed = threading.Condition()

    def watch(self) -> None:
        """Read "go" frames until end of file (run on a thread of its own)."""
        try:
            while True:
                kind, play = read_frame(self._stdin)
                if kind == "go":
                    with self._changed:
                        self._allowed = max(self._allowed, int(play))
                        self._changed.notify_all()
        except Exception:  # EOFError: the worker closed our stdin, or died
            pass
        if not self._finished.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    def wait(self, play: int, out: IO[bytes], lock: threading.Lock) -> None:
        """Block until play may start (SIGINT ends the wait with KeyboardInterrupt)."""
        with lock:
            write_frame(out, ("wait", play))
        with self._changed:
            while self._allowed < play:
                self._changed.wait(0.2)


class Forward:
    """The Reporter of a shard's run: each event as a frame, tagged with its play index.

    Plays run in order, each either started (play_start) or skipped for want of hosts
    (the strategy's one warning, which the client reproduces itself): that sequence
    tells which of the shard's plays an event belongs to. A play's start waits at the
    gate (before any of its tasks runs).
    """

    def __init__(
        self, plays: Sequence[tuple[int, str]], out: IO[bytes], gate: Gate | None = None
    ) -> None:
        self._plays = list(plays)
        self._out = out
        self._gate = gate
        self._next = 0
        self._play = plays[0][0] if plays else 0
        self._lock = threading.Lock()

    def _send(self, event: ShardEvent) -> None:
        with self._lock:
            write_frame(self._out, ("event", event))

    def play_start(self, play: str, hosts: Sequence[str]) -> None:
        for j in range(self._next, len(self._plays)):
            if self._plays[j][1] == play:
                self._play, self._next = self._plays[j][0], j + 1
                break
        self._send((PLAY, self._play, play, tuple(hosts)))
        if self._gate is not None:
            self._gate.wait(self._play, self._out, self._lock)

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None:
        self._send((TASK, self._play, play, task, tuple(hosts)))

    def host_result(self, result: StepResult) -> None:
        from fleetkit.report.redact import redact_result

        self._send((RESULT, result_tuple(redact_result(result.public()))))

    def warning(self, message: str) -> None:
        from fleetkit.report.redact import redact

        for j in range(self._next, len(self._plays)):
            if message == f"play '{self._plays[j][1]}': no hosts left to run on, skipped":
                self._next = j + 1
                return
        self._send((WARNING, redact(message)))

    def summary(self, run: RunResult) -> None:
        """The client writes the recap."""


def run(job: ChildJob, out: IO[bytes], gate: Gate | None = None) -> tuple[str, Any]:
    """Run the shard's plays, reporting on out; the last frame, saying how it ended."""
    from fleetkit.connection.factory import ConnectionFactory
    from fleetkit.distributed.dask_api import cloudpickle
    from fleetkit.distributed.run_job import RunPayload
    from fleetkit.executor.pool import HostPool, default_forks
    from fleetkit.playbook.render import Renderer
    from fleetkit.playbook.strategy import PlaybookRun
    from fleetkit.report.redact import redacting

    payload: RunPayload = cloudpickle().loads(job.payload)
    book = payload.playbook.path
    if not Path(book).is_file():
        where = Path.cwd() / book
        return ("unusable", f"this worker's machine has no {where}")
    plays = payload.playbook.plays
    by_folder = {
        str(play.directory): inventory
        for play, inventory in zip(plays, payload.play_inventories, strict=True)
    }
    hosts = list(dict.fromkeys(h for _, members in job.plays for h in members))
    interrupted = False
    with redacting():
        reporter = Forward([(i, job.play_names[i]) for i, _ in job.plays], out, gate)
        connect = payload.connect or ConnectionFactory(payload.specs)
        pool = HostPool(connect, job.forks or default_forks(len(hosts)))
        try:
            runner = PlaybookRun(
                pool=pool,
                inventory=payload.inventory,
                renderer=Renderer(payload.search_paths, payload.options.defaults.ansible_managed),
                reporter=reporter,
                extra_vars=payload.extra,
                options=payload.options,
                play_inventory=lambda _inventory, play: by_folder[str(play.directory)],
            )
            result = runner.run([(plays[i], list(members)) for i, members in job.plays])
            interrupted = result.interrupted
        except KeyboardInterrupt:
            interrupted = True
        finally:
            pool.close()
    return ("done", interrupted)


def main(argv: Sequence[str]) -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    out = os.fdopen(int(argv[1]), "wb")
    # unbuffered: the gate blocks reading it to the end, which a buffered reader's
    # lock would turn into a fatal error at interpreter shutdown
    stdin = os.fdopen(sys.stdin.fileno(), "rb", buffering=0, closefd=False)
    finished = threading.Event()
    last: tuple[str, Any] | None = ("done", True)
    try:
        job: ChildJob = read_frame(stdin)
        gate = Gate(stdin, finished)
        threading.Thread(target=gate.watch, name="fk-shard-gate", daemon=True).start()
        last = run(job, out, gate)
    except KeyboardInterrupt:
        pass  # before or after the run's own handling: the shard was interrupted
    except BaseException:  # the events pipe broke (the worker is gone), or a bug
        traceback.print_exc()
        last = None
    finally:
        finished.set()
    with contextlib.suppress(OSError):
        if last is not None:
            write_frame(out, last)
        out.close()
    if last != ("done", False):
        # interrupted or broken: hosts still inside a stretch of tasks would go on to its
        # next task on the pool's threads (which interpreter exit waits for); end them here
        os._exit(0 if last is not None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
