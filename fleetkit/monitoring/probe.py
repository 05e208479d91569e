"""The one shell script sent to each host per cycle, and the parsing of its output.

A cycle costs one SSH round trip per host: the script prints every source,
each after a section marker (`@@fk@@ NAME`), and ends with `@@fk@@ end`. The
/proc files come from a single `grep -H` (file name before each line, so one
process reads them all); sizes from one `df`; Docker and, on the chosen manager
or server, the swarm and Kubernetes sections follow. Parsing is defensive: a
section that cannot be read adds a warning and the rest is still used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fleetkit.monitoring.collectors import containers, host, k8s, swarm
from fleetkit.monitoring.snapshot import (
    Container,
    Filesystem,
    HostSnapshot,
    K8sSnapshot,
    NetDevice,
    SwarmSnapshot,
)

log = logging.getLogger("fleetkit.monitoring")

MARK = "@@fk@@ "
END = "end"

# Files read by the single grep; the key is the name a parser knows them by.
PROC_FILES: Mapping[str, str] = MappingProxyType(
    {
        "/proc/loadavg": "loadavg",
        "/proc/uptime": "uptime",
        "/proc/stat": "stat",
        "/proc/meminfo": "meminfo",
        "/proc/net/dev": "net_dev",
        "/proc/mounts": "mounts",
        "/proc/sys/kernel/osrelease": "kernel",
        "/sys/devices/system/cpu/online": "cpu_online",
        "/etc/os-release": "os_release",
    }
)
# Lines not worth sending: huge interrupt counters, per-CPU lines, container mounts.
_SKIP = (
    "^intr ",
    "^softirq ",
    "^cpu[0-9]",
    " /var/lib/docker/",
    " /run/docker/",
    " /run/containerd/",
    " /run/k3s/",
    " /var/lib/kubelet/",
)
_DF_SKIP = ("% /var/lib/docker/", "% /run/docker/", "% /run/containerd/", "% /var/lib/kubelet/")


def _grep_skip(patterns: tuple[str, ...]) -> str:
    return " ".join(f"-e '{p}'" for p in patterns)


BASE_HEAD = (
    "export LC_ALL=C\n"
    f"echo '{MARK}proc'\n"
    f"grep -Hsv {_grep_skip(_SKIP)} {' '.join(PROC_FILES)}\n"
    f"echo '{MARK}df'\n"
    "T=; command -v timeout >/dev/null 2>&1 && T='timeout 5'\n"
    f"$T df -P -B1 2>/dev/null | grep -Fv {_grep_skip(_DF_SKIP)}\n"
    f"echo '{MARK}docker'\n"
)
BASE_SCRIPT = BASE_HEAD + containers.SCRIPT


def probe_script(
    *, swarm_manager: bool = False, k8s_server: bool = False, docker: str | None = None
) -> str:
    """The script for one host: the base sections, plus swarm/k8s when it answers for them.

    docker: the docker section already asked through the Engine API
    (containers.engine_section); None runs the docker CLI inside the probe.
    """
    parts = [BASE_SCRIPT if docker is None else BASE_HEAD + docker]
    if swarm_manager:
        parts.append(swarm.SCRIPT)
    if k8s_server:
        parts.append(k8s.SCRIPT)
    parts.append(f"echo '{MARK}{END}'\n")
    # Captured and printed at once: one or two SSH packets instead of one per process
    # output, which halves the controller's CPU per host (packets cost, bytes hardly).
    return "out=$(\n" + "".join(parts) + ")\nprintf '%s\\n' \"$out\"\n"


def split_sections(text: str) -> tuple[dict[str, str], bool]:
    """Probe output -> ({section: text}, complete). Text before the first marker is dropped."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    complete = False
    for line in text.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK) :].strip()
            if name == END:
                complete = True
                current = None
                continue
            current = sections.setdefault(name, [])
        elif current is not None:
            current.append(line)
    return {k: "\n".join(v) + ("\n" if v else "") for k, v in sections.items()}, complete


def split_proc(text: str) -> dict[str, str]:
    """The grep -H section -> {parser name: file text}."""
    files: dict[str, list[str]] = {}
    for line in text.splitlines():
        path, sep, rest = line.partition(":")
        name = PROC_FILES.get(path) if sep else None
        if name is not None:
            files.setdefault(name, []).append(rest)
    return {k: "\n".join(v) + "\n" for k, v in files.items()}


@dataclass
class _Parsed:
    """Mutable scratch while one host's output is parsed (never leaves this module)."""

    warnings: list[str] = field(default_factory=list)
    load: tuple[float, float, float] | None = None
    cpus: int | None = None
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    memory_total: int | None = None
    memory_available: int | None = None
    filesystems: tuple[Filesystem, ...] = ()
    network: tuple[NetDevice, ...] = ()
    boot_time: float | None = None
    os: str = ""
    kernel: str = ""
    containers: tuple[Container, ...] | None = None


