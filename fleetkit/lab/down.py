"""Tear the lab down from any partial state (with or without a record); safe twice.

Order: stop every process living in a lab namespace, unmount everything under the
state dir, delete netns/veths/bridge and the lab's iptables rules, remove the
inventories it wrote (if unchanged) and finally the state dir itself.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path

from fleetkit.errors import LabError
from fleetkit.lab import docker, mounts, network, procs, registry
from fleetkit.lab.checks import Tools, cleanup_tools
from fleetkit.lab.inventory_writer import file_digest
from fleetkit.lab.layout import NETNS_DIR, LabPaths
from fleetkit.lab.state import StateRecord, lab_lock, load_record, remove_root_if_empty

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """A progress callback that says nothing."""


def leftovers(paths: LabPaths) -> list[str]:
    """What of a lab exists now (netns, links, mounts, state dir), for messages and tests."""
    found = [f"netns {n}" for n in network.lab_netns_names()]
    found += [f"link {n}" for n in network.lab_links()]
    found += [f"mount {p}" for p in mounts.mount_points_under(paths.state_dir)]
    found += [f"cgroup {p}" for p in docker.lab_cgroups()]
    if paths.state_dir.exists():
        found.append(f"dir {paths.state_dir}")
    return found


def lab_namespace_inodes(paths: LabPaths, record: StateRecord | None) -> set[int]:
    """Inodes of every lab namespace still pinned (netns by name, mount/UTS ns files)."""
    names = set(network.lab_netns_names())
    if record is not None:
        names |= {h.netns for h in record.hosts}
    files = [NETNS_DIR / n for n in names]
    with contextlib.suppress(OSError):
        files += [p for p in paths.ns_dir.iterdir() if p.suffix in (".mnt", ".uts")]
    return {ino for f in files if (ino := procs.ns_inode(f)) is not None}


def lab_processes(paths: LabPaths, record: StateRecord | None) -> tuple[list[int], list[int]]:
    """(the lab's processes, processes that entered the lab from outside).

    The lab's: its recorded daemons, the registry, every process in a lab namespace
    that leads its own session (the lab starts its daemons with setsid; daemons and
    shims a playbook started do the same) or whose parent is init (orphans a
    playbook left running), and all their descendants (containers run in namespaces
    of their own). A process in a lab namespace started from a session outside the
    lab (an operator's `nsenter ... bash` in a terminal, a debugger) is someone's
    session: `lab down` leaves it alone and says so (issue 12).
    """
    table = procs.process_table()
    inside = set(procs.pids_in_namespaces(lab_namespace_inodes(paths, record)))
    daemons = set(registry.registry_pids(paths))
    if record is not None:
        daemons |= {p for h in record.hosts for p in (h.init_pid, h.sshd_pid, h.dockerd_pid) if p}
    leaders = {p for p in inside if p in table and table[p][1] == p}
    parent = {pid: ppid for pid, (ppid, _) in table.items()}
    return split_lab_processes(inside, (daemons | leaders) & set(parent), parent)


def split_lab_processes(
    inside: set[int], daemons: set[int], parent: dict[int, int]
) -> tuple[list[int], list[int]]:
    """(lab, visitors) among inside (processes in lab namespaces); daemons are the lab's
    own roots (recorded daemons, session leaders)."""
    roots = daemons | {p for p in inside if parent.get(p, 1) in (0, 1)}
    lab = procs.descendants(roots, parent)
    visitors = procs.descendants(inside - lab, parent) - lab
    return sorted(lab), sorted(visitors)


def _unmount_all(paths: LabPaths) -> None:
    """Unmount namespace files and anything else mounted under the state dir."""
    for point in mounts.mount_points_under(paths.state_dir):
        try:
            mounts.umount(point)
        except OSError:
            with contextlib.suppress(OSError):
                mounts.umount(point, detach=True)
    remaining = mounts.mount_points_under(paths.state_dir)
    if remaining:
        raise LabError(f"cannot unmount {remaining[0]} (still busy?)")


def _remove_inventories(record: StateRecord | None, say: Progress) -> None:
    """Remove each inventory the lab wrote, unless it was changed since."""
    if record is None:
        return
    for path_text, sha in record.inventories:
        path = Path(path_text)
        current = file_digest(path)
        if current is None:
            continue
        if current == sha:
            path.unlink(missing_ok=True)
            say(f"removed inventory {path}")
        else:
            say(f"left inventory {path} in place (changed since `lab up` wrote it)")


def teardown(tools: Tools, paths: LabPaths, say: Progress) -> bool:
    """Remove whatever exists of the lab (caller holds the lock). True if anything was found."""
    record = load_record(paths)
    found = leftovers(paths)
    pids, visitors = lab_processes(paths, record)
    if not found and not pids and record is None:
        return False
    if visitors:
        say(
            f"left {len(visitors)} processes that entered the lab from outside running"
            f" (pids {' '.join(map(str, visitors[:10]))}): they lose the lab's network"
        )
    if pids:
        say(f"stopping {len(pids)} lab processes")
        procs.stop_processes(pids)
    docker.remove_cgroups()
    say("unmounting lab namespaces")
    _unmount_all(paths)
    say("deleting lab network")
    network.delete_network(tools, [h.netns for h in record.hosts] if record else [])
    network.remove_iptables_rules(tools, record.iptables_rules if record else ())
    _remove_inventories(record, say)
    if paths.state_dir.exists():
        shutil.rmtree(paths.state_dir)
    left = leftovers(paths)
    if left:
        raise LabError(f"lab down left something behind: {', '.join(left[:5])}")
    return True


def lab_down(progress: Progress | None = None, *, paths: LabPaths | None = None) -> None:
    """Remove the machine's lab, whatever state it is in; does nothing if there is none."""
    say = progress or _quiet
    paths = paths or LabPaths()
    tools = cleanup_tools()
    with lab_lock(paths, say):
        if teardown(tools, paths, say):
            say("lab is down")
        else:
            say("no lab on this machine: nothing to do")
        remove_root_if_empty(paths)
