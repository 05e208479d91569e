"""`fleetkit health`: built-in and extra checks over one collection cycle.

One probe per host (the exporter's cycle, so the same parsers and fail-over),
then the extra command checks on the hosts that answered, then verdicts:
reachable, load per CPU, memory available, each real filesystem's fill, required
containers, swarm services at full replicas, commands. Exit code: 0 all pass,
1 a check failed, 3 hosts unreachable and no other check failed.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetkit.connection.base import Connection
from fleetkit.errors import MonitoringError, PatternError
from fleetkit.executor.pool import HostPool
from fleetkit.inventory.model import Inventory
from fleetkit.monitoring.checks import CommandCheck, HealthConfig
from fleetkit.monitoring.cycle import Collection, Targets, open_pool
from fleetkit.monitoring.snapshot import FleetSnapshot, HostSnapshot
from fleetkit.results import Status, StepResult, exit_code_for


@dataclass(frozen=True)
class CheckResult:
    """One verdict: on which host, which check, and why."""

    host: str
    check: str
    ok: bool
    msg: str = ""
    value: float | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class HealthReport:
    """All verdicts of one `fleetkit health` run."""

    results: tuple[CheckResult, ...]
    hosts: tuple[str, ...]
    duration_s: float
    timestamp: float

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.ok and r.check != "reachable")

    @property
    def unreachable(self) -> tuple[str, ...]:
        return tuple(r.host for r in self.results if r.check == "reachable" and not r.ok)

    def exit_code(self) -> int:
        return exit_code_for(failed=bool(self.failed), unreachable=bool(self.unreachable))


@dataclass(frozen=True)
class CommandOutcome:
    """What an extra command check's command did on one host."""

    rc: int | None
    stdout: str
    stderr: str
    timed_out: bool = False


def host_checks(h: HostSnapshot, config: HealthConfig) -> list[CheckResult]:
    """Reachability, load, memory and filesystem verdicts for one host."""
    if not h.up:
        return [CheckResult(h.host, "reachable", False, h.error or "unreachable")]
    out = [CheckResult(h.host, "reachable", True)]
    limits = config.thresholds
    if h.load is not None and h.cpus:
        per_cpu = h.load[0] / h.cpus
        out.append(
            CheckResult(
                h.host,
                "load",
                per_cpu < limits.load_per_cpu,
                f"load1 {h.load[0]:g} on {h.cpus} CPUs = {per_cpu:.2f} per CPU"
                f" (max {limits.load_per_cpu:g})",
                round(per_cpu, 4),
                limits.load_per_cpu,
            )
        )
    if h.memory_total_bytes and h.memory_available_bytes is not None:
        pct = 100.0 * h.memory_available_bytes / h.memory_total_bytes
        out.append(
            CheckResult(
                h.host,
                "memory",
                pct > limits.memory_available_percent,
                f"{pct:.1f}% memory available (min {limits.memory_available_percent:g}%)",
                round(pct, 2),
                limits.memory_available_percent,
            )
        )
    for fs in h.filesystems:
        if any(fnmatch.fnmatchcase(fs.mountpoint, g) for g in config.ignore_mountpoints):
            continue
        used = 100.0 * fs.fill_ratio
        out.append(
            CheckResult(
                h.host,
                f"filesystem:{fs.mountpoint}",
                used < limits.filesystem_used_percent,
                f"{fs.mountpoint} ({fs.fstype} on {fs.device}) {used:.1f}% used"
                f" (max {limits.filesystem_used_percent:g}%)",
                round(used, 2),
                limits.filesystem_used_percent,
            )
        )
    return out


