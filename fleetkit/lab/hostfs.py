"""A host's writable layers, written from Python before its overlays are mounted.

Each host's upper dirs get what makes it a host of its own: the lab user in
passwd/shadow/group, passwordless sudo, hostname, /etc/hosts, a lab-only
resolv.conf, sshd_config, its own host key and the client's authorized key.
No useradd or ssh-keygen process per host: 200 hosts take well under a second.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetkit.lab.keys import KeyPair
from fleetkit.lab.layout import BRIDGE_ADDRESS, LAB_USER, HostSpec, LabPaths

# The machine's directories each host gets a private, writable copy of.
# /var comes last: the other overlays' upper dirs are reached through it.
# /usr too, so `apt`, `pip` or a copy to /usr/local on a lab host changes that host only.
OVERLAY_DIRS = ("etc", "home", "root", "srv", "opt", "usr", "var")
# Top-level folders a host gets fresh (tmpfs), or the kernel's own views of it.
OWN_DIRS = frozenset({"proc", "sys", "dev", "run", "tmp"})
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def read_only_dirs(root: Path = Path("/")) -> list[str]:
    """The machine's other top-level folders (/work, /mnt, /boot ...): bound read-only
    into each host, without their submounts, so a playbook's write there fails on the
    host instead of changing the machine (issue 12)."""
    out = []
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name in OVERLAY_DIRS or name in OWN_DIRS or any(c.isspace() for c in name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            out.append(name)
    return out


DOCKER_DATA = "var/lib/docker"


@dataclass(frozen=True)
class HostTemplate:
    """What every host's upper dirs share, computed once for the whole lab."""

    uid: int
    gid: int
    passwd: str
    shadow: str
    group: str
    gshadow: str
    hosts: str
    authorized_keys: str
    resolv_conf: str


def read_machine_file(path: str) -> str:
    """A machine file's text ('' if missing)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _ids(text: str, field: int) -> set[int]:
    out = set()
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) > field and parts[field].isdigit():
            out.add(int(parts[field]))
    return out


def _without(text: str, name: str) -> str:
    """text (a passwd-style file) without the line of name, ending in a newline."""
    lines = [ln for ln in text.splitlines() if ln.split(":", 1)[0] != name]
    return "".join(f"{ln}\n" for ln in lines)


def _locked(text: str, marker: str) -> str:
    """A shadow-style file with every password field replaced by marker: a lab host
    gets the machine's account names, never their password hashes (issue 12)."""
    out = []
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) > 1:
            parts[1] = marker
        out.append(":".join(parts))
    return "".join(f"{ln}\n" for ln in out)


def pick_id(passwd: str, group: str, start: int = 1000) -> int:
    """The lowest id >= start free both as a uid and as a gid (lab user and its group)."""
    used = _ids(passwd, 2) | _ids(group, 2)
    uid = start
    while uid in used:
        uid += 1
    return uid


def _add_member(text: str, group_name: str, member: str, members_field: int) -> str:
    """passwd-style text with member added to group_name's member list."""
    out = []
    for line in text.splitlines():
        parts = line.split(":")
        if parts[0] == group_name and len(parts) > members_field:
            members = [m for m in parts[members_field].split(",") if m]
            if member not in members:
                members.append(member)
            parts[members_field] = ",".join(members)
        out.append(":".join(parts))
    return "".join(f"{ln}\n" for ln in out)


def make_template(
    specs: Sequence[HostSpec], client_public_key: str, *, docker: bool
) -> HostTemplate:
    """The files shared by all hosts, derived from the machine's own account files."""
    passwd = _without(read_machine_file("/etc/passwd"), LAB_USER)
    shadow = _locked(_without(read_machine_file("/etc/shadow"), LAB_USER), "*")
    group = _without(read_machine_file("/etc/group"), LAB_USER)
    gshadow = _locked(_without(read_machine_file("/etc/gshadow"), LAB_USER), "!")
    uid = pick_id(passwd, group)
    today = int(time.time() // 86400)
    passwd += f"{LAB_USER}:x:{uid}:{uid}:fleetkit lab user:/home/{LAB_USER}:/bin/sh\n"
    # "*": no password, yet not locked ("!" is refused by sshd with UsePAM no).
    shadow += f"{LAB_USER}:*:{today}:0:99999:7:::\n"
    group += f"{LAB_USER}:x:{uid}:\n"
    gshadow += f"{LAB_USER}:!::\n"
    if docker:
        if "docker" not in {ln.split(":", 1)[0] for ln in group.splitlines()}:
            docker_gid = max((g for g in _ids(group, 2) if g < 1000), default=100) + 1
            group += f"docker:x:{docker_gid}:\n"
            gshadow += "docker:!::\n"
        group = _add_member(group, "docker", LAB_USER, 3)
        gshadow = _add_member(gshadow, "docker", LAB_USER, 3)
    hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    hosts += f"{BRIDGE_ADDRESS}\tfleetkit-lab-gateway\n"
    hosts += "".join(f"{s.address}\t{s.name}\n" for s in specs)
    resolv = (
        "# fleetkit lab host: no DNS server beyond the lab (nothing answers here)\n"
        f"nameserver {BRIDGE_ADDRESS}\n"
        "options timeout:1 attempts:1\n"
    )
    return HostTemplate(
        uid=uid,
        gid=uid,
        passwd=passwd,
        shadow=shadow,
        group=group,
        gshadow=gshadow,
        hosts=hosts,
        authorized_keys=f"{client_public_key} fleetkit-lab\n",
        resolv_conf=resolv,
    )


def sshd_config(spec: HostSpec) -> str:
    """sshd_config of a lab host: its own address, key auth for the lab user only."""
    return f"""\
# fleetkit lab host {spec.name}: written by `fleetkit lab up`
ListenAddress {spec.address}:22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile none
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers {LAB_USER}
StrictModes yes
AuthorizedKeysFile .ssh/authorized_keys
MaxSessions 64
MaxStartups 64:30:256
LoginGraceTime 30
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding yes
AcceptEnv LANG LC_*
Subsystem sftp {SFTP_SERVER}
"""


def _write(path: Path, data: str | bytes, mode: int, uid: int = 0, gid: int = 0) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, raw)
        os.fchmod(fd, mode)
        os.fchown(fd, uid, gid)
    finally:
        os.close(fd)


