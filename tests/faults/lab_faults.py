"""Faults injected into real lab hosts, each a context manager that always undoes itself.

- `frozen(host, listener=, sessions=)`: SIGSTOP the host's sshd listener and/or the
  sshd processes serving open sessions (thawed on exit; pids unchanged);
- `killed_sessions(host)`: SIGKILL the sshd processes serving open sessions (the
  listener stays, so the host can be reached again at once);
- `link_down(host)`: the host's veth (root side) down, up again on exit;
- `nft(host, kind)`: an nftables table in the host's own network namespace on
  inbound SSH: `drop` (blackhole), `reject` (TCP reset) or `loss` (numgen random:
  `percent` of packets dropped; this kernel has no netem);
- `full_disk(host, path, size)`: a tiny tmpfs mounted at path inside the host's
  mount namespace, unmounted on exit.

Each fault touches one lab host's own namespaces or its veth only, never the
machine's network (traffic stays on the lab bridge).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace

from fleetkit.lab import lab_status
from fleetkit.lab.checks import cleanup_tools
from fleetkit.lab.host import enter_argv
from fleetkit.lab.layout import LabPaths, host_spec
from fleetkit.lab.procs import children_of

NFT_TABLE = "fkfault"


def _index(host: str) -> int:
    return int(host.removeprefix("lab"))


def sshd_pids(host: str) -> tuple[int, list[int]]:
    """The host's sshd listener pid and the pids of the sshd processes under it."""
    live = lab_status()
    assert live is not None, "no lab"
    listener = live.host(host).sshd_pid
    assert listener, f"{host} has no sshd"
    return listener, children_of([listener])


def wait_for_sessions(host: str, count: int = 1, timeout: float = 10.0) -> list[int]:
    """Wait until the host's sshd serves at least count sessions; their pids."""
    deadline = time.monotonic() + timeout
    while True:
        _, sessions = sshd_pids(host)
        if len(sessions) >= count or time.monotonic() > deadline:
            return sessions
        time.sleep(0.1)


def _signal_all(pids: Sequence[int], sig: signal.Signals) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


@contextmanager
def frozen(host: str, *, listener: bool = True, sessions: bool = True) -> Iterator[list[int]]:
    """SIGSTOP the host's sshd listener and/or its session processes; SIGCONT on exit."""
    master, children = sshd_pids(host)
    pids = ([master] if listener else []) + (children if sessions else [])
    _signal_all(pids, signal.SIGSTOP)
    try:
        yield pids
    finally:
        _signal_all(pids, signal.SIGCONT)


def killed_sessions(host: str) -> list[int]:
    """SIGKILL every sshd process serving a session of the host (not the listener)."""
    _, children = sshd_pids(host)
    everything = children + children_of(children)
    _signal_all(everything, signal.SIGKILL)
    return everything


def _run(argv: Sequence[str]) -> None:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=30)
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stderr.strip()}"


@contextmanager
def link_down(host: str) -> Iterator[None]:
    """The host's veth down (its side of the lab bridge), up again on exit."""
    veth = host_spec(_index(host)).veth
    _run(["ip", "link", "set", veth, "down"])
    try:
        yield
    finally:
        _run(["ip", "link", "set", veth, "up"])


NFT_RULES = {
    "drop": "tcp dport 22 counter drop",
    "reject": "tcp dport 22 counter reject with tcp reset",
}


