"""Docker containers on a host: state, restarts, health, CPU seconds and memory.

The cheapest source that gives every contract metric: the Engine API over a stream
to the host's socket (collectors/docker_api.py, asked before the probe), whose
answers travel in the probe as a here-document for an awk pass on the host that
reads each container's cgroup counters (cgroup v1 or v2) through its pid. When the
stream is refused (a root-only socket, no Docker, sshd forbids streams) the probe
runs the CLI instead: one `docker ps -aq` and one `docker inspect` with a compact Go
template (state, restarts, health, main pid) feeding the same awk, so both paths
print the same lines and give the same metrics. `docker stats --no-stream` would cost a second
per host and gives percentages, not CPU seconds. No Docker on a host is not an
error: the section says `!absent` and the host simply has no container metrics.
"""

from __future__ import annotations

from fleetkit.connection.base import Connection
from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.errors import StreamRefused
from fleetkit.monitoring.collectors import docker_api
from fleetkit.monitoring.snapshot import Container

# Sent inside the probe: prints "C|id|/name|image|status|restarts|health|pid" per
# container and "S|id|cpu_seconds|memory_bytes" after it (empty when unknown).
# `index` instead of `.State.Health`: the CLI runs templates over the raw JSON map
# (missing keys are errors there), and Health is absent without a health check.
INSPECT_FORMAT = (
    "C|{{.Id}}|{{.Name}}|{{.Config.Image}}|{{.State.Status}}|{{.RestartCount}}|"
    '{{with index .State "Health"}}{{.Status}}{{else}}none{{end}}|{{.State.Pid}}'
)

# awk: for each C line, find the container's cgroup from /proc/PID/cgroup and read
# cpu usage and memory (usage minus inactive file cache, as `docker stats` shows).
CGROUP_AWK = r"""
function rd(f,   l, r) { r = ""; if ((getline l < f) > 0) r = l; close(f); return r }
function stat(f, k,   l, a, r) {
  r = ""
  while ((getline l < f) > 0) { split(l, a, " "); if (a[1] == k) r = a[2] }
  close(f); return r
}
BEGIN { FS = "|" }
/^C\|/ {
  print; pid = $8 + 0; if (pid <= 0) next
  f = "/proc/" pid "/cgroup"; v2 = ""; cpu1 = ""; mem1 = ""
  while ((getline l < f) > 0) {
    i = index(l, ":"); r = substr(l, i + 1); j = index(r, ":")
    ctl = substr(r, 1, j - 1); p = substr(r, j + 1)
    if (ctl == "") v2 = p
    n = split(ctl, cs, ",")
    for (k = 1; k <= n; k++) { if (cs[k] == "cpuacct") cpu1 = p; if (cs[k] == "memory") mem1 = p }
  }
  close(f)
  cpu = ""; mem = ""
  if (cpu1 != "") {
    u = rd("/sys/fs/cgroup/cpuacct" cpu1 "/cpuacct.usage")
    if (u == "") u = rd("/sys/fs/cgroup/cpu,cpuacct" cpu1 "/cpuacct.usage")
    if (u != "") cpu = sprintf("%.6f", u / 1e9)
  } else if (v2 != "") {
    u = stat("/sys/fs/cgroup" v2 "/cpu.stat", "usage_usec")
    if (u != "") cpu = sprintf("%.6f", u / 1e6)
  }
  if (mem1 != "") {
    u = rd("/sys/fs/cgroup/memory" mem1 "/memory.usage_in_bytes")
    c = stat("/sys/fs/cgroup/memory" mem1 "/memory.stat", "total_inactive_file")
    if (u != "") mem = sprintf("%.0f", u - c)
  } else if (v2 != "") {
    u = rd("/sys/fs/cgroup" v2 "/memory.current")
    c = stat("/sys/fs/cgroup" v2 "/memory.stat", "inactive_file")
    if (u != "") mem = sprintf("%.0f", u - c)
  }
  print "S|" $2 "|" cpu "|" mem
  next
}
NF { print "!warn " $0 }
"""

