"""The Docker SDK is imported only when an engine is opened (start-up stays fast)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import fleetkit.cli, fleetkit.cli.swarm, fleetkit.modules.registry
import fleetkit.orchestrators.swarm, fleetkit.orchestrators.swarm_manager
heavy = sorted(m for m in ("docker", "requests", "urllib3", "paramiko") if m in sys.modules)
print(",".join(heavy))
"""


def test_cli_modules_and_the_swarm_driver_import_no_docker_sdk() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert "docker" not in out.split(",")
    assert "requests" not in out.split(",")
