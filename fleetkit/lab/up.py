"""Bring the lab up: reuse a live lab, rebuild a half-dead one, or build a new one.

Building is batched where the kernel allows it (one `ip -batch` for all links),
done in-process where it can be (keys, upper dirs) and spread over a bounded
thread pool where each host needs its own processes (namespaces, sshd).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from fleetkit.errors import LabError
from fleetkit.lab import docker as dockerd
from fleetkit.lab import host as labhost
from fleetkit.lab import images, mounts, network, registry
from fleetkit.lab.checks import Tools, check_prerequisites
from fleetkit.lab.down import leftovers, teardown
from fleetkit.lab.hostfs import HostTemplate, make_template, populate_host
from fleetkit.lab.inventory_writer import (
    check_target,
    digest,
    file_digest,
    inventory_text,
    write_inventory,
)
from fleetkit.lab.keys import KeyPair, generate_ed25519, known_hosts_text, write_private_key
from fleetkit.lab.layout import (
    BRIDGE,
    BRIDGE_ADDRESS,
    HostSpec,
    LabPaths,
    host_specs,
    registry_address,
)
from fleetkit.lab.model import LabState
from fleetkit.lab.state import (
    HostRecord,
    StateRecord,
    atomic_write,
    lab_lock,
    load_record,
    save_record,
)
from fleetkit.lab.status import observe

Progress = Callable[[str], None]


class HostPids(NamedTuple):
    """The pids `lab up` records for one host."""

    init: int
    sshd: int
    dockerd: int | None


DEFAULT_INVENTORY = Path("inventory/lab/hosts.yml")


def _quiet(_: str) -> None:
    """A progress callback that says nothing."""


def _workers(count: int) -> int:
    """Threads for per-host steps: enough to overlap process start-up, bounded."""
    return max(1, min(count, 4 * (os.cpu_count() or 1), 16))


def lab_up(
    hosts: int = 3,
    docker: bool = False,
    inventory_out: Path = DEFAULT_INVENTORY,
    progress: Progress | None = None,
    *,
    paths: LabPaths | None = None,
) -> LabState:
    """Make sure a lab of `hosts` hosts is up and its inventory written; return its state.

    A live lab is reported and left as it is (with a note when it differs from the
    request); a half-dead one or leftovers are cleaned up first; a failed build is
    undone before the error is raised.
    """
    say = progress or _quiet
    paths = paths or LabPaths()
    tools = check_prerequisites(docker=docker)
    specs = host_specs(hosts)
    inventory_out = Path(os.path.abspath(inventory_out))
    check_target(inventory_out)
    with lab_lock(paths, say):
        state = _reuse_live_lab(paths, hosts, docker, inventory_out, say)
        if state is not None:
            return state
        if leftovers(paths):
            teardown(tools, paths, say)
        try:
            _build(tools, paths, specs, docker, inventory_out, say)
        except BaseException as err:
            say(f"lab up failed ({_short(err)}): removing what was made")
            with contextlib.suppress(Exception):
                teardown(tools, paths, _quiet)
            if isinstance(err, LabError | KeyboardInterrupt):
                raise
            raise LabError(f"lab up failed: {_short(err)}") from err
        record = load_record(paths)
        assert record is not None
        return observe(paths, record)


def _short(err: BaseException) -> str:
    return str(err) or type(err).__name__


def lab_inventory_text(count: int, docker: bool, paths: LabPaths | None = None) -> str:
    """The inventory `lab up` writes for a lab of count hosts, as this version writes it."""
    return _lab_inventory(paths or LabPaths(), count, docker)


def _lab_inventory(paths: LabPaths, count: int, docker: bool) -> str:
    """The inventory text of a lab of count hosts (with registry and image vars if docker)."""
    return inventory_text(
        host_specs(count), paths, docker_vars=images.inventory_vars() if docker else None
    )


def _why_dead(state: LabState) -> str:
    if not state.complete:
        return "an earlier `lab up` did not finish"
    dead = [h for h in state.hosts if not h.alive]
    why = [f"{h.name}: {'; '.join(h.problems())}" for h in dead[:5]]
    if len(dead) > 5:
        why.append(f"and {len(dead) - 5} more hosts")
    if state.registry_alive is False:
        why.append("registry not running")
    return ", ".join(why)


def _reuse_live_lab(
    paths: LabPaths, hosts: int, docker: bool, inventory_out: Path, say: Progress
) -> LabState | None:
    """The live lab's state if there is one (nothing rebuilt); None to (re)build."""
    record = load_record(paths)
    if record is None:
        return None
    state = observe(paths, record)
    if not state.alive:
        say(f"the lab is half dead ({_why_dead(state)}): cleaning up and rebuilding")
        return None
    kind = "--docker " if state.docker else ""
    if len(state.hosts) != hosts or state.docker != docker:
        want = "--docker " if docker else ""
        say(
            f"a {kind}lab with {len(state.hosts)} hosts is already up, not the {want}lab "
            f"with {hosts} hosts asked for: run `fleetkit lab down` first to change it"
        )
        return state
    say(f"the {kind}lab is already up with {len(state.hosts)} hosts: nothing to do")
    text = _lab_inventory(paths, len(state.hosts), state.docker)
    if file_digest(inventory_out) != digest(text):
        sha = write_inventory(inventory_out, text)
        kept = tuple(i for i in record.inventories if i[0] != str(inventory_out))
        record = replace(record, inventories=(*kept, (str(inventory_out), sha)))
        save_record(paths, record)
        say(f"wrote inventory {inventory_out}")
    return replace(state, inventory=inventory_out)


