"""One playbook shard in a process of its own: `python -m fleetkit.distributed.shard_child FD`.

The Dask task (fleetkit.distributed.run_worker) starts this process in the client's
working directory, so the playbook's relative paths (files/, include_vars, roles,
`playbook_dir`) resolve as they do on the client, and writes the ChildJob on its
stdin, which it then keeps open: end of file there means the worker died, and the
shard stops as a local run stops on Ctrl-C. The process runs fleetkit's own
PlaybookRun over a HostPool (no second engine) and writes, as length-prefixed
pickles on FD: ("event", ShardEvent) per reporter call, then ("done", interrupted)
or ("unusable", why). SIGINT from the task (the client's Ctrl-C) is the local Ctrl-C:
no host starts another task, running commands end with their connections. Secrets
the run registers (module arguments) are masked in results before they leave, and
die with the process, as the run's connections do.
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


class Forward:
    """The Reporter of a shard's run: each event as a frame, tagged with its play index.

    Plays run in order, each either started (play_start) or skipped for want of hosts
    (the strategy's one warning, which the client reproduces itself): that sequence
    tells which of the shard's plays an event belongs to.
    """

    def __init__(self, plays: Sequence[tuple[int, str]], out: IO[bytes]) -> None:
        self._plays = list(plays)
        self._out = out
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


def run(job: ChildJob, out: IO[bytes]) -> tuple[str, Any]:
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
        reporter = Forward([(i, job.play_names[i]) for i, _ in job.plays], out)
        connect = payload.connect or ConnectionFactory(payload.specs)
        pool = HostPool(connect, job.forks or default_forks(len(hosts)))
        try:
            runner = PlaybookRun(
                pool=pool,
                inventory=payload.inventory,
                renderer=Renderer(payload.search_paths),
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


def _watch(stdin: IO[bytes], finished: threading.Event) -> None:
    """End of file on stdin: the worker that started this shard is gone; stop as on Ctrl-C."""
    try:
        stdin.read()
    finally:
        if not finished.is_set():
            os.kill(os.getpid(), signal.SIGINT)


def main(argv: Sequence[str]) -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    out = os.fdopen(int(argv[1]), "wb")
    # unbuffered: the watchdog blocks reading it to the end, which a buffered reader's
    # lock would turn into a fatal error at interpreter shutdown
    stdin = os.fdopen(sys.stdin.fileno(), "rb", buffering=0, closefd=False)
    finished = threading.Event()
    last: tuple[str, Any] | None = ("done", True)
    try:
        job: ChildJob = read_frame(stdin)
        threading.Thread(target=_watch, args=(stdin, finished), daemon=True).start()
        last = run(job, out)
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