@dataclass(frozen=True)
class NftFault:
    """A live nftables fault; packets() is how many packets its rule has hit so far."""

    netns: str

    def packets(self) -> int:
        proc = subprocess.run(
            ["ip", "netns", "exec", self.netns, "nft", "list", "table", "inet", NFT_TABLE],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        found = re.search(r"counter packets (\d+)", proc.stdout)
        return int(found.group(1)) if found else 0


@contextmanager
def nft(host: str, kind: str, *, percent: int = 20) -> Iterator[NftFault]:
    """Inbound SSH to host dropped, reset, or randomly lost, inside the host's netns."""
    rule = NFT_RULES.get(kind) or f"tcp dport 22 numgen random mod 100 < {percent} counter drop"
    netns = host_spec(_index(host)).netns
    script = (
        f"add table inet {NFT_TABLE}\n"
        f"add chain inet {NFT_TABLE} input {{ type filter hook input priority -10; }}\n"
        f"add rule inet {NFT_TABLE} input {rule}\n"
    )
    proc = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-f", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    try:
        yield NftFault(netns)
    finally:
        _run(["ip", "netns", "exec", netns, "nft", "delete", "table", "inet", NFT_TABLE])


def in_host(host: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """argv run inside the host's namespaces (as root, from the machine)."""
    spec = host_spec(_index(host))
    return subprocess.run(
        [*enter_argv(cleanup_tools(), LabPaths(), spec), *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@contextmanager
def full_disk(host: str, path: str, size: str = "64k") -> Iterator[None]:
    """A size-byte tmpfs at path inside the host (path made first); unmounted on exit."""
    made = in_host(host, "mkdir", "-p", path)
    assert made.returncode == 0, made.stderr
    mounted = in_host(host, "mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "fkfull", path)
    assert mounted.returncode == 0, mounted.stderr
    try:
        yield
    finally:
        in_host(host, "umount", "-l", path)


@dataclass
class Table:
    """The fault suite's scenario -> outcome rows, printed at the end of the session."""

    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, scenario: str, outcome: str) -> None:
        self.rows.append((scenario, outcome))

    def markdown(self) -> str:
        lines = ["| scenario | outcome |", "| --- | --- |"]
        lines += [f"| {s} | {o} |" for s, o in self.rows]
        return "\n".join(lines)


def _recorded(host: str | None = None) -> int:
    """The recorded dockerd pid of host, or the registry's pid (host None)."""
    from fleetkit.lab.state import load_record

    if host is None:
        record = load_record(LabPaths())
        pid = record.registry_pid if record is not None else None
    else:
        live = lab_status()
        assert live is not None, "no lab"
        pid = live.host(host).dockerd_pid
    assert pid, f"no recorded {'dockerd of ' + host if host else 'registry'}"
    return pid


def kill_dockerd(host: str) -> int:
    """SIGKILL the host's dockerd (its containerd and containers keep running); the pid."""
    pid = _recorded(host)
    os.kill(pid, signal.SIGKILL)
    _reaped(pid)
    return pid


def _reaped(pid: int, timeout: float = 10.0) -> None:
    """Wait until a killed daemon is gone from the process table: reaped here when this
    process started it (a lab made in-process, as the test session does), else by
    init. A zombie still counts as running for dockerd's pid-file check."""
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)


def restart_dockerd(host: str) -> int:
    """Start the host's dockerd again after a kill and record its new pid in the lab's
    state, so the lab is whole again (nothing rebuilt); the new pid."""
    from fleetkit.lab.checks import check_prerequisites
    from fleetkit.lab.docker import start_dockerd, wait_for_dockerd
    from fleetkit.lab.state import lab_lock, load_record, save_record

    paths, spec = LabPaths(), host_spec(_index(host))
    with lab_lock(paths):
        pid = start_dockerd(check_prerequisites(docker=True), paths, spec)
        wait_for_dockerd([spec], {host: pid}, paths, timeout_s=120)
        record = load_record(paths)
        assert record is not None
        hosts = tuple(replace(h, dockerd_pid=pid) if h.name == host else h for h in record.hosts)
        save_record(paths, replace(record, hosts=hosts))
    return pid


@contextmanager
def registry_stopped() -> Iterator[None]:
    """The lab registry killed; started again (and recorded) on exit."""
    from fleetkit.lab.checks import check_prerequisites
    from fleetkit.lab.registry import start_registry, wait_for_registry
    from fleetkit.lab.state import lab_lock, load_record, save_record

    pid = _recorded()
    os.kill(pid, signal.SIGKILL)
    _reaped(pid)
    try:
        yield
    finally:
        paths = LabPaths()
        with lab_lock(paths):
            new = start_registry(check_prerequisites(docker=True), paths)
            wait_for_registry(new, paths)
            record = load_record(paths)
            assert record is not None
            save_record(paths, replace(record, registry_pid=new))
