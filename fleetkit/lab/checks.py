"""Prerequisites of the lab: root, the commands it runs and the Debian packages holding them.

Checked before anything is made, so a missing piece fails with one message
naming it and the `apt-get install` line, never half a lab.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from fleetkit.errors import LabError

SEARCH_PATH = os.pathsep.join(
    ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
)
BASE_PACKAGES = ("openssh-server", "sudo", "iproute2", "util-linux", "tini")
DOCKER_PACKAGES = ("docker.io", "docker-registry", "busybox-static")

# command -> Debian package that provides it
BASE_COMMANDS = {
    "sshd": "openssh-server",
    "sudo": "sudo",
    "ip": "iproute2",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "mount": "mount",
    "hostname": "hostname",
    "sh": "dash",
    "tini": "tini",
    "sleep": "coreutils",
}
DOCKER_COMMANDS = {
    "dockerd": "docker.io",
    "docker": "docker.io",
    "docker-registry": "docker-registry",
    "busybox": "busybox-static",
}
SFTP_SERVER = Path("/usr/lib/openssh/sftp-server")


@dataclass(frozen=True)
class Tools:
    """Absolute paths of the commands the lab runs (found once, used everywhere)."""

    sshd: str
    sudo: str
    ip: str
    nsenter: str
    unshare: str
    mount: str
    hostname: str
    sh: str
    tini: str = "tini"  # each host's init: pid 1 of its PID namespace, reaps orphans
    sleep: str = "sleep"
    iptables: str | None = None  # only needed when a DOCKER-USER chain exists
    dockerd: str | None = None
    docker: str | None = None
    docker_registry: str | None = None
    busybox: str | None = None


def which(command: str) -> str | None:
    """Absolute path of command in the system's sbin/bin folders (SEARCH_PATH).

    Never the caller's PATH: the lab runs these as root, so a `sudo -E` or a PATH
    with a writable folder in front would let anyone who can write there run code
    as root (issue 12).
    """
    return shutil.which(command, path=SEARCH_PATH)


def require_root(action: str) -> None:
    """Raise LabError unless running as root."""
    if os.geteuid() != 0:
        raise LabError(
            f"`fleetkit lab {action}` needs root (lab hosts are network and mount namespaces)",
            hint=f"run it as root, e.g. `sudo fleetkit lab {action}`",
        )


def check_prerequisites(*, docker: bool = False) -> Tools:
    """Root and every needed command present, or LabError naming what to install."""
    require_root("up")
    wanted = dict(BASE_COMMANDS)
    if docker:
        wanted.update(DOCKER_COMMANDS)
    found = {cmd: which(cmd) for cmd in wanted}
    missing = {cmd: wanted[cmd] for cmd, path in found.items() if path is None}
    if not SFTP_SERVER.exists():
        missing[str(SFTP_SERVER)] = "openssh-sftp-server"
    busybox = found.get("busybox")
    if busybox is not None and not is_static(Path(busybox)):
        missing[f"{busybox} (a static busybox)"] = "busybox-static"
    if missing:
        packages = sorted(set(missing.values()))
        names = ", ".join(f"{cmd} ({pkg})" for cmd, pkg in missing.items())
        everything = " ".join(BASE_PACKAGES + (DOCKER_PACKAGES if docker else ()))
        raise LabError(
            f"the lab needs commands that are not installed: {names}; "
            f"install them with: apt-get install {' '.join(packages)}",
            hint=f"every package the lab uses: apt-get install {everything} (or `make setup`)",
        )
    if not _has_overlayfs():
        raise LabError(
            "the kernel has no overlay filesystem (lab hosts need it)",
            hint="modprobe overlay",
        )
    return Tools(
        sshd=_must(found, "sshd"),
        sudo=_must(found, "sudo"),
        ip=_must(found, "ip"),
        nsenter=_must(found, "nsenter"),
        unshare=_must(found, "unshare"),
        mount=_must(found, "mount"),
        hostname=_must(found, "hostname"),
        sh=_must(found, "sh"),
        tini=_must(found, "tini"),
        sleep=_must(found, "sleep"),
        iptables=which("iptables"),
        dockerd=found.get("dockerd"),
        docker=found.get("docker"),
        docker_registry=found.get("docker-registry"),
        busybox=busybox,
    )


def cleanup_tools() -> Tools:
    """The commands `lab down` may use; whatever is missing is simply skipped."""
    require_root("down")

    def get(cmd: str) -> str:
        return which(cmd) or cmd

    return Tools(
        sshd=get("sshd"),
        sudo=get("sudo"),
        ip=get("ip"),
        nsenter=get("nsenter"),
        unshare=get("unshare"),
        mount=get("mount"),
        hostname=get("hostname"),
        sh=get("sh"),
        iptables=which("iptables"),
        docker=which("docker"),
    )


def is_static(binary: Path) -> bool:
    """True when an ELF binary asks for no dynamic loader (no PT_INTERP string near its start)."""
    try:
        with binary.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.startswith(b"\x7fELF") and b"ld-linux" not in head and b"ld-musl" not in head


def _has_overlayfs() -> bool:
    try:
        text = Path("/proc/filesystems").read_text(encoding="ascii")
    except OSError:
        return True  # cannot tell: let the mount say so
    if any(line.split()[-1:] == ["overlay"] for line in text.splitlines()):
        return True
    # Not loaded yet: a module may still exist (mount would autoload it).
    release = os.uname().release
    return any(Path(f"/lib/modules/{release}").glob("kernel/fs/overlayfs/overlay.ko*"))


def _must(found: dict[str, str | None], cmd: str) -> str:
    path = found[cmd]
    assert path is not None
    return path