def _write_like(path: Path, data: str, machine_path: str, default_mode: int = 0o644) -> None:
    """Write data with the mode and owner of the machine's file (shadow: 640 root:shadow)."""
    try:
        st = os.stat(machine_path)
        _write(path, data, st.st_mode & 0o7777, st.st_uid, st.st_gid)
    except FileNotFoundError:
        _write(path, data, default_mode)


def _mkdir(path: Path, mode: int, uid: int = 0, gid: int = 0) -> None:
    path.mkdir(exist_ok=True)
    os.chmod(path, mode)
    os.chown(path, uid, gid)


def _mkdirs_like(upper: Path, rel: str) -> Path:
    """Create upper/rel, each level with the mode and owner of the machine's /rel."""
    current = upper
    machine = Path("/")
    for part in Path(rel).parts:
        current = current / part
        machine = machine / part
        try:
            st = os.stat(machine)
            _mkdir(current, st.st_mode & 0o7777, st.st_uid, st.st_gid)
        except FileNotFoundError:
            _mkdir(current, 0o755)
    return current


def populate_host(
    paths: LabPaths,
    spec: HostSpec,
    template: HostTemplate,
    host_key: KeyPair,
    *,
    daemon_json: str | None = None,
) -> None:
    """Create a host's upper/work dirs and write the files that make it this host."""
    base = paths.host_dir(spec.name)
    _mkdir(base, 0o700)
    _mkdir(base / "upper", 0o755)
    _mkdir(base / "work", 0o700)
    _mkdir(base / "docker", 0o710)
    for name in OVERLAY_DIRS:
        st = os.stat(f"/{name}")
        _mkdir(base / "upper" / name, st.st_mode & 0o7777, st.st_uid, st.st_gid)
        _mkdir(base / "work" / name, 0o700)
    upper = base / "upper"

    etc = upper / "etc"
    _write_like(etc / "passwd", template.passwd, "/etc/passwd")
    _write_like(etc / "shadow", template.shadow, "/etc/shadow", 0o640)
    _write_like(etc / "group", template.group, "/etc/group")
    _write_like(etc / "gshadow", template.gshadow, "/etc/gshadow", 0o640)
    _write(etc / "hostname", f"{spec.name}\n", 0o644)
    _write(etc / "hosts", template.hosts, 0o644)
    _write(etc / "resolv.conf", template.resolv_conf, 0o644)
    sudoers = _mkdirs_like(upper, "etc/sudoers.d")
    _write(sudoers / "fleetkit-lab", f"{LAB_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n", 0o440)
    ssh = _mkdirs_like(upper, "etc/ssh")
    _write(ssh / "sshd_config", sshd_config(spec), 0o644)
    _write(ssh / "ssh_host_ed25519_key", host_key.private_openssh, 0o600)
    _write(ssh / "ssh_host_ed25519_key.pub", f"{host_key.public_openssh} root@{spec.name}\n", 0o644)

    home = _mkdirs_like(upper, "home") / LAB_USER
    _mkdir(home, 0o750, template.uid, template.gid)
    _mkdir(home / ".ssh", 0o700, template.uid, template.gid)
    _write(
        home / ".ssh" / "authorized_keys",
        template.authorized_keys,
        0o600,
        template.uid,
        template.gid,
    )
    _write(home / ".hushlogin", "", 0o644, template.uid, template.gid)

    if daemon_json is not None:
        _write(_mkdirs_like(upper, "etc/docker") / "daemon.json", daemon_json, 0o644)
    _mkdirs_like(upper, DOCKER_DATA)
    _mkdirs_like(upper, "var/lib/fleetkit")


def host_key_public(spec: HostSpec, host_key: KeyPair) -> tuple[str, str]:
    """(address, public key): one known_hosts entry."""
    return spec.address, host_key.public_openssh
