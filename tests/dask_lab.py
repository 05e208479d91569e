"""A real Dask cluster for tests and benchmarks: `dask scheduler` on the lab bridge
(198.18.0.1) and `dask worker` processes inside lab hosts' network namespaces, so each
worker connects to hosts from its own address. Everything started is stopped."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BRIDGE = "198.18.0.1"
DASK = str(Path(sys.executable).with_name("dask"))


def free_bridge_port() -> int:
    with socket.socket() as s:
        s.bind((BRIDGE, 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((BRIDGE, port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError("dask scheduler did not listen in time")


@dataclass
class DaskLab:
    """One scheduler and its workers (processes this object started)."""

    logs: Path
    port: int = 0
    scheduler: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"tcp://{BRIDGE}:{self.port}"

    def start_scheduler(self) -> None:
        self.port = free_bridge_port()
        with (self.logs / "scheduler.log").open("wb") as log:  # the child keeps its own fd
            self.scheduler = subprocess.Popen(
                [DASK, "scheduler", "--host", BRIDGE, "--port", str(self.port), "--no-dashboard"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_listening(self.port, self.scheduler)

    def start_worker(self, name: str, netns: str, resources: str = "") -> int:
        """A worker inside a lab host's network namespace; returns its pid (nsenter execs)."""
        nsenter = shutil.which("nsenter") or "nsenter"
        argv = [nsenter, f"--net=/var/run/netns/{netns}", DASK, "worker", self.address]
        argv += ["--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        if resources:
            argv += ["--resources", resources]
        with (self.logs / f"worker-{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.workers[name] = proc
        return proc.pid

    def wait_workers(self, names: set[str], timeout: float = 60) -> None:
        """Until the scheduler lists workers with these names."""
        from distributed import Client

        deadline = time.monotonic() + timeout
        with Client(self.address, timeout=20, set_as_default=False) as client:
            while time.monotonic() < deadline:
                info = client.scheduler_info(n_workers=-1)["workers"]
                if names <= {str(w.get("name")) for w in info.values()}:
                    return
                for name, proc in self.workers.items():
                    if name in names and proc.poll() is not None:
                        raise RuntimeError(f"dask worker {name} exited with {proc.returncode}")
                time.sleep(0.2)
        raise RuntimeError(f"dask workers {sorted(names)} did not register in time")

    def kill_worker(self, name: str) -> None:
        """kill -9 a worker (as a crash would)."""
        proc = self.workers[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def kill_scheduler(self) -> None:
        assert self.scheduler is not None
        os.kill(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(10)

    def stop(self) -> None:
        """Stop every process this cluster started (workers first), and wait for them."""
        procs = [*self.workers.values(), *([self.scheduler] if self.scheduler else [])]
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@contextlib.contextmanager
def dask_lab(logs: Path, workers: dict[str, tuple[str, str]]) -> Iterator[DaskLab]:
    """A scheduler plus workers {name: (netns, resources)}, all stopped at the end."""
    lab = DaskLab(logs)
    try:
        lab.start_scheduler()
        for name, (netns, resources) in workers.items():
            lab.start_worker(name, netns, resources)
        lab.wait_workers(set(workers))
        yield lab
    finally:
        lab.stop()
