"""The lab registry: Debian's docker-registry on 198.18.0.1:5000, storage in the state dir.

It listens on the bridge address only, so just the machine and its lab hosts reach it.
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path

from fleetkit.errors import LabError
from fleetkit.lab import procs
from fleetkit.lab.checks import Tools
from fleetkit.lab.host import spawn_daemon, tail
from fleetkit.lab.layout import BRIDGE_ADDRESS, REGISTRY_PORT, LabPaths


def config_text(paths: LabPaths) -> str:
    """The registry's config.yml: filesystem storage in the state dir, deletes allowed."""
    return f"""\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {paths.registry_dir / "data"}
  delete:
    enabled: true
http:
  addr: {BRIDGE_ADDRESS}:{REGISTRY_PORT}
"""


def config_path(paths: LabPaths) -> Path:
    """The registry's config.yml (its path also identifies a lab registry process)."""
    return paths.registry_dir / "config.yml"


def log_path(paths: LabPaths) -> Path:
    """The registry's output."""
    return paths.registry_dir / "registry.log"


def start_registry(tools: Tools, paths: LabPaths) -> int:
    """Write the config and start the registry detached; returns its pid."""
    assert tools.docker_registry is not None
    paths.registry_dir.mkdir(mode=0o755, exist_ok=True)
    (paths.registry_dir / "data").mkdir(mode=0o755, exist_ok=True)
    config_path(paths).write_text(config_text(paths), encoding="utf-8")
    argv = [tools.docker_registry, "serve", str(config_path(paths))]
    return spawn_daemon(argv, log_path(paths))


def answers(*, timeout: float = 1.0) -> bool:
    """True when the registry answers GET /v2/ with 200."""
    conn = http.client.HTTPConnection(str(BRIDGE_ADDRESS), REGISTRY_PORT, timeout=timeout)
    try:
        conn.request("GET", "/v2/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def wait_for_registry(pid: int, paths: LabPaths, *, timeout_s: float = 30.0) -> None:
    """Poll the registry until it answers; LabError with its log if it dies or stays silent."""
    deadline = time.monotonic() + timeout_s
    while not answers():
        if not procs.is_running(pid):
            raise LabError(f"the lab registry exited: {tail(log_path(paths))}")
        if time.monotonic() > deadline:
            raise LabError(
                f"the lab registry did not answer within {timeout_s:.0f}s: {tail(log_path(paths))}"
            )
        time.sleep(0.05)


def is_lab_registry(pid: int | None, paths: LabPaths) -> bool:
    """True when pid is a running docker-registry serving the lab's config."""
    if pid is None or not procs.is_running(pid):
        return False
    try:
        argv = (procs.PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return argv[0].endswith(b"docker-registry") and str(config_path(paths)).encode() in argv


def registry_pids(paths: LabPaths) -> list[int]:
    """Running registries serving the lab's config (found without a record)."""
    return [pid for pid in procs.all_pids() if is_lab_registry(pid, paths)]
