"""A dockerd per lab host (`lab up --docker`), entered into the host's own namespaces.

Its data root is the plain directory bind-mounted on /var/lib/docker (overlay2
cannot sit on an overlay), its socket and exec root sit in the host's private
/run, its iptables rules in the host's own netns. Settings live in the host's
/etc/docker/daemon.json (no command-line flags, so playbooks may rewrite it),
and containers get a cgroup parent per host so `lab down` can remove them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path

from fleetkit.errors import LabError
from fleetkit.lab.checks import Tools
from fleetkit.lab.host import spawn_in_host, wait_until_answering
from fleetkit.lab.layout import HostSpec, LabPaths, registry_address

CGROUP_PREFIX = "fleetkit-lab-"


def daemon_json(spec: HostSpec) -> str:
    """The host's /etc/docker/daemon.json: the lab registry is insecure (plain HTTP)."""
    config = {
        "insecure-registries": [registry_address()],
        "storage-driver": "overlay2",
        "cgroup-parent": f"/{CGROUP_PREFIX}{spec.name}",
        "log-level": "warn",
    }
    return json.dumps(config, indent=2) + "\n"


def dockerd_log(paths: LabPaths, spec: HostSpec) -> Path:
    """The host's dockerd output, in the state dir."""
    return paths.host_dir(spec.name) / "dockerd.log"


def start_dockerd(tools: Tools, paths: LabPaths, spec: HostSpec) -> int:
    """Start the host's dockerd inside its namespaces; returns the dockerd pid."""
    assert tools.dockerd is not None
    return spawn_in_host(tools, paths, spec, [tools.dockerd], dockerd_log(paths, spec))


def socket_path(dockerd_pid: int) -> Path:
    """The host's docker socket seen from the machine (through the daemon's own root)."""
    return Path(f"/proc/{dockerd_pid}/root/run/docker.sock")


def ping(dockerd_pid: int, *, timeout: float = 1.0) -> bool:
    """True when the dockerd answers GET /_ping on its socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(socket_path(dockerd_pid)))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return sock.recv(64).split(b"\r\n", 1)[0].endswith(b" 200 OK")
    except OSError:
        return False


def wait_for_dockerd(
    specs: Sequence[HostSpec], pids: dict[str, int], paths: LabPaths, *, timeout_s: float
) -> None:
    """Poll every host's dockerd until it answers; LabError naming the ones that do not."""
    wait_until_answering(
        "dockerd",
        specs,
        pids,
        lambda pending: {s.name for s in pending if ping(pids[s.name])},
        lambda s: dockerd_log(paths, s),
        timeout_s=timeout_s,
        interval_s=0.1,
    )


def client_env(paths: LabPaths, dockerd_pid: int) -> dict[str, str]:
    """Environment for the docker CLI on the machine to talk to one host's dockerd."""
    config = paths.state_dir / "docker-client"
    config.mkdir(mode=0o700, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "DOCKER_HOST": f"unix://{socket_path(dockerd_pid)}",
        "DOCKER_CONFIG": str(config),  # never the user's ~/.docker
    }


def _cgroup_roots() -> list[Path]:
    """Mount points of every cgroup hierarchy (v1 controllers and the v2 unified one)."""
    roots = []
    try:
        text = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ", 1)[0] in ("cgroup", "cgroup2"):
            roots.append(Path(left.split(" ")[4]))
    return roots


def lab_cgroups() -> list[Path]:
    """Cgroup folders the lab's dockerds made (found by name in every hierarchy)."""
    found = []
    for root in _cgroup_roots():
        with contextlib.suppress(OSError):
            found += [p for p in root.iterdir() if p.name.startswith(CGROUP_PREFIX)]
    return sorted(found)


def remove_cgroups(*, timeout_s: float = 5.0) -> None:
    """Remove the lab's cgroup folders, innermost first (retried while tasks finish exiting)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = []
        for top in lab_cgroups():
            for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except FileNotFoundError:
                    pass
                except OSError:
                    left.append(dirpath)
        if not left:
            return
        if time.monotonic() > deadline:
            raise LabError(f"cannot remove cgroup {left[0]} (processes still in it?)")
        time.sleep(0.05)