def container_checks(h: HostSnapshot, globs: Iterable[str]) -> list[CheckResult]:
    """Verdicts for the container name globs that must run on host h."""
    out: list[CheckResult] = []
    for glob in globs:
        check = f"container:{glob}"
        if h.containers is None:
            out.append(CheckResult(h.host, check, False, "docker is not available on the host"))
            continue
        matching = [c for c in h.containers if fnmatch.fnmatchcase(c.name, glob)]
        bad = [c for c in matching if not c.running or c.health == "unhealthy"]
        if not matching:
            out.append(CheckResult(h.host, check, False, f"no container named {glob}"))
        elif bad:
            states = ", ".join(
                f"{c.name} {c.state}{' (unhealthy)' if c.health == 'unhealthy' else ''}"
                for c in bad
            )
            out.append(CheckResult(h.host, check, False, states))
        else:
            out.append(CheckResult(h.host, check, True, f"{len(matching)} running"))
    return out


def swarm_checks(
    snap: FleetSnapshot, targets: Targets, required: Sequence[str]
) -> list[CheckResult]:
    """Every swarm service at full replicas, and the required ones present."""
    if snap.swarm is None:
        if required:
            where = targets.managers[0] if targets.managers else "swarm"
            return [CheckResult(where, "swarm", False, "no manager could describe the swarm")]
        return []
    source = snap.swarm.source
    out: list[CheckResult] = []
    names = {s.name for s in snap.swarm.services}
    for s in snap.swarm.services:
        out.append(
            CheckResult(
                source,
                f"service:{s.name}",
                s.running >= s.desired,
                f"{s.running}/{s.desired} replicas running",
                float(s.running),
                float(s.desired),
            )
        )
    for name in required:
        if name not in names:
            out.append(CheckResult(source, f"service:{name}", False, "no such swarm service"))
    return out


def command_verdict(host: str, check: CommandCheck, outcome: CommandOutcome) -> CheckResult:
    """ok when the command exited with the expected code and its output matches."""
    name = f"command:{check.name}"
    if outcome.timed_out:
        return CheckResult(host, name, False, f"timed out after {check.timeout:g}s")
    if outcome.rc != check.rc:
        detail = (outcome.stderr or outcome.stdout).strip().splitlines()
        tail = f": {detail[-1][:200]}" if detail else ""
        return CheckResult(host, name, False, f"exit code {outcome.rc}, expected {check.rc}{tail}")
    if check.stdout is not None and not re.search(check.stdout, outcome.stdout, re.MULTILINE):
        return CheckResult(
            host,
            name,
            False,
            f"output {outcome.stdout.strip()[:100]!r} does not match {check.stdout!r}",
        )
    return CheckResult(host, name, True, f"exit code {outcome.rc}")


def hosts_of(inventory: Inventory, pattern: str, selected: Sequence[str]) -> set[str]:
    """Selected hosts matching a checks-file pattern; a pattern matching nothing at all
    in the inventory is a mistake in the file (bad input)."""
    from fleetkit.inventory.select import select_hosts

    try:
        return set(select_hosts(inventory, pattern)) & set(selected)
    except PatternError as err:
        raise MonitoringError(f"checks file: {err.message}", hint=err.hint) from None


def per_host_checks(
    inventory: Inventory, config: HealthConfig, hosts: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, list[CommandCheck]]]:
    """Each selected host's container rules (names) and command checks, by the file's patterns."""
    container_rules: dict[str, list[str]] = {h: [] for h in hosts}
    for rule in config.containers:
        for h in hosts_of(inventory, rule.hosts, hosts):
            container_rules[h].append(rule.name)
    commands: dict[str, list[CommandCheck]] = {h: [] for h in hosts}
    for check in config.commands:
        for h in hosts_of(inventory, check.hosts, hosts):
            commands[h].append(check)
    return container_rules, commands


