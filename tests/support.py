"""Helpers the lab test layers share: the fleetkit command, its JSON events, loopback ports."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The CLI of the interpreter running the tests (no console script or PATH needed).
FLEETKIT = (sys.executable, "-c", "import sys; from fleetkit.cli import main; sys.exit(main())")

# The host metrics of the design's metrics contract.
HOST_METRICS = (
    "fleetkit_host_up",
    "fleetkit_host_info",
    "fleetkit_host_collect_duration_seconds",
    "fleetkit_host_last_collect_timestamp_seconds",
    "fleetkit_host_load1",
    "fleetkit_host_load5",
    "fleetkit_host_load15",
    "fleetkit_host_cpu_seconds_total",
    "fleetkit_host_memory_total_bytes",
    "fleetkit_host_memory_available_bytes",
    "fleetkit_host_filesystem_size_bytes",
    "fleetkit_host_filesystem_avail_bytes",
    "fleetkit_host_network_receive_bytes_total",
    "fleetkit_host_network_transmit_bytes_total",
    "fleetkit_host_boot_time_seconds",
)


def fleetkit(
    *args: str,
    timeout: float = 60,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `fleetkit ARGS` to completion; output captured, exit code not checked."""
    return subprocess.run(
        [*FLEETKIT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env=dict(env) if env is not None else None,
    )


def json_events(stdout: str) -> list[dict[str, Any]]:
    """The JSON-lines events of a `--json` run."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def free_loopback_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
