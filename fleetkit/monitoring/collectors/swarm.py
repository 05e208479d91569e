"""Docker Swarm nodes and services, read from one manager with the docker CLI.

Only managers can answer `docker node ls` / `docker service ls`; the exporter
sends this section to one manager per cycle (inside that host's probe, so it
costs no extra round trip) and fails over to the next reachable manager when the
answer is missing or an error ("This node is not a swarm manager").
"""

from __future__ import annotations

import json
import re

from fleetkit.monitoring.collectors.containers import DOCKER_SELECT
from fleetkit.monitoring.snapshot import SwarmNode, SwarmService, SwarmSnapshot

# Groups whose hosts may answer for the swarm, in order of preference.
MANAGER_GROUPS: tuple[str, ...] = ("managers", "swarm_managers")

SCRIPT = (
    DOCKER_SELECT
    + "  for what in node service; do\n"
    + '    echo "@@fk@@ swarm_$what"\n'
    + "    out=$($D $what ls --format '{{json .}}' 2>&1)"
    + ' && printf "%s\\n" "$out" || echo "!error $(echo "$out" | head -n 1)"\n'
    + "  done\n"
    + "else echo '@@fk@@ swarm_node'; echo '!absent'; fi\n"
)

_REPLICAS = re.compile(r"^\s*(\d+)\s*/\s*(\d+)")


class SwarmUnavailable(Exception):
    """This host could not describe the swarm (not a manager, no docker, garbage)."""


def _json_lines(text: str, what: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("!absent"):
            raise SwarmUnavailable("docker is not installed")
        if line.startswith("!error"):
            raise SwarmUnavailable(line[len("!error") :].strip() or f"docker {what} ls failed")
        try:
            row = json.loads(line)
        except ValueError:
            raise SwarmUnavailable(f"unreadable `docker {what} ls` line {line[:80]!r}") from None
        if isinstance(row, dict):
            rows.append(row)
    return rows


def parse_nodes(text: str) -> tuple[SwarmNode, ...]:
    """`docker node ls --format '{{json .}}'` -> nodes. SwarmUnavailable on errors."""
    out = []
    for row in _json_lines(text, "node"):
        out.append(
            SwarmNode(
                node=str(row.get("Hostname", "")),
                role="manager" if row.get("ManagerStatus") else "worker",
                availability=str(row.get("Availability", "")).lower(),
                ready=str(row.get("Status", "")).lower() == "ready",
            )
        )
    return tuple(sorted(out, key=lambda n: n.node))


def parse_services(text: str) -> tuple[SwarmService, ...]:
    """`docker service ls --format '{{json .}}'` -> services with running/desired counts.

    Replicas reads "running/desired", possibly followed by "(max 1 per node)" or,
    for jobs, "(1/1 completed)".
    """
    out = []
    for row in _json_lines(text, "service"):
        m = _REPLICAS.match(str(row.get("Replicas", "")))
        if m is None:
            continue
        out.append(
            SwarmService(
                name=str(row.get("Name", "")),
                mode=str(row.get("Mode", "")),
                desired=int(m.group(2)),
                running=int(m.group(1)),
            )
        )
    return tuple(sorted(out, key=lambda s: s.name))


def parse_swarm(source: str, sections: dict[str, str]) -> SwarmSnapshot:
    """The swarm sections of one manager's probe -> SwarmSnapshot (or SwarmUnavailable)."""
    if "swarm_node" not in sections:
        raise SwarmUnavailable("no swarm section in the probe output")
    nodes = parse_nodes(sections["swarm_node"])
    services = parse_services(sections.get("swarm_service", ""))
    return SwarmSnapshot(source=source, nodes=nodes, services=services)
