"""Bounded parallel execution over hosts, one persistent connection per host.

`HostPool` opens each host's connection on first use (in the worker thread, so
handshakes happen in parallel) and keeps it for the whole run. `map` runs a
function on many hosts with at most `forks` in flight, streams each result to a
callback as it completes, and turns connection failures into `unreachable`
results and any other exception into that host's `failed` result: one slow,
dead or buggy host never blocks or crashes the others. `map(deadline=S)` is a
hard bound for callers that must finish (an exporter cycle): hosts still running
after S seconds are reported unreachable and their connections closed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextvars import copy_context

from fleetkit.connection.base import Connection
from fleetkit.errors import ConnectionError
from fleetkit.results import Status, StepResult

log = logging.getLogger("fleetkit.executor")

MAX_FORKS = 256

ConnectionFactory = Callable[[str], Connection]
HostFunc = Callable[[str, Connection], StepResult]
ResultCallback = Callable[[StepResult], None]


def default_forks(n_hosts: int) -> int:
    """All selected hosts at once, up to MAX_FORKS."""
    return max(1, min(n_hosts, MAX_FORKS))


class HostPool:
    """Persistent per-host connections and a bounded worker pool shared by a run."""

    def __init__(self, factory: ConnectionFactory, forks: int) -> None:
        if forks < 1:
            raise ValueError("forks must be >= 1")
        self._factory = factory
        self._forks = min(forks, MAX_FORKS)
        self._conns: dict[str, Connection] = {}
        self._dead: dict[str, str] = {}
        self._lock = threading.Lock()
        self._opening: dict[str, threading.Lock] = {}
        """One lock per host: a host's own task and a task delegated to it open it once."""
        self._executor = ThreadPoolExecutor(max_workers=self._forks, thread_name_prefix="fk-host")
        self._closed = False

    @property
    def forks(self) -> int:
        return self._forks

    def unreachable_reason(self, host: str) -> str | None:
        """Why host could not be reached in this run, or None if it was not tried/failed."""
        return self._dead.get(host)

    def connection(self, host: str) -> Connection:
        """The host's open connection, opening it on first use.

        Raises ConnectionError (and remembers it: a host unreachable once in a run
        is not retried by later tasks, as Ansible does).
        """
        with self._lock:
            if host in self._dead:
                raise ConnectionError(self._dead[host])
            conn = self._conns.get(host)
            if conn is None:
                conn = self._factory(host)
                self._conns[host] = conn
            opening = self._opening.setdefault(host, threading.Lock())
        try:
            with opening:
                conn.open()
        except ConnectionError as err:
            with self._lock:
                self._dead[host] = str(err)
            raise
        return conn

    def revive(self, host: str) -> None:
        """Forget that host was unreachable, so its next use reconnects.

        A run never retries a dead host; a long-lived pool (the exporter) does,
        after its own backoff.
        """
        with self._lock:
            self._dead.pop(host, None)

    def mark_unreachable(self, host: str, reason: str) -> None:
        """Record that host was lost mid-run (its later tasks report unreachable)."""
        with self._lock:
            self._dead[host] = reason
            conn = self._conns.pop(host, None)
        if conn is not None:
            conn.close()

    def _call(self, host: str, task: str, fn: HostFunc) -> StepResult:
        start = time.monotonic()
        try:
            conn = self.connection(host)
            return fn(host, conn)
        except ConnectionError as err:
            self.mark_unreachable(host, str(err))
            return StepResult(
                host=host,
                task=task,
                status=Status.UNREACHABLE,
                msg=str(err),
                duration_s=time.monotonic() - start,
            )
        except Exception as err:  # a bug or an unforeseen library error: this host fails
            log.debug("%s: %s raised", host, task, exc_info=True)
            return StepResult(
                host=host,
                task=task,
                status=Status.FAILED,
                msg=f"internal error: {type(err).__name__}: {err}",
                duration_s=time.monotonic() - start,
            )

    def map(
        self,
        hosts: Sequence[str],
        task: str,
        fn: HostFunc,
        on_result: ResultCallback | None = None,
        *,
        deadline: float | None = None,
    ) -> list[StepResult]:
        """Run fn(host, connection) on every host; results in completion order.

        With a deadline (seconds), hosts not done by then get an unreachable result
        and their connection is closed (ending what blocks them); their late result
        is dropped. On KeyboardInterrupt, pending hosts are cancelled, open
        connections are closed (which ends running commands) and the interrupt
        propagates.
        """
        start = time.monotonic()
        end = None if deadline is None else start + deadline
        futures: dict[Future[StepResult], str] = {
            self._executor.submit(copy_context().run, self._call, h, task, fn): h for h in hosts
        }
        results: list[StepResult] = []
        pending: set[Future[StepResult]] = set(futures)
        try:
            while pending:
                left = 0.5 if end is None else min(0.5, end - time.monotonic())
                if left <= 0:
                    assert deadline is not None
                    for fut in pending:
                        fut.cancel()
                        result = self._abandon(futures[fut], task, deadline, start)
                        results.append(result)
                        if on_result is not None:
                            on_result(result)
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED, timeout=left)
                for fut in done:
                    result = fut.result()
                    results.append(result)
                    if on_result is not None:
                        on_result(result)
        except KeyboardInterrupt:
            for fut in pending:
                fut.cancel()
            self.close()
            raise
        return results

    def _abandon(self, host: str, task: str, deadline: float, start: float) -> StepResult:
        """host missed map's deadline: unreachable, its connection closed (unblocking it)."""
        reason = f"{host}: no result within the {deadline:g}s deadline (connection closed)"
        log.warning("%s", reason)
        self.mark_unreachable(host, reason)
        return StepResult(
            host=host,
            task=task,
            status=Status.UNREACHABLE,
            msg=reason,
            duration_s=time.monotonic() - start,
        )

    def submit(self, fn: Callable[[], StepResult]) -> Future[StepResult]:
        """Run one callable on the pool (used by strategies that let hosts run ahead)."""
        return self._executor.submit(copy_context().run, fn)  # the command's vault, redactor

    def close(self) -> None:
        """Close every connection, then the factory if it has a close() (the jump hosts
        a ConnectionFactory shares), and stop the workers (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conns = list(self._conns.values())
            self._conns.clear()
        for conn in conns:
            with contextlib.suppress(Exception):  # closing must never mask the run's result
                conn.close()
        close_factory = getattr(self._factory, "close", None)
        if callable(close_factory):
            with contextlib.suppress(Exception):
                close_factory()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> HostPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without duplicates."""
    seen: set[str] = set()
    return [i for i in items if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]
