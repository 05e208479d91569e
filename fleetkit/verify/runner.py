"""The controller side of `fleetkit verify`: one worker process per host, at most
`forks` at once, their per-test outcomes streamed to fleetkit's reporters.

Why a process per host: pytest keeps process-wide state (imported test modules,
fd capture, assertion-rewriting import hooks, warning filters, fixture stacks),
so two sessions cannot share a process, and one session over every host would
run the hosts one after another. A process per host keeps each host's results
clean and lets slow hosts overlap; each worker connects with the controller's
ConnectionSpec through a ConnectionFactory, exactly as exec does.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fleetkit.connection.spec import ConnectionSpec
from fleetkit.results import RunResult, Status, StepResult
from fleetkit.verify.job import Job, Layout, VerifyError
from fleetkit.verify.outcomes import TestOutcome

DEFAULT_MAX_FORKS = 32
"""Default parallelism: every selected host up to this many (a worker is a Python
process with pytest and testinfra loaded, ~65 MB peak RSS, so not exec's 256)."""

WORKER = (sys.executable, "-m", "fleetkit.verify.worker")
CONNECT_TASK = "verify: connect"
PYTEST_NO_TESTS = 5
PYTEST_USAGE = (3, 4)  # internal error, usage error


def default_verify_forks(n_hosts: int) -> int:
    return max(1, min(n_hosts, DEFAULT_MAX_FORKS))


@dataclass(frozen=True)
class HostEvent:
    """A worker's event (None when its process ended) with its host."""

    host: str
    event: Mapping[str, Any] | None
    stderr: str = ""
    returncode: int = 0


def _worker_env(inventory_file: str | None) -> dict[str, str]:
    """The worker's environment: installed pytest plugins are not auto-loaded (a
    conftest's `pytest_plugins` still loads what it names), so whatever plugins the
    controller's environment holds neither slow every host's session nor change it."""
    env = dict(os.environ)
    env.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    if inventory_file:
        # Molecule's test files read their hosts from this (the hosts are fleetkit's anyway)
        env.setdefault("MOLECULE_INVENTORY_FILE", inventory_file)
    return env


def _run_worker(
    job: Job,
    events: queue.Queue[HostEvent],
    env: Mapping[str, str],
    procs: dict[str, subprocess.Popen[str]],
    stop: threading.Event,
) -> None:
    """Run one host's worker, forwarding its events; always ends with a None event."""
    stderr, rc = "", 0
    try:
        if stop.is_set():
            return
        proc = subprocess.Popen(
            WORKER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env),
        )
        procs[job.host] = proc
        stdin, stdout, err = proc.stdin, proc.stdout, proc.stderr
        assert stdin is not None and stdout is not None and err is not None
        chunks: list[str] = []
        reader = threading.Thread(target=lambda: chunks.append(err.read()), daemon=True)
        reader.start()
        stdin.write(json.dumps(job.to_json()))
        stdin.close()
        for line in stdout:
            if not line.strip():
                continue
            try:
                events.put(HostEvent(job.host, json.loads(line)))
            except json.JSONDecodeError:
                chunks.append(line)
        rc = proc.wait()
        reader.join(timeout=5)
        stderr = "".join(chunks)
    except OSError as err_:
        stderr, rc = f"cannot start the verify worker: {err_}", 1
    finally:
        events.put(HostEvent(job.host, None, stderr, rc))


def run_verify(
    specs: Mapping[str, ConnectionSpec],
    hosts: Sequence[str],
    layout: Layout,
    on_result: Callable[[StepResult], None],
    *,
    forks: int,
    become: bool = False,
    timeout: float | None = None,
    inventory_file: str | None = None,
) -> RunResult:
    """Run the tests on every host; each test's result per host goes to on_result
    (called from this thread) as it arrives.

    Raises VerifyError (bad input) when the files do not collect (import errors,
    syntax errors) or hold no test: every worker collects before it connects, so
    then no host was touched.
    """
    start = time.monotonic()
    events: queue.Queue[HostEvent] = queue.Queue()
    procs: dict[str, subprocess.Popen[str]] = {}
    stop = threading.Event()
    env = _worker_env(inventory_file)
    steps: list[StepResult] = []
    gathered = _Events()
    pending = set(hosts)
    interrupted = False
    executor = ThreadPoolExecutor(max_workers=max(1, forks), thread_name_prefix="fk-verify")
    try:
        for host in hosts:
            job = Job(host, specs[host], layout, become=become, timeout=timeout)
            executor.submit(_run_worker, job, events, env, procs, stop)
        while pending:
            item = events.get()
            step = gathered.step(item)
            if item.event is None:
                pending.discard(item.host)
            if step is not None and not gathered.collect_errors:
                steps.append(step)
                on_result(step)
            if gathered.collect_errors:
                stop.set()
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    finally:
        for proc in list(procs.values()):
            if proc.poll() is None:
                proc.terminate()
        executor.shutdown(wait=not interrupted, cancel_futures=True)
    if gathered.collect_errors:
        raise VerifyError("the test files do not load:\n" + gathered.collect_errors[0].rstrip())
    if gathered.empty and len(gathered.empty) == len(hosts):
        raise VerifyError(
            f"no tests found in {', '.join(layout.paths)}",
            hint="testinfra tests are functions named test_* taking the `host` fixture",
        )
    return RunResult(
        steps=tuple(steps),
        hosts=tuple(hosts),
        duration_s=time.monotonic() - start,
        interrupted=interrupted,
    )


class _Events:
    """Turns worker events into StepResults; collection problems are gathered instead
    (they are bad input, not a host's result)."""

    def __init__(self) -> None:
        self.collect_errors: list[str] = []
        self.empty: list[str] = []
        self._usage: set[str] = set()

    def step(self, item: HostEvent) -> StepResult | None:
        event = item.event
        if event is None:
            return self._ended(item)
        kind = event.get("event")
        if kind == "test":
            return TestOutcome.from_json(event).step(item.host)
        if kind == "unreachable":
            return StepResult(item.host, CONNECT_TASK, Status.UNREACHABLE, msg=str(event["msg"]))
        if kind == "collect_error":
            self.collect_errors.append(str(event["msg"]))
        elif kind == "end" and not event.get("tests"):
            if event.get("status") == PYTEST_NO_TESTS:
                self.empty.append(item.host)
            elif event.get("status") in PYTEST_USAGE:
                self._usage.add(item.host)
        return None

    def _ended(self, item: HostEvent) -> StepResult | None:
        if item.host in self._usage:
            self.collect_errors.append(item.stderr.strip() or "pytest refused the test paths")
            return None
        if item.returncode == 0:
            return None
        tail = item.stderr.strip().splitlines()[-5:]
        return StepResult(
            item.host,
            "verify",
            Status.FAILED,
            rc=item.returncode,
            stderr="\n".join(tail),
            msg=f"verify worker exited with status {item.returncode}",
        )