def _guard(parsed: _Parsed, what: str, fn: Callable[[], None]) -> None:
    """Run one section's parser; garbage becomes a warning, never an exception."""
    try:
        fn()
    except KeyError as err:
        parsed.warnings.append(f"{what}: missing {err}")
    except (ValueError, IndexError, TypeError) as err:
        parsed.warnings.append(f"{what}: {err}")


def _parse_proc(p: _Parsed, files: dict[str, str], df_text: str | None, now: float) -> None:
    def load() -> None:
        p.load = host.parse_loadavg(files["loadavg"])

    def stat() -> None:
        st = host.parse_stat(files["stat"], p.warnings)
        p.cpu_seconds = dict(st.seconds)
        p.cpus = st.cpus
        p.boot_time = st.boot_time

    def cpus() -> None:
        if "cpu_online" in files:
            p.cpus = host.parse_cpu_list(files["cpu_online"])
        elif p.cpus is None:
            raise ValueError("no CPU count (neither cpu/online nor per-CPU stat lines)")

    def boot_from_uptime() -> None:
        if p.boot_time is None:
            p.boot_time = round(now - host.parse_uptime(files["uptime"]))

    def mem() -> None:
        info = host.parse_meminfo(files["meminfo"], p.warnings)
        p.memory_total = info["MemTotal"]
        p.memory_available = host.memory_available(info)

    def net() -> None:
        p.network = host.parse_net_dev(files["net_dev"], p.warnings)

    def fs() -> None:
        if df_text is None:
            raise KeyError("no df section")
        mounts = host.parse_mounts(files["mounts"], p.warnings)
        p.filesystems = host.filesystems(mounts, host.parse_df(df_text, p.warnings))

    def info() -> None:
        p.kernel = files.get("kernel", "").strip()
        p.os = host.parse_os_release(files.get("os_release", ""))

    for what, fn in (
        ("loadavg", load),
        ("stat", stat),
        ("cpu online", cpus),
        ("uptime", boot_from_uptime),
        ("meminfo", mem),
        ("net/dev", net),
        ("filesystems", fs),
        ("os", info),
    ):
        _guard(p, what, fn)


@dataclass(frozen=True)
class ProbeResult:
    """One host's parsed probe: its snapshot, and the swarm/k8s views when it gave them."""

    host: HostSnapshot
    swarm: SwarmSnapshot | None = None
    swarm_error: str = ""
    k8s: K8sSnapshot | None = None
    k8s_error: str = ""


def parse_probe(
    name: str,
    text: str,
    *,
    now: float,
    groups: tuple[str, ...] = (),
    duration_s: float = 0.0,
) -> ProbeResult:
    """A host's probe output -> ProbeResult; partial or garbage output yields what it can.

    Every problem is a warning on the snapshot (and logged once here); the host
    still counts as up, since it answered.
    """
    sections, complete = split_sections(text)
    p = _Parsed()
    if not complete:
        p.warnings.append("probe output incomplete (no end marker)")
    if "proc" not in sections:
        p.warnings.append("no /proc section in the probe output")
    _parse_proc(p, split_proc(sections.get("proc", "")), sections.get("df"), now)
    if "docker" in sections:
        _guard(p, "docker", lambda: setattr(p, "containers", _containers(sections, p)))
    swarm_snap, swarm_error = _swarm(name, sections)
    k8s_snap, k8s_error = _k8s(name, sections)
    if p.warnings:
        log.warning("%s: %s", name, "; ".join(p.warnings[:5]))
    snap = HostSnapshot(
        host=name,
        up=True,
        groups=groups,
        collect_duration_s=duration_s,
        last_success=now,
        os=p.os,
        kernel=p.kernel,
        load=p.load,
        cpus=p.cpus,
        cpu_seconds=MappingProxyType(p.cpu_seconds),
        memory_total_bytes=p.memory_total,
        memory_available_bytes=p.memory_available,
        filesystems=p.filesystems,
        network=p.network,
        boot_time_seconds=p.boot_time,
        containers=p.containers,
        warnings=tuple(p.warnings),
    )
    return ProbeResult(snap, swarm_snap, swarm_error, k8s_snap, k8s_error)


def _containers(sections: dict[str, str], p: _Parsed) -> tuple[Container, ...] | None:
    return containers.parse_containers(sections["docker"], p.warnings)


def _swarm(name: str, sections: dict[str, str]) -> tuple[SwarmSnapshot | None, str]:
    if "swarm_node" not in sections:
        return None, ""
    try:
        return swarm.parse_swarm(name, sections), ""
    except swarm.SwarmUnavailable as err:
        return None, str(err)


def _k8s(name: str, sections: dict[str, str]) -> tuple[K8sSnapshot | None, str]:
    if "k8s" not in sections:
        return None, ""
    try:
        return k8s.parse_deployments(name, sections["k8s"]), ""
    except k8s.K8sUnavailable as err:
        return None, str(err)
