"""One collection cycle over the fleet, and the state that spans cycles.

`Collection.cycle()` probes every due host in parallel over the HostPool's
persistent connections (one round trip each), asks one manager for the swarm
and one server for Kubernetes (failing over to the next), and returns a complete
FleetSnapshot. A host that fails is retried after a backoff that doubles with
each consecutive failure (skipped cycles report it down without any SSH), so a
dead host costs nothing and cannot slow the others past its timeout.

Every round of a cycle has a hard deadline (the timeout plus CYCLE_GRACE_S): a
host still busy then (a peer that never answers) is reported down and its
connection closed, so one stuck host never holds the others' data. A probe's
output is capped at PROBE_MAX_OUTPUT per stream; a host that sends more is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

from fleetkit.connection.base import Connection
from fleetkit.connection.factory import ConnectionFactory
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import ConnectionError
from fleetkit.executor.pool import HostPool, default_forks
from fleetkit.inventory.model import Inventory
from fleetkit.monitoring.collectors import containers, k8s, swarm
from fleetkit.monitoring.probe import ProbeResult, parse_probe, probe_script, split_sections
from fleetkit.monitoring.snapshot import FleetSnapshot, HostSnapshot, K8sSnapshot, SwarmSnapshot
from fleetkit.results import Status, StepResult

log = logging.getLogger("fleetkit.monitoring")

DEFAULT_MAX_BACKOFF_S = 300.0
# When no manager/server could answer (no swarm yet, say), extra fail-over round trips
# pause for this many cycles; the preferred one is still asked inside its probe.
FAILOVER_QUIET_CYCLES = 10
# A round of a cycle ends this long after the per-host timeout, whatever the hosts do
# (longer than the SSH client's own grace, so its more precise message wins when it can).
CYCLE_GRACE_S = 5.0
PROBE_MAX_OUTPUT = 4 << 20  # bytes per stream: a probe is a few KiB; more is a broken host

T = TypeVar("T")
Parse = Callable[[str, str], tuple[T | None, str]]


@dataclass(frozen=True)
class Targets:
    """Who to probe, their groups, and who may answer for the swarm and the cluster."""

    hosts: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    managers: tuple[str, ...] = ()
    k8s_servers: tuple[str, ...] = ()

    @classmethod
    def from_inventory(
        cls,
        inventory: Inventory,
        hosts: Sequence[str],
        *,
        cluster_from: Sequence[str] | None = None,
    ) -> Targets:
        """Selected hosts of an inventory; managers/servers are taken among `cluster_from`
        (default: the hosts themselves, so exporters sharded by --limit report the swarm
        from the shard holding the managers). An exporter --shard passes the whole
        selection to shard 0 and nothing to the others: one shard reports the cluster."""
        chosen = set(hosts if cluster_from is None else cluster_from)

        def members(group_names: tuple[str, ...]) -> tuple[str, ...]:
            out: list[str] = []
            for g in group_names:
                out += [h for h in inventory.group_hosts(g) if h in chosen and h not in out]
            return tuple(out)

        return cls(
            hosts=tuple(hosts),
            groups=MappingProxyType({h: tuple(inventory.hosts[h].groups) for h in hosts}),
            managers=members(swarm.MANAGER_GROUPS),
            k8s_servers=members(k8s.SERVER_GROUPS),
        )


def open_pool(inventory: Inventory, hosts: Sequence[str], timeout: float) -> HostPool:
    """A HostPool over hosts whose connect timeouts are capped at `timeout`, so an
    unreachable host never holds a cycle longer than that. Close it when done."""
    specs = {h: ConnectionSpec.from_vars(h, inventory.hosts[h].vars) for h in hosts}
    factory = ConnectionFactory(
        {h: replace(s, connect_timeout=min(s.connect_timeout, timeout)) for h, s in specs.items()},
        max_output=PROBE_MAX_OUTPUT,
    )
    return HostPool(factory, default_forks(len(hosts)))


@dataclass
class _HostState:
    """What the collection remembers about one host between cycles."""

    failures: int = 0
    retry_cycle: int = 0
    error: str = ""
    last_success: float | None = None
    os: str = ""
    kernel: str = ""
    docker_cli: bool = False  # its Docker socket refused our stream: the probe runs the CLI


class _Failover:
    """The preferred source among candidates; moves on when it fails, sticks when it works."""

    def __init__(self, candidates: tuple[str, ...]) -> None:
        self.candidates = candidates
        self.preferred = candidates[0] if candidates else None
        self.last_error = ""
        self.ask_after = 0  # no extra round trips before this cycle (nobody could answer)

    def order(self, up: Callable[[str], bool]) -> list[str]:
        """Candidates starting at the preferred one, skipping hosts that are down."""
        if self.preferred is None:
            return []
        i = self.candidates.index(self.preferred)
        rotated = self.candidates[i:] + self.candidates[:i]
        return [c for c in rotated if up(c)]


class Collection:
    """Cycles over one set of targets through one long-lived HostPool."""

    def __init__(
        self,
        targets: Targets,
        pool: HostPool,
        *,
        timeout: float = 10.0,
        interval: float = 15.0,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        clock: Callable[[], float] = time.time,
        docker_api: bool = True,
    ) -> None:
        """docker_api: ask Docker through the Engine API (CLI when refused); False: CLI only."""
        self.targets = targets
        self._docker_api = docker_api
        self._pool = pool
        self._timeout = timeout
        self._max_skip = max(0, int(max_backoff_s / max(interval, 0.001)) - 1)
        self._clock = clock
        self._state = {h: _HostState() for h in targets.hosts}
        self._swarm = _Failover(targets.managers)
        self._k8s = _Failover(targets.k8s_servers)
        self._scripts = {
            (m, k): probe_script(swarm_manager=m, k8s_server=k)
            for m in (False, True)
            for k in (False, True)
        }
        self._cycles = 0
        self._latest: FleetSnapshot | None = None
        self._lock = threading.Lock()  # one cycle at a time

    @property
    def deadline_s(self) -> float:
        """How long one round of a cycle (the probes, a fail-over ask) may take at most."""
        return self._timeout + CYCLE_GRACE_S

    @property
    def latest(self) -> FleetSnapshot | None:
        """The last complete snapshot (None before the first cycle ends)."""
        return self._latest

    def _skip_count(self, failures: int) -> int:
        """Cycles to skip after `failures` consecutive failures: 0, 1, 3, 7 ... capped."""
        return min((1 << min(failures - 1, 30)) - 1, self._max_skip)

    def cycle(self) -> FleetSnapshot:
        """Probe every due host once; publish and return the new complete snapshot."""
        with self._lock:
            start = time.monotonic()
            number = self._cycles + 1
            due = [h for h in self.targets.hosts if self._state[h].retry_cycle <= number]
            for h in due:
                if self._state[h].failures:
                    self._pool.revive(h)
                    self._state[h].docker_cli = False
            results, failures = self._probe(due)
            swarm_snap = self._cluster(
                number, self._swarm, results, "swarm", swarm.SCRIPT, _swarm_of, _parse_swarm
            )
            k8s_snap = self._cluster(
                number, self._k8s, results, "k8s", k8s.SCRIPT, _k8s_of, _parse_k8s
            )
            hosts = tuple(
                self._host_snapshot(h, number, results, failures) for h in self.targets.hosts
            )
            snap = FleetSnapshot(
                hosts=hosts,
                swarm=swarm_snap,
                k8s=k8s_snap,
                cycle=number,
                cycle_duration_s=time.monotonic() - start,
                timestamp=self._clock(),
            )
            self._cycles = number
            self._latest = snap
            return snap

    def _probe(
        self, hosts: list[str]
    ) -> tuple[dict[str, ProbeResult], dict[str, tuple[str, float]]]:
        """Run the probe on hosts in parallel -> (parsed results, {host: (error, seconds)})."""
        results: dict[str, ProbeResult] = {}
        scripts = self._scripts
        swarm_src = self._swarm.preferred
        k8s_src = self._k8s.preferred

        def probe(host: str, conn: Connection) -> StepResult:
            t0 = time.monotonic()
            script = scripts[(host == swarm_src, host == k8s_src)]
            try:
                docker = self._docker_section(host, conn)
                if docker is not None:
                    script = probe_script(
                        swarm_manager=host == swarm_src, k8s_server=host == k8s_src, docker=docker
                    )
                res = conn.run(script, timeout=self._timeout)
            except ConnectionError:
                raise
            except Exception as err:  # a transport bug must not end the exporter
                log.warning("%s: probe failed: %s", host, err)
                return StepResult(host, "probe", Status.FAILED, msg=f"probe failed: {err}")
            if res.timed_out:
                raise ConnectionError(f"{host}: probe timed out after {self._timeout:g}s")
            if res.truncated:
                why = f"probe output over {PROBE_MAX_OUTPUT >> 20} MiB (not parsed)"
                return StepResult(host, "probe", Status.FAILED, msg=why)
            spent = time.monotonic() - t0
            groups = self.targets.groups.get(host, ())
            try:
                results[host] = parse_probe(
                    host, res.stdout, now=self._clock(), groups=groups, duration_s=spent
                )
            except Exception as err:  # parsers are guarded; this is a last resort
                log.exception("%s: probe output could not be parsed", host)
                results[host] = ProbeResult(
                    HostSnapshot(host, True, groups, warnings=(f"unparsable output: {err}",))
                )
            return StepResult(host, "probe", Status.OK, rc=res.rc, duration_s=spent)

        failures: dict[str, tuple[str, float]] = {}
        parsed: dict[str, ProbeResult] = {}
        for step in self._pool.map(hosts, "probe", probe, deadline=self.deadline_s):
            if step.status is not Status.OK:
                failures[step.host] = (step.msg or str(step.status), step.duration_s)
            elif step.host in results:
                parsed[step.host] = results[step.host]
        # a host abandoned at the deadline may still write into `results` later: not read
        return parsed, failures

    def _docker_section(self, host: str, conn: Connection) -> str | None:
        """The docker section through the Engine API, or None for the probe's CLI path."""
        state = self._state[host]
        if not self._docker_api or state.docker_cli:
            return None
        conn.open()  # an unreachable host fails here once, not again in the probe
        try:
            return containers.engine_section(conn)
        except containers.Refused as err:
            log.info("%s: Docker API stream refused, using the docker CLI: %s", host, err)
            state.docker_cli = True
            return None

    def _host_snapshot(
        self,
        host: str,
        number: int,
        results: Mapping[str, ProbeResult],
        failures: Mapping[str, tuple[str, float]],
    ) -> HostSnapshot:
        state = self._state[host]
        groups = self.targets.groups.get(host, ())
        if host in results:
            snap = results[host].host
            if state.failures:
                log.info("%s: reachable again after %d failed cycle(s)", host, state.failures)
            state.failures, state.retry_cycle, state.error = 0, 0, ""
            state.last_success, state.os, state.kernel = snap.last_success, snap.os, snap.kernel
            return snap
        duration = 0.0
        if host in failures:
            error, duration = failures[host]
            error = error.removeprefix(f"{host}: ")
            state.failures += 1
            state.retry_cycle = number + 1 + self._skip_count(state.failures)
            if state.failures == 1 or error != state.error:
                log.warning("%s: down: %s", host, error)
            state.error = error
        else:
            error = f"{state.error} (backing off until cycle {state.retry_cycle})"
        return HostSnapshot(
            host=host,
            up=False,
            groups=groups,
            error=error,
            collect_duration_s=duration,
            last_success=state.last_success,
            os=state.os,
            kernel=state.kernel,
        )

    def _cluster(
        self,
        number: int,
        failover: _Failover,
        results: Mapping[str, ProbeResult],
        what: str,
        script: str,
        from_probe: Callable[[ProbeResult], tuple[T | None, str]],
        parse: Parse[T],
    ) -> T | None:
        """The swarm/k8s view from the preferred source, else the next reachable one.
        A source outside the probed hosts (another shard's manager) is asked directly."""
        for candidate in failover.order(lambda h: h in results or h not in self._state):
            if candidate == failover.preferred and candidate in results:
                got, error = from_probe(results[candidate])
            elif number < failover.ask_after:
                continue
            else:
                got, error = self._ask(candidate, script, parse)
            if got is not None:
                if candidate != failover.preferred or failover.last_error:
                    log.info("%s: read from %s", what, candidate)
                failover.preferred, failover.last_error = candidate, ""
                failover.ask_after = 0
                return got
            if error != failover.last_error:
                log.info("%s: %s cannot answer: %s", what, candidate, error)
            failover.last_error = error
        if number >= failover.ask_after:
            failover.ask_after = number + FAILOVER_QUIET_CYCLES
        return None

    def _ask(self, host: str, script: str, parse: Parse[T]) -> tuple[T | None, str]:
        """One extra round trip to host for a cluster section (fail-over only)."""
        answer: list[tuple[T | None, str]] = []

        def run(h: str, conn: Connection) -> StepResult:
            res = conn.run(script, timeout=self._timeout)
            if res.timed_out:
                raise ConnectionError(f"{h}: timed out after {self._timeout:g}s")
            answer.append(parse(h, res.stdout))
            return StepResult(h, "cluster", Status.OK)

        if host not in self._state:  # another shard's host: its own backoff is the quiet period
            self._pool.revive(host)
        steps = self._pool.map([host], "cluster", run, deadline=self.deadline_s)
        if answer and steps and steps[0].status is Status.OK:
            return answer[0]
        return None, steps[0].msg if steps else "no answer"


def _swarm_of(result: ProbeResult) -> tuple[SwarmSnapshot | None, str]:
    return result.swarm, result.swarm_error or "no swarm section in its probe"


def _k8s_of(result: ProbeResult) -> tuple[K8sSnapshot | None, str]:
    return result.k8s, result.k8s_error or "no k8s section in its probe"


def _parse_swarm(host: str, text: str) -> tuple[SwarmSnapshot | None, str]:
    sections, _ = split_sections(text)
    try:
        return swarm.parse_swarm(host, sections), ""
    except swarm.SwarmUnavailable as err:
        return None, str(err)


def _parse_k8s(host: str, text: str) -> tuple[K8sSnapshot | None, str]:
    sections, _ = split_sections(text)
    try:
        return k8s.parse_deployments(host, sections.get("k8s", "")), ""
    except k8s.K8sUnavailable as err:
        return None, str(err)
