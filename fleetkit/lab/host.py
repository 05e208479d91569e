"""One lab host: its mount, UTS and PID namespaces, its mounts, and daemons started inside.

The namespaces are kept alive by bind-mounting them to files in the state dir
(`unshare --mount=FILE --uts=FILE`), so every later command enters them with
`nsenter` (never `ip netns exec`: it remounts /sys). A PID namespace also needs
its init alive: each host runs `tini` as its pid 1 (it reaps the orphans a
playbook leaves), and its /proc is its own, so a host's root sees and signals the
host's processes only, and `/proc/1/root` is the host's own root (issue 12).
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from fleetkit.errors import LabError
from fleetkit.lab import mounts, procs
from fleetkit.lab.checks import Tools
from fleetkit.lab.hostfs import DOCKER_DATA, OVERLAY_DIRS, read_only_dirs
from fleetkit.lab.layout import NETNS_DIR, HostSpec, LabPaths
from fleetkit.lab.network import host_side_ip_batch

DAEMON_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
SCRIPT_TIMEOUT_S = 60.0
SSHD_PRIVSEP = "/run/sshd"
# A daemonless systemctl (Debian's `systemctl` package, docker-systemctl-replacement),
# unpacked here by `make setup` (it conflicts with the installed systemd, so it is
# not installed). Bound over /usr/bin/systemctl inside each host, it lets service
# tasks and unit files run on lab hosts as on real systemd fleets; no init runs here.
SYSTEMCTL_SHIM = Path("/usr/local/lib/fleetkit/systemctl")
SYSTEMCTL = Path("/usr/bin/systemctl")


def host_fstab(paths: LabPaths, spec: HostSpec) -> str:
    """The host's mounts, in order, for one `mount -a -T FILE` (one process, not a dozen).

    /var comes last: the other overlays' upper dirs are reached through the
    machine's /var. The machine's other top-level folders are bound read-only.
    /var/lib/docker must be a plain directory (overlay2 cannot sit on an overlay),
    so it is bound on /run/sshd before /var is overlaid and moved in after, which
    leaves /run/sshd as sshd's (empty) privilege-separation dir.
    """
    base = paths.host_dir(spec.name)

    def overlay(name: str) -> str:
        upper, work = base / "upper" / name, base / "work" / name
        return f"overlay /{name} overlay lowerdir=/{name},upperdir={upper},workdir={work} 0 0"

    lines = [overlay(name) for name in OVERLAY_DIRS if name != "var"]
    lines += [f"/{name} /{name} none bind,ro 0 0" for name in read_only_dirs()]
    lines += [
        "tmpfs /tmp tmpfs mode=1777,nosuid,nodev 0 0",
        "tmpfs /run tmpfs mode=755,nosuid,nodev 0 0",
        "tmpfs /run/lock tmpfs mode=1777,nosuid,nodev,noexec,size=5m,X-mount.mkdir=0755 0 0",
        f"{base / 'docker'} {SSHD_PRIVSEP} none bind,X-mount.mkdir=0755 0 0",
        overlay("var"),
        # Hide the lab's state (client key, other hosts' layers) from the host.
        "tmpfs /var/lib/fleetkit tmpfs mode=755,size=64k 0 0",
    ]
    if SYSTEMCTL_SHIM.is_file() and SYSTEMCTL.exists():
        lines.append(f"{SYSTEMCTL_SHIM} {SYSTEMCTL} none bind,ro 0 0")
    if any(c.isspace() for c in str(base)):
        raise LabError(f"the lab's state dir cannot hold white space: {base}")
    return "\n".join(lines) + "\n"


def host_script(paths: LabPaths, spec: HostSpec) -> str:
    """The sh script run inside a host's new namespaces: network, mounts, hostname.

    Every path in it is the lab's own (quoted); nothing comes from user input.
    """
    q = shlex.quote
    fstab = paths.host_dir(spec.name) / "fstab"
    lines = [
        "set -e",
        # This namespace copied the machine's mounts: drop the lab's namespace files
        # (they would keep other hosts' namespaces alive) before anything else.
        f"umount -l {q(str(paths.ns_dir))} {q(str(NETNS_DIR))} 2>/dev/null || true",
        # and the lab's secrets (the client key): detached, not hidden, so no unmount
        # inside the host brings them back.
        f"umount -l {q(str(paths.secret_dir))}",
        "for f in /proc/sys/net/ipv6/conf/eth0/disable_ipv6"
        " /proc/sys/net/ipv6/conf/default/disable_ipv6; do"
        ' if [ -w "$f" ]; then echo 1 > "$f"; fi; done',
        "ip -batch - <<'FLEETKIT_EOF'",
        host_side_ip_batch(spec).rstrip("\n"),
        "FLEETKIT_EOF",
        f"mount -a -T {q(str(fstab))}",
        f"mount --move {SSHD_PRIVSEP} /{DOCKER_DATA}",
        # The machine's root folder itself: a file or folder made at / on a host
        # fails there (read-only) instead of landing on the machine (issue 12).
        "mount -o remount,bind,ro /",
        f"echo {q(spec.name)} > /proc/sys/kernel/hostname",
    ]
    return "\n".join(lines) + "\n"


def make_namespaces(tools: Tools, paths: LabPaths, spec: HostSpec) -> None:
    """Create the host's mount and UTS namespaces (pinned to files) and set them up."""
    mnt, uts = paths.mnt_ns(spec.name), paths.uts_ns(spec.name)
    for f in (mnt, uts):
        f.touch(mode=0o600, exist_ok=True)
    (paths.host_dir(spec.name) / "fstab").write_text(host_fstab(paths, spec), encoding="utf-8")
    argv = [
        tools.nsenter, f"--net={spec.netns_path}", "--",
        tools.unshare, f"--mount={mnt}", f"--uts={uts}", "--propagation", "private", "--",
        tools.sh, "-c", host_script(paths, spec),
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, check=False,
            env=DAEMON_ENV, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired as err:
        raise LabError(
            f"{spec.name}: setting up its namespaces took over {err.timeout:.0f}s"
        ) from err
    if proc.returncode != 0:
        raise LabError(
            f"{spec.name}: setting up its namespaces failed: "
            f"{(proc.stderr or proc.stdout).strip() or f'exit {proc.returncode}'}"
        )


def enter_argv(tools: Tools, paths: LabPaths, spec: HostSpec) -> list[str]:
    """The nsenter prefix that runs a command inside the host (mount, UTS, net, PID).

    nsenter forks to enter the PID namespace: the command is nsenter's child.
    """
    return [
        tools.nsenter,
        f"--mount={paths.mnt_ns(spec.name)}",
        f"--uts={paths.uts_ns(spec.name)}",
        f"--net={spec.netns_path}",
        f"--pid={paths.pid_ns(spec.name)}",
        "--",
    ]


def init_log(paths: LabPaths, spec: HostSpec) -> Path:
    """The host's init output (tini), in the state dir."""
    return paths.host_dir(spec.name) / "init.log"


# Run inside the host's PID namespace: the machine's /proc (every machine process,
# /proc/1/root the machine's root) is detached, the host's own mounted in its place.
OWN_PROC = "umount -l /proc && mount -t proc -o nosuid,nodev,noexec proc /proc"


def start_init(tools: Tools, paths: LabPaths, spec: HostSpec) -> int:
    """Start the host's init (pid 1 of a new PID namespace), pin that namespace and mount
    the host's own /proc. Returns the pid of the `unshare` holding the init: its death
    kills the init, and so every process of the host.
    """
    argv = [
        tools.nsenter, f"--mount={paths.mnt_ns(spec.name)}", f"--uts={paths.uts_ns(spec.name)}",
        f"--net={spec.netns_path}", "--",
        tools.unshare, "--pid", "--fork", "--kill-child", "--",
        tools.tini, "--", tools.sleep, "infinity",
    ]  # fmt: skip
    log = init_log(paths, spec)
    holder = spawn_daemon(argv, log)
    init = child_of(holder, log, what="init")
    pin = paths.pid_ns(spec.name)
    pin.touch(mode=0o600, exist_ok=True)
    mounts.bind(Path(f"/proc/{init}/ns/pid"), pin)
    proc = subprocess.run(
        [*enter_argv(tools, paths, spec), tools.sh, "-c", OWN_PROC],
        capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, check=False,
        env=DAEMON_ENV, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if proc.returncode != 0:
        raise LabError(f"{spec.name}: mounting its own /proc failed: {proc.stderr.strip()}")
    return holder


def child_of(pid: int, log: Path, *, what: str, timeout_s: float = 10.0) -> int:
    """The first child of pid (nsenter or unshare forks the real process); LabError naming
    what if pid exits first or has none within timeout_s."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = children.read_text(encoding="ascii").split()
        except OSError:
            found = []
        if found:
            return int(found[0])
        if not procs.is_running(pid):
            raise LabError(f"{what} exited at start: {tail(log)}")
        if time.monotonic() > deadline:
            raise LabError(f"{what} did not start within {timeout_s:.0f}s: {tail(log)}")
        time.sleep(0.002)


def spawn_in_host(
    tools: Tools, paths: LabPaths, spec: HostSpec, argv: Sequence[str], log: Path
) -> int:
    """Start argv as a daemon inside the host (see spawn_daemon); returns the daemon's pid
    as the machine sees it.

    Entering a PID namespace makes nsenter fork, and nsenter then waits as the
    daemon's parent and copies its stops: a SIGSTOPped daemon stops nsenter too,
    which then never reaps the daemon's zombie. So nsenter is killed once the
    daemon runs: the daemon is adopted by the machine's init (the kernel picks the
    reaper from the dead parent's namespace), as the lab's daemons were before
    hosts had a PID namespace.
    """
    entered = spawn_daemon([*enter_argv(tools, paths, spec), *argv], log)
    try:
        return child_of(entered, log, what=f"{spec.name}: {Path(argv[0]).name}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(entered, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(entered, 0)


def spawn_daemon(argv: Sequence[str], log: Path) -> int:
    """Start argv detached (own session, stdin /dev/null, output to log) and return its pid.

    posix_spawn (not Popen) because the lab outlives this process: nothing here
    waits for it.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    return os.posix_spawn(
        argv[0],
        list(argv),
        DAEMON_ENV,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), flags, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )


def sshd_log(paths: LabPaths, spec: HostSpec) -> Path:
    """The host's sshd output (-e), in the state dir."""
    return paths.host_dir(spec.name) / "sshd.log"


def start_sshd(tools: Tools, paths: LabPaths, spec: HostSpec) -> int:
    """Start the host's sshd in its namespaces; returns the sshd pid."""
    argv = [tools.sshd, "-D", "-e", "-f", "/etc/ssh/sshd_config"]
    return spawn_in_host(tools, paths, spec, argv, sshd_log(paths, spec))


def accepting(addresses: Sequence[str], *, port: int = 22, timeout: float = 0.5) -> set[str]:
    """The addresses that accept a TCP connection on port, tried all at once (non-blocking)."""
    ok: set[str] = set()
    for i in range(0, len(addresses), 256):  # stay well below the open-files limit
        ok |= _accepting_chunk(addresses[i : i + 256], port, timeout)
    return ok


def _accepting_chunk(addresses: Sequence[str], port: int, timeout: float) -> set[str]:
    ok: set[str] = set()
    with selectors.DefaultSelector() as sel:
        for address in addresses:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            rc = sock.connect_ex((address, port))
            if rc == 0:
                ok.add(address)
                sock.close()
            elif rc == errno.EINPROGRESS:
                sel.register(sock, selectors.EVENT_WRITE, address)
            else:
                sock.close()
        deadline = time.monotonic() + timeout
        while sel.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, _ in sel.select(left):
                conn = key.fileobj
                assert isinstance(conn, socket.socket)
                if conn.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    ok.add(key.data)
                sel.unregister(conn)
                conn.close()
        for key in list(sel.get_map().values()):
            sel.unregister(key.fileobj)
            assert isinstance(key.fileobj, socket.socket)
            key.fileobj.close()
    return ok


def wait_until_answering(
    daemon: str,
    specs: Sequence[HostSpec],
    pids: Mapping[str, int],
    answering: Callable[[Sequence[HostSpec]], Collection[str]],
    log: Callable[[HostSpec], Path],
    *,
    timeout_s: float,
    interval_s: float,
) -> None:
    """Poll until every host's daemon answers; LabError naming the ones that died or did not.

    answering(pending) gives the names of the pending hosts whose daemon answers now.
    """
    pending = list(specs)
    deadline = time.monotonic() + timeout_s
    while pending:
        answered = answering(pending)
        pending = [s for s in pending if s.name not in answered]
        dead = [s for s in pending if not procs.is_running(pids.get(s.name))]
        if dead:
            s = dead[0]
            raise LabError(f"{s.name}: {daemon} exited: {tail(log(s))}")
        if not pending:
            return
        if time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending[:10])
            raise LabError(
                f"{daemon} did not answer within {timeout_s:.0f}s on {len(pending)} host(s):"
                f" {names} ({tail(log(pending[0]))})"
            )
        time.sleep(interval_s)


def wait_for_sshd(
    specs: Sequence[HostSpec], pids: dict[str, int], paths: LabPaths, *, timeout_s: float
) -> None:
    """Poll every host's port 22 until each accepts; LabError naming the ones that do not."""

    def answering(pending: Sequence[HostSpec]) -> set[str]:
        accepted = accepting([s.address for s in pending])
        return {s.name for s in pending if s.address in accepted}

    wait_until_answering(
        "sshd",
        specs,
        pids,
        answering,
        lambda s: sshd_log(paths, s),
        timeout_s=timeout_s,
        interval_s=0.05,
    )


def tail(log: Path, lines: int = 3) -> str:
    """The last lines of a daemon log, on one line (for error messages)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(text[-lines:]) or "empty log"