def _build(
    tools: Tools,
    paths: LabPaths,
    specs: Sequence[HostSpec],
    docker: bool,
    inventory_out: Path,
    say: Progress,
) -> None:
    """Build the lab from nothing; the caller tears down whatever exists if this raises."""
    started = time.monotonic()
    paths.state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    paths.hosts_dir.mkdir(mode=0o700, exist_ok=True)
    paths.secret_dir.mkdir(mode=0o700, exist_ok=True)
    mounts.mount_tmpfs(paths.secret_dir, "mode=0700,size=1m")
    say(f"generating keys for {len(specs)} hosts")
    client = generate_ed25519()
    write_private_key(paths.key, client, comment="fleetkit-lab")
    host_keys = {s.name: generate_ed25519() for s in specs}
    template = make_template(specs, client.public_openssh, docker=docker)
    record = StateRecord(
        hosts=tuple(HostRecord(name=s.name, address=s.address, netns=s.netns) for s in specs),
        docker=docker,
        created=time.time(),
    )
    save_record(paths, record)

    say(f"creating bridge {BRIDGE} with {BRIDGE_ADDRESS}/15")
    network.create_bridge(tools)
    rules = network.allow_bridge_forwarding(tools)
    if rules:
        record = replace(record, iptables_rules=rules)
        save_record(paths, record)
    if docker:
        say(f"starting the lab registry on {registry_address()}")
        record = replace(record, registry_pid=registry.start_registry(tools, paths))
        save_record(paths, record)
    paths.ns_dir.mkdir(mode=0o700, exist_ok=True)
    mounts.bind_private(paths.ns_dir)
    say(f"creating {len(specs)} network namespaces")
    network.create_host_links(tools, specs)

    pids = _build_hosts(tools, paths, specs, template, host_keys, docker, say)
    record = replace(
        record,
        hosts=tuple(
            replace(
                h,
                init_pid=pids[h.name].init,
                sshd_pid=pids[h.name].sshd,
                dockerd_pid=pids[h.name].dockerd,
            )
            for h in record.hosts
        ),
    )
    save_record(paths, record)

    say(f"waiting for sshd on {len(specs)} hosts")
    sshd_pids = {name: p.sshd for name, p in pids.items()}
    labhost.wait_for_sshd(specs, sshd_pids, paths, timeout_s=30.0 + 0.1 * len(specs))
    if docker:
        assert record.registry_pid is not None
        registry.wait_for_registry(record.registry_pid, paths)
        say(f"waiting for dockerd on {len(specs)} hosts")
        dockerd_pids = {name: p.dockerd for name, p in pids.items() if p.dockerd is not None}
        dockerd.wait_for_dockerd(specs, dockerd_pids, paths, timeout_s=60.0 + 0.5 * len(specs))
        say(f"seeding images into the lab registry (built on {specs[0].name})")
        images.seed_images(tools, paths, dockerd_pids[specs[0].name])
    atomic_write(
        paths.known_hosts,
        known_hosts_text((s.address, host_keys[s.name].public_openssh) for s in specs),
        mode=0o644,
    )
    text = _lab_inventory(paths, len(specs), docker)
    sha = write_inventory(inventory_out, text)
    record = replace(record, phase="up", inventories=((str(inventory_out), sha),))
    save_record(paths, record)
    say(f"lab is up: {len(specs)} hosts in {time.monotonic() - started:.1f}s")


def _build_hosts(
    tools: Tools,
    paths: LabPaths,
    specs: Sequence[HostSpec],
    template: HostTemplate,
    host_keys: dict[str, KeyPair],
    docker: bool,
    say: Progress,
) -> dict[str, HostPids]:
    """Build every host in a bounded pool; returns its daemons' pids by host name."""

    def build_one(spec: HostSpec) -> HostPids:
        config = dockerd.daemon_json(spec) if docker else None
        populate_host(paths, spec, template, host_keys[spec.name], daemon_json=config)
        labhost.make_namespaces(tools, paths, spec)
        init = labhost.start_init(tools, paths, spec)
        sshd = labhost.start_sshd(tools, paths, spec)
        return HostPids(init, sshd, dockerd.start_dockerd(tools, paths, spec) if docker else None)

    total = len(specs)
    step = max(1, total // 10)
    pids: dict[str, HostPids] = {}
    say(f"building {total} hosts")
    with ThreadPoolExecutor(max_workers=_workers(total), thread_name_prefix="lab") as pool:
        futures = {pool.submit(build_one, s): s for s in specs}
        pending: set[Future[HostPids]] = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                err = fut.exception()
                if err is not None:
                    for other in pending:
                        other.cancel()
                    raise err
                pids[futures[fut].name] = fut.result()
                if len(pids) % step == 0 or len(pids) == total:
                    say(f"built {len(pids)}/{total} hosts")
    return pids