# Shell that sets D to the docker command (directly when its socket is writable, else
# through non-interactive sudo, which fails cleanly when not allowed), or runs ELSE.
# Every docker call is cut after 3 s (coreutils timeout, when there is one): a hung
# dockerd must cost its container metrics, not the whole host's probe.
DOCKER_SELECT = (
    "if command -v docker >/dev/null 2>&1"
    ' && { [ -S /var/run/docker.sock ] || [ -n "$DOCKER_HOST" ]; }; then\n'
    "  T=; command -v timeout >/dev/null 2>&1 && T='timeout 3'\n"
    '  D="$T docker"; [ -w /var/run/docker.sock ] || [ -n "$DOCKER_HOST" ]'
    ' || D="$T sudo -n docker"\n'
)

SCRIPT = (
    DOCKER_SELECT
    + "  ids=$($D ps -aq --no-trunc 2>&1) || {\n"
    + '    echo "!error docker ps failed (exit $?): $(echo "$ids" | head -n 1)"; ids=; }\n'
    + '  [ -n "$ids" ] && $D inspect --format \''
    + INSPECT_FORMAT
    + "' $ids 2>&1 | awk '"
    + CGROUP_AWK.replace("'", "'\\''")
    + "'\nelse echo '!absent'; fi\n"
)

# Ends the here-document of API lines; no line of ours starts with it (they start "C|").
HEREDOC_END = "@@fk@@docker-api"


def api_section(lines: list[str]) -> str:
    """The probe's docker section for containers the Engine API listed: the cgroup awk
    over their lines (nothing at all for no containers, as the CLI path prints)."""
    if not lines:
        return ""
    body = "".join(f"{line}\n" for line in lines)
    awk = CGROUP_AWK.replace("'", "'\\''")
    return f"awk '{awk}' <<'{HEREDOC_END}'\n{body}{HEREDOC_END}\n"


class Refused(Exception):
    """The host's Docker socket refused our stream: use the CLI until the host reconnects."""


def engine_section(conn: Connection) -> str | None:
    """The docker section through the Engine API, or None to use the CLI this time.

    Raises Refused when the socket itself refused the stream (the caller stops asking);
    a connection that cannot stream, or an engine that answered badly, is None.
    """
    try:
        stream = conn.open_unix_stream(
            docker_api.DOCKER_SOCKET, timeout=docker_api.REQUEST_TIMEOUT_S
        )
    except StreamRefused as err:
        raise Refused(str(err)) from None
    except HostConnectionError:
        return None
    try:
        return api_section(docker_api.container_lines(stream))
    except docker_api.EngineAPIError:
        return None


def parse_containers(text: str, warnings: list[str] | None = None) -> tuple[Container, ...] | None:
    """The probe's docker section -> containers (None when Docker is absent or failed).

    A container's cpu_seconds and memory_bytes stay None when its cgroup could not be read.
    """
    lines = text.splitlines()
    if any(line.startswith("!absent") for line in lines):
        return None
    errors = [line[len("!error") :].strip() for line in lines if line.startswith("!error")]
    warned = [line[len("!warn") :].strip() for line in lines if line.startswith("!warn")]
    if warned and warnings is not None:
        warnings.append(f"docker inspect: {warned[0][:200]}")
    if errors:
        if warnings is not None:
            warnings.append(f"docker: {errors[0][:200]}")
        return None
    base: dict[str, Container] = {}
    stats: dict[str, tuple[float | None, int | None]] = {}
    for line in lines:
        fields = line.split("|")
        if line.startswith("!warn"):
            continue
        try:
            if fields[0] == "C" and len(fields) >= 8:
                cid = fields[1]
                base[cid] = Container(
                    id=cid,
                    name=fields[2].lstrip("/"),
                    image=fields[3],
                    state=fields[4],
                    restarts=int(fields[5] or 0),
                    health=fields[6] or "none",
                )
            elif fields[0] == "S" and len(fields) >= 4:
                cpu = float(fields[2]) if fields[2] else None
                mem = int(fields[3]) if fields[3] else None
                stats[fields[1]] = (cpu, mem)
            elif line.strip():
                raise ValueError(line)
        except ValueError:
            if warnings is not None:
                warnings.append(f"docker: unreadable line {line[:80]!r}")
    out: list[Container] = []
    for cid, c in base.items():
        cpu, mem = stats.get(cid, (None, None))
        out.append(
            Container(
                id=c.id,
                name=c.name,
                image=c.image,
                state=c.state,
                restarts=c.restarts,
                health=c.health,
                cpu_seconds=cpu,
                memory_bytes=mem if mem is None or mem >= 0 else 0,
            )
        )
    return tuple(sorted(out, key=lambda c: c.name))
