"""A cluster's status as aligned text: nodes, services with replicas per node, warnings."""

from __future__ import annotations

from collections.abc import Sequence

from fleetkit.orchestrators.base import ClusterStatus

MAX_ENDPOINTS = 6


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render(status: ClusterStatus) -> str:
    """Human text for `fleetkit swarm status` (one line per node and per service)."""
    leader = next((n.hostname for n in status.nodes if n.leader), "?")
    lines = [f"swarm status from {status.source} (leader: {leader})", "", "NODES"]
    node_rows = [["HOSTNAME", "ROLE", "STATE", "AVAILABILITY", "MANAGER", "ADDRESS", "ENGINE"]]
    for n in status.nodes:
        manager = "leader" if n.leader else n.reachability
        node_rows.append(
            [n.hostname, n.role, n.state, n.availability, manager, n.address, n.engine_version]
        )
    lines += _table(node_rows)
    lines += ["", "SERVICES"]
    if not status.services:
        lines.append("(none)")
    else:
        rows = [["NAME", "REPLICAS", "IMAGE", "PER NODE", "UPDATE"]]
        for s in status.services:
            per_node = " ".join(f"{k}={v}" for k, v in s.per_node.items()) or "-"
            rows.append(
                [s.name, f"{s.running}/{s.desired}", s.image, per_node, s.update_state or ""]
            )
        lines += _table(rows)
        for s in status.services:
            if s.endpoints:
                shown = " ".join(f"{e.address}:{e.port}" for e in s.endpoints[:MAX_ENDPOINTS])
                more = len(s.endpoints) - MAX_ENDPOINTS
                lines.append(
                    f"{s.name} answers on {shown}" + (f" (+{more} more)" if more > 0 else "")
                )
    for warning in status.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines) + "\n"
