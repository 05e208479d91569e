"""Observe the lab: read the record, check each host's namespaces and daemons."""

from __future__ import annotations

import os
from pathlib import Path

from fleetkit.lab import procs
from fleetkit.lab.layout import NETNS_DIR, LabPaths, registry_address
from fleetkit.lab.model import LabHost, LabState
from fleetkit.lab.registry import is_lab_registry
from fleetkit.lab.state import HostRecord, StateRecord, load_record


def _daemon_alive(pid: int | None, netns_inode: int | None, mnt_inode: int | None) -> bool:
    if os.geteuid() != 0:
        return procs.is_running(pid)  # a non-root caller cannot read a root process's ns links
    return procs.runs_in(pid, netns_inode) and procs.process_ns(pid or 0, "mnt") == mnt_inode


def observe_host(paths: LabPaths, record: HostRecord, *, docker: bool) -> LabHost:
    """One host as it is now: namespaces present? sshd (and dockerd) running inside them?"""
    netns_inode = procs.ns_inode(NETNS_DIR / record.netns)
    mnt_inode = procs.ns_inode(paths.mnt_ns(record.name))
    uts_inode = procs.ns_inode(paths.uts_ns(record.name))
    netns_alive = None not in (netns_inode, mnt_inode, uts_inode)
    return LabHost(
        name=record.name,
        address=record.address,
        netns=record.netns,
        sshd_pid=record.sshd_pid,
        netns_alive=netns_alive,
        sshd_alive=netns_alive and _daemon_alive(record.sshd_pid, netns_inode, mnt_inode),
        dockerd_pid=record.dockerd_pid if docker else None,
        dockerd_alive=(
            netns_alive and _daemon_alive(record.dockerd_pid, netns_inode, mnt_inode)
            if docker
            else None
        ),
    )


def observe(paths: LabPaths, record: StateRecord) -> LabState:
    """The lab described by record, with every liveness flag checked now."""
    hosts = tuple(observe_host(paths, h, docker=record.docker) for h in record.hosts)
    inventory = Path(record.inventories[-1][0]) if record.inventories else None
    return LabState(
        hosts=hosts,
        inventory=inventory,
        key=paths.key,
        known_hosts=paths.known_hosts,
        docker=record.docker,
        state_dir=paths.state_dir,
        created=record.created,
        registry=registry_address() if record.docker else None,
        registry_alive=is_lab_registry(record.registry_pid, paths) if record.docker else None,
        complete=record.phase == "up",
    )


def lab_status(*, paths: LabPaths | None = None) -> LabState | None:
    """The machine's lab as it is now, or None when there is no lab record."""
    paths = paths or LabPaths()
    record = load_record(paths)
    return observe(paths, record) if record is not None else None