def run_commands(
    pool: HostPool, plan: Mapping[str, list[CommandCheck]]
) -> dict[str, dict[str, CommandOutcome]]:
    """Run each host's extra commands on its open connection, hosts in parallel."""
    outcomes: dict[str, dict[str, CommandOutcome]] = {h: {} for h in plan}

    def run(host: str, conn: Connection) -> StepResult:
        for check in plan[host]:
            res = conn.run(check.command, timeout=check.timeout, become=check.become)
            outcomes[host][check.name] = CommandOutcome(
                res.rc, res.stdout, res.stderr, res.timed_out
            )
        return StepResult(host, "commands", Status.OK)

    for step in pool.map([h for h in plan if plan[h]], "commands", run):
        if step.status is Status.UNREACHABLE:
            for check in plan[step.host]:
                outcomes[step.host].setdefault(
                    check.name, CommandOutcome(None, "", step.msg, timed_out=False)
                )
    return outcomes


def evaluate(
    snap: FleetSnapshot,
    targets: Targets,
    config: HealthConfig,
    container_rules: Mapping[str, list[str]],
    commands: Mapping[str, list[CommandCheck]],
    outcomes: Mapping[str, Mapping[str, CommandOutcome]],
) -> list[CheckResult]:
    """Every verdict for one cycle's snapshot and the command outcomes."""
    results: list[CheckResult] = []
    for h in snap.hosts:
        results += host_checks(h, config)
        if not h.up:
            continue
        results += container_checks(h, container_rules.get(h.host, []))
        for check in commands.get(h.host, []):
            outcome = outcomes.get(h.host, {}).get(check.name)
            if outcome is not None:
                results.append(command_verdict(h.host, check, outcome))
    results += swarm_checks(snap, targets, config.services)
    return results


def run_health(
    inventory: Inventory,
    hosts: Sequence[str],
    config: HealthConfig,
    *,
    timeout: float = 10.0,
    pool: HostPool | None = None,
) -> HealthReport:
    """Probe hosts once, run the extra commands, and judge everything."""
    start = time.monotonic()
    container_rules, commands = per_host_checks(inventory, config, hosts)
    own_pool = pool is None
    if pool is None:
        pool = open_pool(inventory, hosts, timeout)
    try:
        targets = Targets.from_inventory(inventory, hosts)
        snap = Collection(targets, pool, timeout=timeout).cycle()
        up = {h.host for h in snap.hosts if h.up}
        outcomes = run_commands(pool, {h: c for h, c in commands.items() if h in up and c})
    finally:
        if own_pool:
            pool.close()
    results = evaluate(snap, targets, config, container_rules, commands, outcomes)
    if config.testinfra:
        results += testinfra_checks(inventory, [h for h in hosts if h in up], config.testinfra)
    return HealthReport(
        results=tuple(results),
        hosts=tuple(hosts),
        duration_s=time.monotonic() - start,
        timestamp=time.time(),
    )


def testinfra_checks(
    inventory: Inventory, hosts: Sequence[str], files: Sequence[Path]
) -> list[CheckResult]:
    """Each test of the testinfra files on each reachable host as a check named
    `test:<node id>` (a skipped test passes); run as `fleetkit verify` runs them.
    Files that do not load are bad input (MonitoringError)."""
    if not hosts:
        return []
    from fleetkit.executor.adhoc import connection_factory
    from fleetkit.verify.job import Layout, VerifyError, require_testinfra
    from fleetkit.verify.runner import default_verify_forks, run_verify

    factory = connection_factory(inventory, hosts)
    try:
        require_testinfra()
        run = run_verify(
            {h: factory.spec(h) for h in hosts},
            hosts,
            Layout.of(list(files), Path.cwd()),
            lambda step: None,
            forks=default_verify_forks(len(hosts)),
        )
    except VerifyError as err:
        raise MonitoringError(f"checks: {err.message}", hint=err.hint) from None
    return [
        CheckResult(
            s.host,
            f"test:{s.task}",
            s.status in (Status.OK, Status.SKIPPED),
            s.msg or ("skipped" if s.status is Status.SKIPPED else "passed"),
        )
        for s in run.steps
    ]


def check_textfile_dir(path: Path) -> None:
    """Fail early (bad input, nothing run) when the textfile cannot be written there."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MonitoringError(f"--textfile {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise MonitoringError(f"--textfile {path}: folder {folder} is not writable")
